"""The bird's-eye view of a frame: its road layer on the metric road grid, and objects as footprints.

    renderer = BirdsEyeRenderer(load_camera_geometry("calib.txt"), style)
    bev = renderer.render(result)          # BirdsEyeFrame: image (rows, cols, 3) BGR + footprints in metres

Runs on the pipeline's output thread (numpy and two cv2.remap calls, a few ms per frame:
docs/results/README.md); the panel only paints what it gets.

A footprint stands where the box's bottom centre meets the road (the point the
distance is measured to); its width is the box's bottom edge projected on the
road, its length a typical one for the class (settings.footprint_m), drawn away
from the camera because the box shows the object's near face.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from calib.bev import BevGrid

from ..frames import FrameResult
from ..overlay import OverlayLayers, OverlayStyle

UNSEEN_BGR = (28, 28, 28)  # cells outside the camera's view
WIDTH_LIMITS_M = (0.3, 3.5)  # a projected bottom edge outside this is a box cut by the image border or an outlier


@dataclass(frozen=True)
class Footprint:
    """One object on the road plane. x_m: lateral centre, z_m: forward position of its near face (metres)."""

    class_name: str
    score: float
    x_m: float
    z_m: float
    width_m: float
    length_m: float
    distance_m: float
    color_bgr: tuple[int, int, int]


@dataclass(frozen=True)
class BirdsEyeFrame:
    """image: (rows, cols, 3) BGR on `grid` (row 0 the far end); footprints of the frame `index`."""

    image: np.ndarray
    grid: BevGrid
    footprints: tuple[Footprint, ...]
    index: int
    show_distance: bool = True


class BirdsEyeRenderer:
    """Builds BirdsEyeFrames for one camera. `layers()` says which layers to draw (the overlay's toggles)."""

    def __init__(self, camera, style: OverlayStyle, footprint_m: dict[str, tuple[float, float]],
                 dim: float = 0.55, layers: Callable[[], OverlayLayers] = OverlayLayers):
        self.camera = camera
        self.style = style
        self.footprint_m = dict(footprint_m)
        self.dim = float(dim)
        self.layers = layers
        self._tint: np.ndarray | None = None
        self._unseen_cache: tuple | None = None

    @property
    def grid(self) -> BevGrid:
        return self.camera.bev_grid

    def render(self, result: FrameResult) -> BirdsEyeFrame:
        image = result.frame.image
        size = (image.shape[1], image.shape[0])
        warp = self.camera.bev_warp(size)
        layers = self.layers()
        bev = cv2.convertScaleAbs(warp.warp(image), alpha=self.dim)
        unseen, unseen_mask = self._unseen(warp)
        cv2.copyTo(unseen, unseen_mask, bev)
        perception = result.perception
        if layers.road and perception.road_probs.size:
            road = (warp.warp(np.ascontiguousarray(perception.road)) >= result.road_threshold) & warp.valid
            self._tint_road(bev, road.view(np.uint8))
        footprints = self.footprints(result, size) if layers.boxes else ()
        return BirdsEyeFrame(bev, self.grid, footprints, result.index, show_distance=layers.distance)

    def _unseen(self, warp) -> tuple[np.ndarray, np.ndarray]:
        """(grey image, mask) of the cells the camera does not see, cached per warp (a boolean index costs more)."""
        if self._unseen_cache is None or self._unseen_cache[0] is not warp:
            mask = (~warp.valid).astype(np.uint8)
            self._unseen_cache = (warp, np.full((*mask.shape, 3), UNSEEN_BGR, np.uint8), mask)
        return self._unseen_cache[1], self._unseen_cache[2]

    def _tint_road(self, bev: np.ndarray, mask: np.ndarray) -> None:
        if self._tint is None or self._tint.shape != bev.shape:
            self._tint = np.full(bev.shape, self.style.road_color, np.uint8)
        a = self.style.road_alpha
        # stronger than on the camera view: the dimmed background needs it for the road to read at a glance
        blended = cv2.addWeighted(bev, 1.0 - min(1.0, 1.5 * a), self._tint, min(1.0, 1.5 * a), 0.0)
        cv2.copyTo(blended, mask, bev)

    def footprints(self, result: FrameResult, frame_size: tuple[int, int]) -> tuple[Footprint, ...]:
        perception = result.perception
        boxes = perception.boxes
        if not len(boxes):
            return ()
        homography = self.camera.homography_for(frame_size)
        x1, y1, x2, y2 = (boxes[:, i].astype(np.float64) for i in range(4))
        centre_x, centre_z = homography.pixels_to_road((x1 + x2) / 2, y2)
        left_x, _ = homography.pixels_to_road(x1, y2)
        right_x, _ = homography.pixels_to_road(x2, y2)
        names = perception.class_names
        grid = self.grid
        out = []
        for i, (score, cls) in enumerate(boxes[:, 4:6]):
            cls = int(cls)
            name = names[cls] if 0 <= cls < len(names) else str(cls)
            if name not in self.footprint_m or not (math.isfinite(centre_x[i]) and math.isfinite(centre_z[i])):
                continue  # a class without a footprint, or a box whose bottom lies above the horizon
            if not (grid.x_min <= centre_x[i] <= grid.x_max and grid.z_min <= centre_z[i] <= grid.z_max):
                continue  # off the grid the panel shows
            typical_width, length = self.footprint_m[name]
            width = abs(right_x[i] - left_x[i])
            if not (math.isfinite(width) and WIDTH_LIMITS_M[0] <= width <= WIDTH_LIMITS_M[1]):
                width = typical_width
            out.append(Footprint(name, float(score), float(centre_x[i]), float(centre_z[i]), float(width),
                                 float(length), float(math.hypot(centre_x[i], centre_z[i])),
                                 self.style.color_of(name, cls)))
        return tuple(out)
