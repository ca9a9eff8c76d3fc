"""The open calibration, frame by frame: each frame's camera, its ground distances and its bird's-eye view.

A calibration folder gives each frame of an image folder its own calib file (matched by name), so every question
is asked per (session, frame). The answers are cached per camera and frame size: `distance_for` runs on the
pipeline's output thread for each frame and on the GUI thread for the summary.
"""

from __future__ import annotations

from pathlib import Path

from ..overlay import GroundDistance, OverlayStyle
from .birdseye import BirdsEyeRenderer
from .calibration import Calibration


class FrameGeometry:
    """style, footprint_m, bev_dim: how the bird's-eye view is drawn (OverlayStyle, ViewerSettings' fields)."""

    def __init__(self, style: OverlayStyle, footprint_m, bev_dim):
        self.style, self.footprint_m, self.bev_dim = style, footprint_m, bev_dim
        self.calibration: Calibration | None = None  # once a calibration file or folder is open
        self.path: Path | None = None
        self.last_dir: str | None = None  # the calibration dialog opens where the last one was
        self._distances: dict = {}  # (camera id, frame size) → GroundDistance

    def open(self, path) -> Calibration:
        """Use the calibration at `path` from now on; raises core.errors.UserError (and changes nothing) when it
        cannot be used."""
        calibration = Calibration(path)
        self.calibration, self.path = calibration, Path(path)
        self._distances.clear()
        self.last_dir = str(self.path if calibration.is_folder else self.path.parent)
        return calibration

    def camera_for(self, session, result):
        """The camera of `result`'s frame, or None (no calibration, or a folder without that frame's file)."""
        calibration = self.calibration
        return calibration.camera_for(session.frame_name(result.index)) if calibration is not None else None

    def distance_for(self, session, result):
        """The frame's DistanceEstimator (its calib file's road plane at its size), or None. Any thread."""
        camera = self.camera_for(session, result)
        if camera is None:
            return None
        key = (id(camera), result.frame.size)
        distance = self._distances.get(key)
        if distance is None:
            distance = self._distances[key] = GroundDistance(camera.homography_for(result.frame.size))
        return distance

    def bev_preparer(self, session):
        """prepare(result) → the frame's BirdsEyeFrame (or None), for the session's bridge to run on the output
        thread; one renderer per camera (a calibration folder gives each frame its own). None without a
        calibration."""
        if self.calibration is None:
            return None
        renderers: dict[int, BirdsEyeRenderer] = {}

        def prepare(result):
            camera = self.camera_for(session, result)
            if camera is None:
                return None
            renderer = renderers.get(id(camera))
            if renderer is None:
                renderer = renderers[id(camera)] = BirdsEyeRenderer(
                    camera, self.style, self.footprint_m, self.bev_dim, layers=lambda: session.renderer.layers)
            return renderer.render(result)

        return prepare
