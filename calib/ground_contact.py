"""Where a detected object touches the road: its box's bottom edge on the road plane.

A vehicle's box ends where its tyres meet the road, so the bottom edge of the box,
pushed through the road-plane homography, gives the object's position on the road
(X lateral, Z forward, metres) and the width of its footprint. Both are what the
tracker's distance, closing speed and plausibility checks are built on
(app/tracking.py); they are pure geometry, so they live here beside the homography.
"""

from __future__ import annotations

import numpy as np

from calib.road_plane import RoadPlaneHomography


def _boxes(boxes_xyxy) -> np.ndarray:
    boxes = np.asarray(boxes_xyxy, dtype=np.float64)
    if boxes.size == 0:
        return np.empty((0, 4))
    if boxes.ndim == 1:
        boxes = boxes[None]
    if boxes.ndim != 2 or boxes.shape[1] < 4:
        raise ValueError(f"boxes must have rows x1, y1, x2, y2; got shape {np.shape(boxes_xyxy)}")
    return boxes


def box_ground_points(homography: RoadPlaneHomography, boxes_xyxy) -> tuple[np.ndarray, np.ndarray]:
    """(X, Z) in metres of each box's bottom centre on the road; NaN where the bottom edge lies above the horizon."""
    boxes = _boxes(boxes_xyxy)
    return homography.pixels_to_road((boxes[:, 0] + boxes[:, 2]) / 2.0, boxes[:, 3])


def box_ground_width_m(homography: RoadPlaneHomography, boxes_xyxy) -> np.ndarray:
    """(N,) width in metres of each box's bottom edge laid on the road (its two corners' road distance apart);
    NaN above the horizon. A car seen from behind measures about its own width (1.5-2 m)."""
    boxes = _boxes(boxes_xyxy)
    xl, zl = homography.pixels_to_road(boxes[:, 0], boxes[:, 3])
    xr, zr = homography.pixels_to_road(boxes[:, 2], boxes[:, 3])
    return np.hypot(xr - xl, zr - zl)


def ground_box(homography: RoadPlaneHomography, x_m: float, z_m: float, width_m: float,
               height_ratio: float = 0.8) -> np.ndarray:
    """The image box (x1, y1, x2, y2) of an object standing on the road at (x_m, z_m) whose footprint is
    `width_m` wide: its bottom edge is the footprint's front edge projected; its height is `height_ratio` times
    its pixel width (a car seen from behind is about as tall as 0.8 of its width). For synthetic sequences and
    drawing; NaN when the point is behind the camera."""
    u, v = homography.road_to_pixels(np.array([x_m - width_m / 2, x_m + width_m / 2]), np.array([z_m, z_m]))
    width_px = float(u[1] - u[0])
    bottom = float((v[0] + v[1]) / 2)
    return np.array([u[0], bottom - height_ratio * width_px, u[1], bottom])
