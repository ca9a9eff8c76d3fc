"""Helper scripts (the viewer screenshot): run them from the repository root as modules, e.g.
`python -m scripts.screenshot_viewer`."""
