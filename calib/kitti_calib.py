"""KITTI calib files (`key: numbers` lines) and the KITTI Road file names that point at them.

A KITTI Road frame, its masks and its calib share one stem: the image
`um_000000.png`, the masks `um_road_000000.png` / `um_lane_000000.png` and the
calib `um_000000.txt`. The prefix is the category: um (urban marked), umm (urban
multiple marked lanes), uu (urban unmarked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import BadInputError, InputNotFoundError

# The matrices the road geometry needs, with the shape each must have.
REQUIRED_MATRICES = {"P2": (3, 4), "R0_rect": (3, 3), "Tr_cam_to_road": (3, 4)}

CATEGORIES = ("um", "umm", "uu")
MASK_KINDS = ("road", "lane")

# `um_000000`, `um_road_000000`, `umm_lane_000012` (the lane benchmark only exists for um,
# but the name rule does not need to know that)
_NAME = re.compile(r"^(?P<category>[a-z]+?)(?:_(?P<kind>road|lane))?_(?P<index>\d+)$")


@dataclass(frozen=True)
class KittiCalib:
    """The camera matrices of one KITTI frame.

    P2: (3, 4) projection of the rectified left colour camera.
    R0_rect: (3, 3) rectifying rotation.
    Tr_cam_to_road: (3, 4) rigid transform from camera to road coordinates
        (road plane Y = 0, X right, Z forward, Y down like the camera).
    other: every further key of the file (P0, Tr_velo_to_cam, ...) as a flat array.
    source: the file it came from, for error messages.
    """

    P2: np.ndarray
    R0_rect: np.ndarray
    Tr_cam_to_road: np.ndarray
    other: dict[str, np.ndarray] = field(default_factory=dict)
    source: str = "<string>"


def parse_kitti_calib(text: str, source: str = "<string>") -> KittiCalib:
    """Parse the text of a KITTI calib file; `source` names it in error messages."""
    values: dict[str, np.ndarray] = {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, numbers = line.partition(":")
        key = key.strip()
        if not sep or not key:
            raise BadInputError(f"calib file {source}, line {line_no}: expected 'key: numbers', "
                                f"got {line.strip()[:60]!r}")
        try:
            values[key] = np.array([float(v) for v in numbers.split()], dtype=np.float64)
        except ValueError as e:
            raise BadInputError(f"calib file {source}: key {key!r} (line {line_no}) holds a value that is not "
                                f"a number: {e}") from None

    matrices = {}
    for key, shape in REQUIRED_MATRICES.items():
        if key not in values:
            raise BadInputError(f"calib file {source} lacks the key {key!r} (the road geometry needs "
                                f"{', '.join(REQUIRED_MATRICES)}); is it a KITTI Road calib file?")
        flat = values.pop(key)
        if flat.size != shape[0] * shape[1]:
            raise BadInputError(f"calib file {source}: key {key!r} has {flat.size} numbers, "
                                f"expected {shape[0] * shape[1]} for a {shape[0]}x{shape[1]} matrix")
        if not np.all(np.isfinite(flat)):
            raise BadInputError(f"calib file {source}: key {key!r} holds a non-finite number")
        matrices[key] = flat.reshape(shape)
    return KittiCalib(**matrices, other=values, source=source)


def load_kitti_calib(path: str | Path) -> KittiCalib:
    path = Path(path)
    if not path.is_file():
        raise InputNotFoundError(f"KITTI calib file not found: {path}")
    return parse_kitti_calib(path.read_text(), source=str(path))


@dataclass(frozen=True)
class KittiRoadName:
    """A parsed KITTI Road file stem: `um_road_000000` → category um, kind road, index 000000."""

    category: str  # um, umm or uu
    kind: str | None  # road, lane, or None for an image / calib stem
    index: str  # the digits, leading zeros kept

    @property
    def frame(self) -> str:
        """The stem shared by the image and the calib: `um_000000`."""
        return f"{self.category}_{self.index}"

    @property
    def calib_file(self) -> str:
        return f"{self.frame}.txt"

    @property
    def category_label(self) -> str:
        """The benchmark's label for the category: UM, UMM, UU."""
        return self.category.upper()

    def mask_name(self, kind: str) -> str:
        """The stem of this frame's mask (or prediction) of `kind`: `um_road_000000`."""
        if kind not in MASK_KINDS:
            raise BadInputError(f"unknown KITTI Road mask kind {kind!r}: expected one of {', '.join(MASK_KINDS)}")
        return f"{self.category}_{kind}_{self.index}"


def parse_kitti_road_name(name: str | Path) -> KittiRoadName:
    """Parse a KITTI Road file name or stem (a path and extension are ignored)."""
    stem = Path(name).name.split(".")[0]
    match = _NAME.match(stem)
    if match is None:
        raise BadInputError(f"{stem!r} is not a KITTI Road file name: expected CATEGORY[_road|_lane]_DIGITS "
                            f"such as um_road_000000 or umm_000012")
    category = match["category"]
    if category not in CATEGORIES:
        raise BadInputError(f"unknown KITTI Road category prefix {category!r} in {stem!r}: "
                            f"expected one of {', '.join(CATEGORIES)}")
    return KittiRoadName(category=category, kind=match["kind"], index=match["index"])


def calib_path_for(calib_dir: str | Path, name: str | Path) -> Path:
    """The calib file of a KITTI Road image, mask or prediction: `um_road_000000` → calib_dir/um_000000.txt."""
    parsed = parse_kitti_road_name(name)
    path = Path(calib_dir) / parsed.calib_file
    if not path.is_file():
        raise InputNotFoundError(f"no calib file for {Path(name).name}: expected {path}")
    return path
