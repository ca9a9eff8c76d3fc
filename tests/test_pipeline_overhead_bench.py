"""benchmarks/pipeline_overhead.py runs (a few frames) and reports what it says, so it does not rot."""

import json

from benchmarks import pipeline_overhead


def test_the_overhead_benchmark_puts_every_frame_through_and_writes_its_figures(tmp_path, capsys):
    out = tmp_path / "overhead.json"
    assert pipeline_overhead.main(["--frames", "40", "--runs", "2", "--render", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["frames"] == 40 and report["runs"] == 2 and report["render"] is True
    assert 0 < report["fps"]["min"] <= report["fps"]["median"] <= report["fps"]["max"]
    assert report["us_per_frame"]["median"] > 0
    assert "40 frames x 2 runs (render=True)" in capsys.readouterr().out
