"""Command line of the camera geometry: `calibrate`.

    python run.py calibrate CALIB [--image FRAME [--bev-out PNG]] [--pixel U V ...]

CALIB is a KITTI calib file (.txt) or a camera YAML (configs/camera/*.yaml). It
prints the road-plane homography and BEV grid, the road point and distance of
chosen pixels, and with --image writes the frame's bird's-eye view.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.errors import InputNotFoundError, OutputError

DEFAULT_BEV_DIR = Path("runs") / "calibrate"


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("calibrate", help="show a camera's road-plane homography and BEV grid; BEV of a frame",
                              description="Show the road-plane geometry of a KITTI calib file or camera YAML.")
    p.add_argument("calib", type=Path, help="KITTI calib file (.txt) or camera YAML (.yaml)")
    p.add_argument("--image", type=Path, help="a frame of this camera: write its bird's-eye view")
    p.add_argument("--bev-out", type=Path,
                   help=f"where to write the BEV image (default {DEFAULT_BEV_DIR}/FRAME_bev.png)")
    p.add_argument("--pixel", type=float, nargs=2, action="append", metavar=("U", "V"), default=[],
                   help="print the road point and distance seen at this pixel (repeatable)")
    p.set_defaults(func=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> int:
    import cv2
    import numpy as np

    from calib.camera import load_camera_geometry

    camera = load_camera_geometry(args.calib)
    homography = camera.homography
    grid = camera.bev_grid
    frame = None
    if args.image is not None:
        frame = cv2.imread(str(args.image), cv2.IMREAD_COLOR)
        if frame is None:
            raise InputNotFoundError(f"cannot read image {args.image}")
        homography = camera.homography_for((frame.shape[1], frame.shape[0]))

    print(f"camera: {camera.name} ({args.calib})")
    size = homography.image_size
    print(f"pixel coordinates of: {f'frames of {size[0]}x{size[1]}' if size else 'each frame as it is'}")
    with np.printoptions(precision=6, suppress=True):
        print(f"road (X, Z, 1) -> image (u*w, v*w, w):\n{homography.road_to_image}")
    print(f"BEV grid: X {grid.x_min:g}..{grid.x_max:g} m, Z {grid.z_min:g}..{grid.z_max:g} m, {grid.resolution:g} m "
          f"cells -> {grid.shape[0]} rows x {grid.shape[1]} cols (row 0 = {grid.z_max:g} m)")
    for u, v in args.pixel:
        x, z = homography.pixels_to_road(u, v)
        where = f"X {float(x):+.2f} m, Z {float(z):.2f} m, distance {float(np.hypot(x, z)):.2f} m" \
            if np.isfinite(x) else "above the horizon (not on the road)"
        print(f"pixel ({u:g}, {v:g}): {where}")

    if frame is not None:
        warp = camera.bev_warp((frame.shape[1], frame.shape[0]))
        out = args.bev_out or DEFAULT_BEV_DIR / f"{args.image.stem}_bev.png"
        from core.atomic import atomic_path
        from core.output_paths import refuse_unsafe_outputs

        refuse_unsafe_outputs(files={"--bev-out": out},
                              inputs={"the --image": args.image, "the calib file": args.calib})
        with atomic_path(out) as tmp:  # the same suffix: cv2 picks the image format from it
            if not cv2.imwrite(str(tmp), warp.warp(frame)):
                raise OutputError(f"cannot write {out}")
        print(f"BEV: {out} ({100 * warp.valid.mean():.1f}% of the grid seen by the camera)")
    return 0
