"""The camera the application runs with: its road-plane homography and BEV grid.

Two sources give the same object:
- a KITTI calib file (`.txt`): the benchmark's homography and grid;
- our own camera YAML (`.yaml`, see configs/camera/example_dashcam.yaml) for a
  dash cam that is not KITTI's: intrinsics plus mounting height and pitch, or a
  3×3 road → image homography measured directly (e.g. from four marked points).

The app asks it for vehicle distances (`box_distances`) and a bird's-eye view of
a frame (`bird_eye_view`), for frames of any size: a homography calibrated at
another resolution is rescaled to the frame.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from calib.bev import KITTI_BEV_GRID, BevGrid, BevWarp, bev_warp_for
from calib.kitti_calib import load_kitti_calib
from calib.road_plane import RoadPlaneHomography
from core.config import ANY, ConfigError, validate
from core.errors import BadInputError, InputNotFoundError

YAML_SUFFIXES = (".yaml", ".yml")
KITTI_SUFFIXES = (".txt",)

# the keys a camera YAML may hold (values are checked where they are read: _number, BevGrid.from_config)
CAMERA_SCHEMA = {
    "name": str,
    "image_size": ANY,
    "intrinsics": {"fx": ANY, "fy": ANY, "cx": ANY, "cy": ANY},
    "mounting": {"height_m": ANY, "pitch_deg": ANY},
    "homography": ANY,
    "bev": ANY,
}
# a camera on a car, van or truck: outside HEIGHT_LIMITS_M the number is wrong (centimetres, a sign),
# outside HEIGHT_USUAL_M it is unusual enough to say so
HEIGHT_LIMITS_M = (0.2, 10.0)
HEIGHT_USUAL_M = (0.5, 4.0)
PITCH_USUAL_DEG = (-5.0, 30.0)  # positive looks down; a dash cam looks slightly down at the road


class ImplausibleCameraWarning(UserWarning):
    """A camera YAML whose numbers are possible but unusual (e.g. looking up, mounted very low)."""


@dataclass(frozen=True)
class CameraGeometry:
    """Road-plane geometry of one camera: the homography and the BEV grid to draw with."""

    homography: RoadPlaneHomography
    bev_grid: BevGrid = KITTI_BEV_GRID
    name: str = ""

    def homography_for(self, frame_size: tuple[int, int]) -> RoadPlaneHomography:
        """The homography in the pixels of frames of `frame_size` = (width, height)."""
        return self.homography.for_image_size(*frame_size)

    def box_distances(self, boxes_xyxy, frame_size: tuple[int, int]) -> np.ndarray:
        """(N,) road distance in metres of each box's bottom centre; NaN when it lies above the horizon."""
        return self.homography_for(frame_size).box_distances(boxes_xyxy)

    def bev_warp(self, frame_size: tuple[int, int]) -> BevWarp:
        """The cached image ↔ BEV maps for frames of `frame_size` = (width, height)."""
        return bev_warp_for(self.homography, frame_size, self.bev_grid)

    def bird_eye_view(self, frame: np.ndarray) -> np.ndarray:
        """The BEV image of a frame (H, W[, C]): (rows, cols[, C]), row 0 the far end, 0 where unseen."""
        return self.bev_warp((frame.shape[1], frame.shape[0])).warp(frame)


def mounted_camera_homography(fx: float, fy: float, cx: float, cy: float,
                              height_m: float, pitch_deg: float) -> np.ndarray:
    """(3, 3) road (X, Z, 1) → image homography of a camera `height_m` above a flat road, pitched down by `pitch_deg`.

    The road frame has its origin on the road below the camera, X right, Y down
    (the road is Y = 0, the camera at Y = −height), Z forward. A road point seen
    from the camera's level frame is (X, height, Z); pitching the camera down
    rotates it about the x axis into camera coordinates, then K projects it.
    """
    pitch = math.radians(pitch_deg)
    c, s = math.cos(pitch), math.sin(pitch)
    level_to_camera = np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    intrinsics = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    # (X, Z, 1) → level frame (X, height, Z) = X·e_x + Z·e_z + height·e_y
    road_to_level = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, height_m], [0.0, 1.0, 0.0]])
    return intrinsics @ level_to_camera @ road_to_level


