"""The viewer's camera calibration: one file for every frame, or a folder of KITTI calib files matched by name.

KITTI Road ships one calib file per image (`image_2/um_000012.png` ↔ `calib/um_000012.txt`),
so `--calib data_road/training/calib` with `--source data_road/training/image_2` gives each
frame its own camera. A single KITTI calib file or camera YAML serves every frame.
"""

from __future__ import annotations

import threading
from pathlib import Path

from core.errors import UserError

CALIB_SUFFIXES = (".txt", ".yaml", ".yml")


class Calibration:
    """camera_for(frame_name) → calib.camera.CameraGeometry, or None where the folder has no file of that name.

    Raises UserError when the path is missing, a folder holds no calibration file, or the file (the
    folder's first, checked at once so a wrong folder fails when opened) cannot be read.
    """

    def __init__(self, path: str | Path):
        from calib.camera import load_camera_geometry

        self.path = Path(path)
        self._lock = threading.Lock()  # camera_for runs on the output thread and on the GUI thread
        self._cache: dict[str, object] = {}
        self._single = None
        if self.path.is_dir():
            self.files = {p.stem: p for p in sorted(self.path.iterdir())
                          if p.is_file() and p.suffix.lower() in CALIB_SUFFIXES}
            if not self.files:
                raise UserError(f"the calibration folder {self.path} holds no calib file (.txt, .yaml); give a "
                                f"KITTI calib folder (data_road/training/calib) or one calib file")
            first = next(iter(self.files))
            self._cache[first] = self._load(self.files[first], load_camera_geometry)
        elif self.path.is_file():
            self.files = {}
            self._single = self._load(self.path, load_camera_geometry)
        else:
            raise UserError(f"calibration not found: {self.path} (give a KITTI calib file, a camera YAML, "
                            f"or a folder of KITTI calib files named like the frames)")

    @staticmethod
    def _load(path: Path, load):
        try:
            return load(path)
        except (OSError, ValueError) as e:
            raise UserError(f"cannot use the calibration {path.name}: {e}") from e

    @property
    def is_folder(self) -> bool:
        return self._single is None

    @property
    def name(self) -> str:
        return f"{self.path.name}/ ({len(self.files)} files)" if self.is_folder else self.path.name

    def camera_for(self, frame_name: str | None = None):
        """The camera of the frame named `frame_name` (an image file's stem; None for a video frame)."""
        if self._single is not None:
            return self._single
        if frame_name is None or frame_name not in self.files:
            return None
        with self._lock:
            camera = self._cache.get(frame_name)
            if camera is None:
                from calib.camera import load_camera_geometry

                camera = self._cache[frame_name] = self._load(self.files[frame_name], load_camera_geometry)
            return camera

    def any_camera(self):
        """A camera of this calibration (the single one, or the folder's first): for the BEV grid's shape."""
        if self._single is not None:
            return self._single
        with self._lock:
            return next(iter(self._cache.values()))
