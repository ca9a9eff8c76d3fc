"""Scripts that print numbers: run them from the repository root as modules, e.g.
`python -m benchmarks.bench_kitti_eval`."""