def _number(section: dict, key: str, source: str, *, positive: bool = False) -> float:
    if key not in section:
        raise ConfigError(f"camera file {source} lacks {key!r}")
    try:
        value = float(section[key])
    except (TypeError, ValueError):
        raise ConfigError(f"camera file {source}: {key!r} must be a number, got {section[key]!r}") from None
    if not math.isfinite(value) or (positive and value <= 0):
        kind = "positive finite" if positive else "finite"
        raise ConfigError(f"camera file {source}: {key!r} must be a {kind} number, got {value}")
    return value


def _section(data: dict, key: str, source: str) -> dict:
    section = data.get(key)
    if not isinstance(section, dict):
        raise ConfigError(f"camera file {source}: {key!r} must be a mapping (see configs/camera/example_dashcam.yaml)")
    return section


def check_mounting(height_m: float, pitch_deg: float, fy: float, cy: float, image_height: int, source: str) -> None:
    """Reject a mounting that cannot be a road camera; warn about one that is merely unusual.

    The horizon (the image row of points infinitely far ahead) lies at cy - fy·tan(pitch):
    at or below the bottom row, no road is in view — the camera points at the sky.
    """
    lo, hi = HEIGHT_LIMITS_M
    if not lo <= height_m <= hi:
        raise ConfigError(f"camera file {source}: mounting.height_m {height_m:g} is not a plausible camera height "
                          f"({lo:g}-{hi:g} m above the road; the unit is metres)")
    if not -90.0 < pitch_deg < 90.0:
        raise ConfigError(f"camera file {source}: mounting.pitch_deg {pitch_deg:g} must lie between -90 and 90 "
                          "(degrees below the horizontal; positive looks down)")
    horizon_row = cy - fy * math.tan(math.radians(pitch_deg))
    if horizon_row >= image_height:
        raise ConfigError(f"camera file {source}: with mounting.pitch_deg {pitch_deg:g} the camera points at the sky: "
                          f"the horizon falls at row {horizon_row:.0f}, below the image ({image_height} rows), so no "
                          "road is in view. Positive pitch looks down; measure it as atan((cy - horizon_row) / fy)")
    notes = []
    if not HEIGHT_USUAL_M[0] <= height_m <= HEIGHT_USUAL_M[1]:
        notes.append(f"height_m {height_m:g} m is unusual for a vehicle camera ({HEIGHT_USUAL_M[0]:g}-"
                     f"{HEIGHT_USUAL_M[1]:g} m)")
    if not PITCH_USUAL_DEG[0] <= pitch_deg <= PITCH_USUAL_DEG[1]:
        notes.append(f"pitch_deg {pitch_deg:g} is unusual (a dash cam looks {PITCH_USUAL_DEG[0]:g} to "
                     f"{PITCH_USUAL_DEG[1]:g} degrees down; positive is down: is the sign flipped?)")
    if notes:
        warnings.warn(f"camera file {source}: " + "; ".join(notes) + ". Distances and the bird's-eye view "
                      "depend on these numbers", ImplausibleCameraWarning, stacklevel=3)


def check_road_in_view(homography: RoadPlaneHomography, image_size: tuple[int, int], source: str) -> None:
    """A measured homography must show some of the road straight ahead (2-100 m) inside the image;
    one that maps it behind the camera or off the frame points the camera at the sky (or is transposed)."""
    u, v = homography.road_to_pixels(0.0, np.array([2.0, 5.0, 10.0, 20.0, 50.0, 100.0]))
    width, height = image_size
    seen = np.isfinite(u) & np.isfinite(v) & (u >= 0) & (u < width) & (v >= 0) & (v < height)
    if not seen.any():
        raise ConfigError(f"camera file {source}: the 'homography' shows none of the road straight ahead (2-100 m) "
                          f"inside the {width}x{height} image: the camera would be looking at the sky or backwards. "
                          "It maps road (X, Z, 1) in metres to image (u*w, v*w, w); check the row order")


