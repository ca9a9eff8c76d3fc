"""Camera geometry: KITTI calib parsing, the road-plane homography, the BEV grid and warps, camera YAML.

Known answers come from real KITTI calib files (tests/fixtures/kitti_road_calib)
and from explicit matrix math written out here, independent of calib/.
"""

import argparse
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from calib import cli as calib_cli
from calib.bev import KITTI_BEV_GRID, BevGrid, BevWarp, bev_warp_for
from calib.camera import load_camera_geometry, mounted_camera_homography, parse_camera_config
from calib.kitti_calib import calib_path_for, load_kitti_calib, parse_kitti_calib, parse_kitti_road_name
from calib.road_plane import RoadPlaneHomography

FIXTURES = Path(__file__).parent / "fixtures" / "kitti_road_calib"
PROJECT = Path(__file__).resolve().parent.parent
# fixture calib → the size of the real frame it belongs to (width, height)
FRAME_SIZES = {"um_000051": (1242, 375), "umm_000023": (1242, 375), "uu_000087": (1224, 370), "uu_000093": (1241, 376)}


def explicit_projection(calib, x, z):
    """Image (u, v) of the road point (x, 0, z), the long way: road → camera → rectified → P2."""
    road_to_cam = np.linalg.inv(np.vstack([calib.Tr_cam_to_road, [0, 0, 0, 1]]))
    point_cam = road_to_cam @ np.array([x, 0.0, z, 1.0])
    point_rect = calib.R0_rect @ point_cam[:3]
    uvw = calib.P2 @ np.append(point_rect, 1.0)
    return uvw[0] / uvw[2], uvw[1] / uvw[2]


# --------------------------------------------------------------------------- calib files and names


def test_parse_real_calib_keeps_all_keys():
    calib = load_kitti_calib(FIXTURES / "um_000051.txt")
    assert calib.P2.shape == (3, 4) and calib.R0_rect.shape == (3, 3) and calib.Tr_cam_to_road.shape == (3, 4)
    # values as written in the file
    assert calib.P2[0, 0] == pytest.approx(721.5377) and calib.P2[0, 3] == pytest.approx(44.85728)
    assert calib.Tr_cam_to_road[1, 3] == pytest.approx(-1.498824771347)
    assert set(calib.other) == {"P0", "P1", "P3", "Tr_velo_to_cam", "Tr_imu_to_velo"}
    assert calib.other["Tr_velo_to_cam"].shape == (12,)
    assert calib.source.endswith("um_000051.txt")


def _calib_text_without(key: str) -> str:
    lines = (FIXTURES / "um_000051.txt").read_text().splitlines()
    return "\n".join(line for line in lines if not line.startswith(key + ":"))


def test_calib_missing_key_names_file_and_key(tmp_path):
    path = tmp_path / "um_000051.txt"
    path.write_text(_calib_text_without("Tr_cam_to_road"))
    with pytest.raises(ValueError, match=r"um_000051\.txt.*'Tr_cam_to_road'"):
        load_kitti_calib(path)


@pytest.mark.parametrize("bad_line, message", [
    ("P2: 1 2 3", r"'P2' has 3 numbers, expected 12"),
    ("P2: 1 2 3 4 5 6 7 8 9 10 11 twelve", r"'P2'.*not a number"),
    ("R0_rect: 1 0 0 0 1 0 0 0 nan", r"'R0_rect'.*non-finite"),
    ("just some words", r"line \d+: expected 'key: numbers'"),
])
def test_calib_malformed_value_names_file_and_key(tmp_path, bad_line, message):
    key = bad_line.split(":")[0] if ":" in bad_line else "P0"
    path = tmp_path / "bad.txt"
    path.write_text(_calib_text_without(key) + "\n" + bad_line + "\n")
    with pytest.raises(ValueError, match=message) as info:
        load_kitti_calib(path)
    assert str(path) in str(info.value)


def test_parse_calib_text_ignores_blank_lines_and_names_its_source():
    text = "\n" + (FIXTURES / "umm_000023.txt").read_text().replace("\n", "\n\n")
    calib = parse_kitti_calib(text, source="inline text")
    assert calib.source == "inline text" and calib.R0_rect.shape == (3, 3)
    with pytest.raises(ValueError, match="calib file inline text lacks the key 'P2'"):
        parse_kitti_calib(_calib_text_without("P2"), source="inline text")


