"""The road-plane homography: image pixels ↔ points (X, Z) on a flat road.

Road coordinates: X lateral (right positive), Z forward, in metres, on the plane
Y = 0; the origin lies on the road (for KITTI, close to below the camera; for a
camera YAML, exactly below it). The homography maps (X, Z, 1) to the image point
(u·w, v·w, w), where u, v are in the projection matrix's own pixel coordinates
(u along columns, v along rows) and w > 0 for points in front of the camera.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calib.kitti_calib import KittiCalib
from core.errors import BadInputError


def kitti_road_to_image(calib: KittiCalib) -> np.ndarray:
    """The KITTI Road benchmark's homography, (3, 3), road (X, Z, 1) → image (u·w, v·w, w).

    Tr = P2 · R0_rect · inv(Tr_cam_to_road), with R0_rect padded to 4×4 and
    Tr_cam_to_road given the row [0, 0, 0, 1]; on the plane Y = 0 the Y column
    drops out, leaving columns 0, 2, 3.
    """
    rect = np.eye(4)
    rect[:3, :3] = calib.R0_rect
    cam_to_road = np.vstack([calib.Tr_cam_to_road, [0.0, 0.0, 0.0, 1.0]])
    road_to_image_3x4 = calib.P2 @ rect @ np.linalg.inv(cam_to_road)
    return road_to_image_3x4[:, [0, 2, 3]]


@dataclass(frozen=True)
class RoadPlaneHomography:
    """Image ↔ road-plane mapping of one camera.

    road_to_image: (3, 3) homography (X, Z, 1) → (u·w, v·w, w).
    image_size: (width, height) the homography's pixel coordinates belong to, or
        None when it holds for the frame as it is (KITTI: one calib per frame).
    source: where it came from, for messages.
    """

    road_to_image: np.ndarray
    image_size: tuple[int, int] | None = None
    source: str = ""

    def __post_init__(self):
        matrix = np.asarray(self.road_to_image, dtype=np.float64)
        if matrix.shape != (3, 3) or not np.all(np.isfinite(matrix)):
            raise BadInputError(f"road-plane homography of {self.source or 'camera'} must be a finite 3x3 matrix, "
                                f"got shape {matrix.shape}")
        if abs(np.linalg.det(matrix)) < 1e-12:
            raise BadInputError(f"road-plane homography of {self.source or 'camera'} is singular: the camera "
                                f"does not see the road plane (check the mounting height and pitch)")
        object.__setattr__(self, "road_to_image", matrix)

    @classmethod
    def from_kitti(cls, calib: KittiCalib) -> RoadPlaneHomography:
        return cls(kitti_road_to_image(calib), image_size=None, source=calib.source)

    @property
    def image_to_road(self) -> np.ndarray:
        """(3, 3) inverse homography: (u, v, 1) → (X·s, Z·s, s)."""
        return np.linalg.inv(self.road_to_image)

    def for_image_size(self, width: int, height: int) -> RoadPlaneHomography:
        """The homography for frames of `width`×`height` (a video resized from the calibrated size).

        Scaling keeps pixel centres on pixel centres: u' = (u + 0.5)·sx − 0.5.
        """
        if self.image_size is None or self.image_size == (width, height):
            return self
        sx, sy = width / self.image_size[0], height / self.image_size[1]
        scale = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]])
        return RoadPlaneHomography(scale @ self.road_to_image, image_size=(width, height), source=self.source)

    def road_to_pixels(self, x, z) -> tuple[np.ndarray, np.ndarray]:
        """Image position (u, v) of road points (X, Z), broadcast together; NaN for points behind the camera.

        A grid given as a row of X and a column of Z costs one full-size array per step.
        """
        x, z = np.asarray(x, dtype=np.float64), np.asarray(z, dtype=np.float64)
        h = self.road_to_image
        uw = h[0, 0] * x + h[0, 1] * z + h[0, 2]
        vw = h[1, 0] * x + h[1, 1] * z + h[1, 2]
        w = h[2, 0] * x + h[2, 1] * z + h[2, 2]
        in_front = w > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(in_front, uw / w, np.nan)
            v = np.where(in_front, vw / w, np.nan)
        return u, v

    def pixels_to_road(self, u, v) -> tuple[np.ndarray, np.ndarray]:
        """Road position (X, Z) seen at image points (u, v); NaN at and above the horizon.

        A pixel above the horizon is a ray that never meets the road ahead; its
        algebraic intersection lies behind the camera, which the sign of the
        forward projection's w gives away.
        """
        u, v = np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64)
        g = self.image_to_road
        xs = g[0, 0] * u + g[0, 1] * v + g[0, 2]
        zs = g[1, 0] * u + g[1, 1] * v + g[1, 2]
        s = g[2, 0] * u + g[2, 1] * v + g[2, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            x, z = xs / s, zs / s
            h = self.road_to_image
            w = h[2, 0] * x + h[2, 1] * z + h[2, 2]
        on_road = np.isfinite(x) & np.isfinite(z) & (w > 0)
        return np.where(on_road, x, np.nan), np.where(on_road, z, np.nan)

    def ground_distance(self, u, v) -> np.ndarray:
        """Distance in metres along the road from the road origin to the point seen at (u, v); NaN above the horizon."""
        x, z = self.pixels_to_road(u, v)
        return np.hypot(x, z)

    def box_distances(self, boxes_xyxy) -> np.ndarray:
        """(N,) road distance of each box's bottom centre, where a vehicle touches the road; NaN above the horizon.

        boxes_xyxy: (N, ≥4) rows x1, y1, x2, y2 in this homography's pixel
        coordinates (a detector's boxes on the frame the homography is for).
        """
        boxes = np.asarray(boxes_xyxy, dtype=np.float64)
        if boxes.size == 0:
            return np.empty(0)
        if boxes.ndim == 1:
            boxes = boxes[None]
        if boxes.ndim != 2 or boxes.shape[1] < 4:
            raise ValueError(f"boxes must have rows x1, y1, x2, y2; got shape {np.shape(boxes_xyxy)}")
        return self.ground_distance((boxes[:, 0] + boxes[:, 2]) / 2.0, boxes[:, 3])
