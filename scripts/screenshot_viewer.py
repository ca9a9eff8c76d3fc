"""Screenshot of the real viewer window: play a clip for a few seconds, grab the window, save a PNG.

    xvfb-run -a -s "-screen 0 1600x900x24" python -m scripts.screenshot_viewer [--out docs/viewer.png]

(scripts/screenshot_viewer.sh does exactly that, installing Xvfb first if needed.)
Without trained weights (weights/perception_n.pt is written by training) it builds a
random-init model in a temporary folder, so the screenshot shows the layout with few or
no boxes; rerun it once the trained weights are there.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def random_weights(folder: Path) -> Path:
    """A random-init checkpoint and its ONNX export (so the backend switch has two choices)."""
    import nets  # noqa: F401
    from nets.config import load_model_config
    from nets.deploy.onnx_export import export_onnx
    from nets.model import PerceptionNet
    from nets.weights import save_checkpoint

    net = PerceptionNet(load_model_config())
    pt = save_checkpoint(folder / "perception_random.pt", net)
    export_onnx(net, pt.with_suffix(".onnx"))
    return pt


def main() -> int:
    from nets.config import DEFAULT_WEIGHTS, SAMPLE_CLIP

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default=str(SAMPLE_CLIP))
    parser.add_argument("--weights", help=f"default {DEFAULT_WEIGHTS.relative_to(ROOT)} (random-init if missing)")
    parser.add_argument("--backend", default="auto")
    # the camera estimated for the bundled clip: another one (example_dashcam.yaml) gives it wrong distances
    parser.add_argument("--calib", default=str(ROOT / "configs" / "camera" / "udacity_highway_clips.yaml"),
                        help="calibration for the bird's-eye view ('' for none)")
    parser.add_argument("--seconds", type=float, default=5.0, help="play this long before the grab")
    parser.add_argument("--size", default="1600x900", help="window size WxH")
    parser.add_argument("--out", default=str(ROOT / "docs" / "viewer.png"))
    parser.add_argument("--timeout", type=float, default=120.0, help="give up waiting for the first frame")
    args = parser.parse_args()

    from app.viewer.launch import build_window, make_application
    from app.viewer.settings import ViewerSettings

    tmp = tempfile.TemporaryDirectory()
    weights = Path(args.weights) if args.weights else DEFAULT_WEIGHTS
    if not weights.is_file():
        if args.weights:
            raise FileNotFoundError(f"weights file not found: {weights}")
        print(f"{DEFAULT_WEIGHTS.relative_to(ROOT)} is not there yet (training writes it): using a random-init "
              "model, so expect few or no boxes")
        weights = random_weights(Path(tmp.name))

    settings = ViewerSettings.from_config()
    app = make_application(settings)
    from PyQt5.QtCore import QTimer

    window = build_window(source=args.source, weights=weights, backend=args.backend, calib=args.calib or None,
                          settings=settings)
    window.set_loop(True)  # the bundled clip is 3 s: looped, as `python run.py` plays it
    width, height = (int(v) for v in args.size.lower().split("x"))
    window.resize(width, height)
    window.show()

    started = time.perf_counter()
    playing_since: list[float] = []
    outcome = {"code": 1}

    def poll() -> None:
        now = time.perf_counter()
        if window.frames_displayed and not playing_since:
            playing_since.append(now)
        if playing_since and now - playing_since[0] >= args.seconds:
            grab(0)
        elif now - started > args.timeout:
            print(f"no frame after {args.timeout:g} s: saving what the window shows", file=sys.stderr)
            grab(1)

    def grab(code: int) -> None:
        timer.stop()
        window._refresh_figures()  # the figures as of this frame, not of the last tick
        app.processEvents()
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.stem}.partial{out.suffix}")  # the old screenshot stays until this is whole
        if window.grab().save(str(partial)):
            partial.replace(out)
        else:
            print(f"cannot write {partial}", file=sys.stderr)
            code = 1
        s = window.session.pipeline.snapshot() if window.session is not None else None
        figures = (f"{s.frames_out} frames, {s.fps_end_to_end:.1f} FPS, p50 {s.latency_p50_ms:.0f} ms, {s.backend}"
                   if s is not None else "no session")
        print(f"wrote {out} ({window.width()}x{window.height()}; {figures})")
        outcome["code"] = code
        window.close()
        app.quit()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(100)
    app.exec_()
    tmp.cleanup()
    return outcome["code"]


if __name__ == "__main__":
    sys.exit(main())