def test_missing_calib_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.txt"):
        load_kitti_calib(tmp_path / "nothere.txt")


def test_a_calib_folder_given_for_one_camera_says_where_folders_work(tmp_path):
    from calib.camera import load_camera_geometry

    (tmp_path / "calib").mkdir()
    with pytest.raises(ValueError, match=r"calib is a folder: give one calibration file .*run.py view"):
        load_camera_geometry(tmp_path / "calib")
    with pytest.raises(FileNotFoundError, match="calibration file not found: .*nothere.yaml"):
        load_camera_geometry(tmp_path / "nothere.yaml")


@pytest.mark.parametrize("name, category, kind, calib_file", [
    ("um_road_000000", "um", "road", "um_000000.txt"),
    ("um_lane_000000", "um", "lane", "um_000000.txt"),
    ("um_000000", "um", None, "um_000000.txt"),
    ("umm_road_000093.png", "umm", "road", "umm_000093.txt"),
    ("/data/testing/image_2/uu_000087.png", "uu", None, "uu_000087.txt"),
])
def test_file_name_mapping(name, category, kind, calib_file):
    parsed = parse_kitti_road_name(name)
    assert (parsed.category, parsed.kind, parsed.calib_file) == (category, kind, calib_file)
    assert parsed.category_label == category.upper()
    assert parsed.mask_name("road") == f"{category}_road_{calib_file[len(category) + 1:-4]}"


def test_unknown_category_prefix_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown KITTI Road category prefix 'ux'.*um, umm, uu"):
        parse_kitti_road_name("ux_road_000000.png")
    with pytest.raises(ValueError, match="not a KITTI Road file name"):
        parse_kitti_road_name("road.png")


def test_calib_path_for_mask_and_missing(tmp_path):
    (tmp_path / "um_000000.txt").write_text("")
    assert calib_path_for(tmp_path, "um_road_000000.png") == tmp_path / "um_000000.txt"
    with pytest.raises(FileNotFoundError, match=r"umm_road_000001\.png.*umm_000001\.txt"):
        calib_path_for(tmp_path, "umm_road_000001.png")


# --------------------------------------------------------------------------- road-plane homography


@pytest.mark.parametrize("stem", sorted(FRAME_SIZES))
def test_homography_matches_explicit_projection(stem):
    calib = load_kitti_calib(FIXTURES / f"{stem}.txt")
    homography = RoadPlaneHomography.from_kitti(calib)
    for x, z in [(0.0, 10.0), (1.5, 20.0), (-7.25, 33.0)]:
        u_expected, v_expected = explicit_projection(calib, x, z)
        u, v = homography.road_to_pixels(x, z)
        assert (float(u), float(v)) == pytest.approx((u_expected, v_expected), abs=1e-9)
        # and back: the pixel sees that road point, at that distance
        back_x, back_z = homography.pixels_to_road(u_expected, v_expected)
        assert (float(back_x), float(back_z)) == pytest.approx((x, z), abs=1e-9)
        assert float(homography.ground_distance(u_expected, v_expected)) == pytest.approx(math.hypot(x, z))


def test_box_distance_uses_bottom_centre_and_nan_above_horizon():
    calib = load_kitti_calib(FIXTURES / "um_000051.txt")
    homography = RoadPlaneHomography.from_kitti(calib)
    u, v = explicit_projection(calib, 2.0, 25.0)
    boxes = np.array([[u - 40, v - 60, u + 40, v, 0.9, 2],  # a car whose wheels touch (2, 25)
                      [600, 10, 640, 40, 0.8, 2]])  # wholly above the horizon
    distances = homography.box_distances(boxes)
    assert distances[0] == pytest.approx(math.hypot(2.0, 25.0))
    assert np.isnan(distances[1])
    assert homography.box_distances(np.zeros((0, 6))).shape == (0,)
    with pytest.raises(ValueError, match="x1, y1, x2, y2"):
        homography.box_distances(np.zeros((2, 3)))


def test_point_behind_camera_has_no_pixel():
    homography = RoadPlaneHomography.from_kitti(load_kitti_calib(FIXTURES / "um_000051.txt"))
    u, v = homography.road_to_pixels([0.0, 0.0], [-5.0, 5.0])
    assert np.isnan(u[0]) and np.isnan(v[0]) and np.isfinite(u[1])


# --------------------------------------------------------------------------- BEV grid and warp