def parse_camera_config(data: dict, source: str = "camera config") -> CameraGeometry:
    """A CameraGeometry from the mapping of a camera YAML."""
    if not isinstance(data, dict):
        raise ConfigError(f"camera file {source} must hold a mapping at the top level")
    validate(data, CAMERA_SCHEMA, f"camera file {source}")
    size = data.get("image_size")
    if not (isinstance(size, (list, tuple)) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size)):
        raise ConfigError(f"camera file {source}: 'image_size' must be [width, height] in pixels (the size the "
                         f"calibration was made at), got {size!r}")
    image_size = (int(size[0]), int(size[1]))

    has_homography = "homography" in data
    has_intrinsics = "intrinsics" in data or "mounting" in data
    if has_homography == has_intrinsics:
        raise ConfigError(f"camera file {source} must give either 'homography' or 'intrinsics' with 'mounting', not "
                         f"{'both' if has_homography else 'neither'}")
    if has_homography:
        try:
            matrix = np.array(data["homography"], dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(f"camera file {source}: 'homography' must be a 3x3 list of numbers") from None
        if matrix.shape != (3, 3):
            raise ConfigError(f"camera file {source}: 'homography' must be 3x3, got shape {matrix.shape}")
    else:
        intrinsics = _section(data, "intrinsics", source)
        mounting = _section(data, "mounting", source)
        fy, cy = _number(intrinsics, "fy", source, positive=True), _number(intrinsics, "cy", source)
        height_m = _number(mounting, "height_m", source, positive=True)
        pitch_deg = _number(mounting, "pitch_deg", source)
        check_mounting(height_m, pitch_deg, fy, cy, image_size[1], source)
        matrix = mounted_camera_homography(
            fx=_number(intrinsics, "fx", source, positive=True), fy=fy, cx=_number(intrinsics, "cx", source), cy=cy,
            height_m=height_m, pitch_deg=pitch_deg)

    grid = BevGrid.from_config(data["bev"], source=source) if "bev" in data else KITTI_BEV_GRID
    homography = RoadPlaneHomography(matrix, image_size=image_size, source=source)
    if has_homography:
        check_road_in_view(homography, image_size, source)
    return CameraGeometry(homography, grid, name=str(data.get("name", Path(source).stem)))


def load_camera_geometry(path: str | Path) -> CameraGeometry:
    """A camera from a KITTI calib file (.txt) or a camera YAML (.yaml / .yml)."""
    path = Path(path)
    if path.is_dir():
        # a folder of per-frame KITTI calib files is the viewer's (app/viewer/calibration.py): one camera here
        raise BadInputError(f"{path} is a folder: give one calibration file (a KITTI calib .txt or a camera "
                            f"YAML); a folder of KITTI calib files named like the frames works in `run.py view`")
    if not path.is_file():
        raise InputNotFoundError(f"camera calibration file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in KITTI_SUFFIXES:
        calib = load_kitti_calib(path)
        return CameraGeometry(RoadPlaneHomography.from_kitti(calib), KITTI_BEV_GRID, name=path.stem)
    if suffix in YAML_SUFFIXES:
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as e:
            raise ConfigError(f"camera file {path} is not valid YAML: {e}") from None
        return parse_camera_config(data, source=str(path))
    raise ConfigError(f"camera calibration {path} has an unknown type: use a KITTI calib file (.txt) "
                     f"or a camera YAML (.yaml, see configs/camera/example_dashcam.yaml)")