def test_kitti_grid_shape_and_cell_centres():
    grid = KITTI_BEV_GRID
    assert grid.shape == (800, 400)
    x, z = grid.cell_centres()
    assert x.shape == z.shape == (800, 400)
    assert (x[0, 0], x[0, 1], x[0, -1]) == pytest.approx((-9.975, -9.925, 9.975))
    assert (z[0, 0], z[-1, 0]) == pytest.approx((45.975, 6.025))
    rows, cols = grid.cells_of([-9.99, 9.99, 0.01, 10.01, np.nan], [45.99, 6.01, 25.99, 20.0, 20.0])
    assert rows.tolist() == [0, 799, 400, -1, -1] and cols.tolist() == [0, 399, 200, -1, -1]


@pytest.mark.parametrize("bad", [dict(resolution=0), dict(x_min=5, x_max=5), dict(resolution=0.07)])
def test_bad_grid_is_rejected(bad):
    with pytest.raises(ValueError, match="BEV grid"):
        BevGrid(**bad)


@pytest.mark.parametrize("stem", sorted(FRAME_SIZES))
def test_bev_warp_follows_benchmark_pixel_rule(stem):
    """Each cell holds img[floor(v)-1, floor(u)-1] of its centre's projection; 0 unless 1 ≤ u ≤ W and 1 ≤ v ≤ H."""
    calib = load_kitti_calib(FIXTURES / f"{stem}.txt")
    width, height = FRAME_SIZES[stem]
    # each pixel holds 1 + its flat index, so the warp tells which pixel a cell took (0 = none)
    index_image = (np.arange(width * height, dtype=np.float32) + 1).reshape(height, width)
    warp = BevWarp(RoadPlaneHomography.from_kitti(calib), (width, height))
    bev = warp.warp(index_image)
    assert bev.shape == (800, 400) and warp.valid.shape == (800, 400)

    # the expected value of every cell, from the full 3x4 projection of (x, 0, z, 1); the devkit
    # stores the centres as float32 before projecting them (see the edge-cell test below)
    rect = np.eye(4)
    rect[:3, :3] = calib.R0_rect
    full = calib.P2 @ rect @ np.linalg.inv(np.vstack([calib.Tr_cam_to_road, [0, 0, 0, 1]]))
    xs = (-9.975 + 0.05 * np.arange(400)).astype(np.float32).astype(np.float64)
    zs = (45.975 - 0.05 * np.arange(800)).astype(np.float32).astype(np.float64)
    X, Z = np.meshgrid(xs, zs)
    uvw = np.einsum("ij,jrc->irc", full, np.stack([X, np.zeros_like(X), Z, np.ones_like(X)]))
    u, v = uvw[0] / uvw[2], uvw[1] / uvw[2]
    seen = (u >= 1) & (u <= width) & (v >= 1) & (v <= height)
    expected = np.where(seen, (np.floor(v) - 1) * width + (np.floor(u) - 1) + 1, 0)
    np.testing.assert_array_equal(warp.valid, seen)
    np.testing.assert_array_equal(bev, expected.astype(np.float32))
    # the near corners are outside the camera's view, the road ahead at 26 m inside
    assert not warp.valid[799, 0] and not warp.valid[799, 399] and warp.valid[400, 200]


def test_bev_cell_on_a_pixel_border_follows_the_devkits_float32_centre():
    """Cell (341, 335) of um_000051 projects to u = 782.0000064 from its float32 centre (the devkit's) but to
    u = 781.99999... from the exact centre x = 6.775, z = 28.925: the devkit takes pixel column 781, not 780."""
    homography = RoadPlaneHomography.from_kitti(load_kitti_calib(FIXTURES / "um_000051.txt"))
    x32, z32 = float(np.float32(6.775)), float(np.float32(28.925))
    assert (x32, z32) == (6.775000095367432, 28.924999237060547)
    u32, v32 = homography.road_to_pixels(x32, z32)
    u64, _ = homography.road_to_pixels(6.775, 28.925)
    assert math.floor(u32) == 782 and math.floor(u64) == 781 and math.floor(v32) == 207  # the edge itself

    warp = BevWarp(homography, (1242, 375))
    x, z = warp.grid.cell_centres()
    assert (x[341, 335], z[341, 335]) == pytest.approx((6.775, 28.925))
    image = np.zeros((375, 1242), np.uint16)
    image[206, 781] = 1  # 0-based pixel of the 1-based (782, 207)
    image[206, 780] = 2  # the pixel the exact centre would take
    assert warp.warp(image)[341, 335] == 1


def test_bev_warp_keeps_channels_and_dtype_and_checks_size():
    homography = RoadPlaneHomography.from_kitti(load_kitti_calib(FIXTURES / "uu_000087.txt"))
    warp = BevWarp(homography, (1224, 370))
    frame = np.full((370, 1224, 3), 7, np.uint8)
    bev = warp.warp(frame)
    assert bev.shape == (800, 400, 3) and bev.dtype == np.uint8
    np.testing.assert_array_equal(bev[warp.valid], 7)
    np.testing.assert_array_equal(bev[~warp.valid], 0)
    with pytest.raises(ValueError, match="1242x375.*1224x370"):
        warp.warp(np.zeros((375, 1242), np.uint8))


def test_bev_unwarp_round_trip_of_a_drawn_region():
    homography = RoadPlaneHomography.from_kitti(load_kitti_calib(FIXTURES / "um_000051.txt"))
    warp = BevWarp(homography, (1242, 375))
    grid = warp.grid
    x, z = grid.cell_centres()
    drawn = ((np.abs(x) <= 3) & (z >= 8) & (z <= 40)).astype(np.uint8) * 255
    image = warp.unwarp(drawn)
    assert image.shape == (375, 1242)
    back = warp.warp(image)
    # a pixel covers more road than a cell far away (about 1.4 m at 40 m), so compare away from the edges
    inside = (np.abs(x) <= 2.5) & (z >= 10) & (z <= 35)
    outside = warp.valid & ((np.abs(x) >= 3.5) | (z <= 7) | (z >= 43))
    assert inside.sum() > 10000 and outside.sum() > 10000
    assert (back[inside] == 255).all() and (back[outside] == 0).all()
    # and a pixel in the painted area sees a road point inside the region
    u, v = homography.road_to_pixels(0.0, 20.0)
    assert image[int(v), int(u)] == 255


def test_bev_warp_cache_per_homography_and_size():
    homography = RoadPlaneHomography.from_kitti(load_kitti_calib(FIXTURES / "uu_000093.txt"))
    first = bev_warp_for(homography, (1241, 376))
    assert bev_warp_for(homography, (1241, 376)) is first
    other_size = bev_warp_for(homography, (1242, 375))
    assert other_size is not first and other_size.image_size == (1242, 375)
    other_grid = bev_warp_for(homography, (1241, 376), BevGrid(resolution=0.1))
    assert other_grid.bev_shape == (400, 200)


# --------------------------------------------------------------------------- camera YAML


def test_mounted_camera_homography_against_pinhole_geometry():
    fx, fy, cx, cy, height, pitch = 1000.0, 1010.0, 640.0, 360.0, 1.3, 2.0
    homography = RoadPlaneHomography(mounted_camera_homography(fx, fy, cx, cy, height, pitch))
    for x, z in [(0.0, 10.0), (2.0, 15.0)]:
        # the point is atan(h / depth) below the level axis, the camera looks `pitch` below it
        depth_along_level = z
        angle_below_axis = math.atan2(height, depth_along_level) - math.radians(pitch)
        # in camera coordinates: rotate (x, h, z) about the x axis by the pitch
        c, s = math.cos(math.radians(pitch)), math.sin(math.radians(pitch))
        y_cam, z_cam = c * height - s * z, s * height + c * z
        u_expected, v_expected = cx + fx * x / z_cam, cy + fy * y_cam / z_cam
        u, v = homography.road_to_pixels(x, z)
        assert (float(u), float(v)) == pytest.approx((u_expected, v_expected))
        if x == 0.0:
            assert float(v) == pytest.approx(cy + fy * math.tan(angle_below_axis))


def test_example_dashcam_yaml_gives_distances_and_bev():
    camera = load_camera_geometry(PROJECT / "configs" / "camera" / "example_dashcam.yaml")
    assert camera.name == "example_dashcam" and camera.homography.image_size == (1280, 720)
    u, v = camera.homography.road_to_pixels(1.0, 12.0)
    boxes = np.array([[float(u) - 30, float(v) - 50, float(u) + 30, float(v)]])
    assert camera.box_distances(boxes, (1280, 720))[0] == pytest.approx(math.hypot(1.0, 12.0))
    # the same road point in a half-size frame: pixel centres scale as (u + 0.5) / 2 - 0.5
    half = np.array([[(b + 0.5) / 2 - 0.5 for b in boxes[0]]])
    assert camera.box_distances(half, (640, 360))[0] == pytest.approx(math.hypot(1.0, 12.0))

    frame = np.full((360, 640, 3), 200, np.uint8)
    bev = camera.bird_eye_view(frame)
    assert bev.shape == (*camera.bev_grid.shape, 3) == (800, 400, 3)
    assert (bev[camera.bev_warp((640, 360)).valid] == 200).all()


def test_camera_yaml_with_direct_homography_and_own_grid():
    intrinsics = dict(fx=900.0, fy=900.0, cx=480.0, cy=270.0)
    mounting = dict(height_m=1.2, pitch_deg=0.0)
    from_mounting = parse_camera_config({"image_size": [960, 540], "intrinsics": intrinsics, "mounting": mounting})
    matrix = mounted_camera_homography(**intrinsics, height_m=1.2, pitch_deg=0.0)
    direct = parse_camera_config({"image_size": [960, 540], "homography": matrix.tolist(),
                                  "bev": {"x_range_m": [-5, 5], "z_range_m": [4, 24], "resolution_m": 0.1}})
    np.testing.assert_allclose(direct.homography.road_to_image, from_mounting.homography.road_to_image)
    assert direct.bev_grid.shape == (200, 100)
    assert direct.bird_eye_view(np.zeros((540, 960), np.uint8)).shape == (200, 100)


@pytest.mark.parametrize("config, message", [
    ({"intrinsics": {}, "mounting": {}}, "'image_size' must be"),
    ({"image_size": [960, 540]}, "either 'homography' or 'intrinsics'.*neither"),
    ({"image_size": [960, 540], "homography": [[1, 0, 0], [0, 1, 0]]}, "must be 3x3"),
    ({"image_size": [960, 540], "intrinsics": {"fx": 900, "fy": 900, "cx": 1, "cy": 1},
      "mounting": {"height_m": -1, "pitch_deg": 0}}, "'height_m' must be a positive"),
    ({"image_size": [960, 540], "intrinsics": {"fx": "wide", "fy": 900, "cx": 1, "cy": 1},
      "mounting": {"height_m": 1, "pitch_deg": 0}}, "'fx' must be a number"),
    ({"image_size": [960, 540], "intrinsics": {"fx": 900, "fy": 900, "cx": 1},
      "mounting": {"height_m": 1, "pitch_deg": 0}}, "lacks 'cy'"),
    ({"image_size": [960, 540], "homography": np.eye(3).tolist(), "bev": {"range": 1}}, "unknown BEV keys"),
])
def test_bad_camera_yaml_is_a_clear_error(config, message):
    with pytest.raises(ValueError, match=message):
        parse_camera_config(config, source="cam.yaml")


def test_camera_file_type_and_presence(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.yaml"):
        load_camera_geometry(tmp_path / "missing.yaml")
    other = tmp_path / "camera.json"
    other.write_text("{}")
    with pytest.raises(ValueError, match="unknown type"):
        load_camera_geometry(other)
    broken = tmp_path / "camera.yaml"
    broken.write_text("image_size: [1, 2\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_camera_geometry(broken)
    kitti = load_camera_geometry(FIXTURES / "umm_000023.txt")
    assert kitti.homography.image_size is None and kitti.bev_grid == KITTI_BEV_GRID


# --------------------------------------------------------------------------- calibrate command


def test_calibrate_command_writes_bev_and_prints_pixel(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    calib_cli.add_commands(parser.add_subparsers(dest="command"))
    frame = np.zeros((370, 1224, 3), np.uint8)
    frame[200:, :] = (40, 90, 160)
    cv2.imwrite(str(tmp_path / "uu_000087.png"), frame)
    calib = load_kitti_calib(FIXTURES / "uu_000087.txt")
    u, v = explicit_projection(calib, 0.5, 15.0)
    args = parser.parse_args(["calibrate", str(FIXTURES / "uu_000087.txt"), "--image", str(tmp_path / "uu_000087.png"),
                              "--bev-out", str(tmp_path / "bev.png"), "--pixel", str(u), str(v), "--pixel", "600", "5"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "800 rows x 400 cols" in out
    assert "X +0.50 m, Z 15.00 m" in out and "above the horizon" in out
    bev = cv2.imread(str(tmp_path / "bev.png"))
    assert bev.shape == (800, 400, 3)
