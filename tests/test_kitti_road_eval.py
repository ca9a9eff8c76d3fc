"""KITTI Road evaluation: the benchmark's threshold sweep, BEV and perspective scoring, files, submission, CLI.

Scenes are drawn in bird's-eye view on real KITTI calibs (tests/fixtures/kitti_road_calib),
projected into the image with the inverse warp and scored through the forward warp,
so the expected scores follow from counts of the masks by the benchmark's formulas.
"""

import argparse
import json
import zipfile
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from calib.bev import BevWarp
from calib.kitti_calib import load_kitti_calib, parse_kitti_road_name
from calib.road_plane import RoadPlaneHomography
from nets.cli_options import weights_options
from train import cli_kitti
from train.kitti_road_eval import (
    METRIC_KEYS,
    KittiRoadAccumulator,
    PixelCounts,
    confidence_histograms,
    evaluate_predictor,
    ground_truth_masks,
    plot_precision_recall,
    read_prediction,
    score_prediction_folder,
    scores_from_histograms,
    to_confidence_bytes,
    write_confidence_png,
    write_json,
    write_submission,
)

FIXTURES = Path(__file__).parent / "fixtures" / "kitti_road_calib"
FRAME_SIZES = {"um_000051": (1242, 375), "umm_000023": (1242, 375), "uu_000087": (1224, 370), "uu_000093": (1241, 376)}
MAGENTA, RED = (255, 0, 255), (0, 0, 255)  # BGR


def homography_of(stem: str) -> RoadPlaneHomography:
    return RoadPlaneHomography.from_kitti(load_kitti_calib(FIXTURES / f"{stem}.txt"))


def drawn_scene(stem: str, road_half_width_m: float = 3.0) -> tuple[np.ndarray, BevWarp]:
    """A ground-truth mask (H, W, 3) BGR: a straight road |X| ≤ half width drawn in BEV, the rest of the grid
    non-road, projected into the image (void where the grid is not seen)."""
    warp = BevWarp(homography_of(stem), FRAME_SIZES[stem])
    x, _ = warp.grid.cell_centres()
    bev = np.zeros((*warp.bev_shape, 3), np.uint8)
    bev[:] = RED
    bev[np.abs(x) <= road_half_width_m] = MAGENTA
    return warp.unwarp(bev), warp


def f_measure(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall + 1e-10)


def views_of(mask: np.ndarray, confidence: np.ndarray, warp: BevWarp) -> dict:
    """The (mask, confidence) pair each view scores."""
    return {"perspective": (mask, confidence), "bev": (warp.warp(mask), warp.warp(confidence))}


def accumulate(stem: str, mask: np.ndarray, confidence: np.ndarray, kind: str = "road") -> dict:
    accumulator = KittiRoadAccumulator()
    name = parse_kitti_road_name(stem)
    accumulator.add(parse_kitti_road_name(name.mask_name(kind)), mask, confidence, homography_of(stem))
    return accumulator.scores()


# --------------------------------------------------------------------------- the sweep on hand-computed cases


def test_hand_computed_maxf_and_ap():
    # positives at 255 and 128, negatives at 128 and 0:
    # k = 0: P 2/4, R 1;  k = 1…128: P 2/3, R 1 (F 0.8);  k = 129…255: P 1, R 1/2
    confidence = np.array([[255, 128, 128, 0]], np.uint8)
    positive = np.array([[True, True, False, False]])
    scores = scores_from_histograms(confidence_histograms(confidence, positive, np.ones_like(positive)))
    assert scores.MaxF == pytest.approx(0.8)
    # recall levels 0…0.5 reach precision 1, levels 0.6…1.0 only 2/3
    assert scores.AP == pytest.approx((6 * 1 + 5 * 2 / 3) / 11)
    assert (scores.PRE, scores.REC, scores.FPR, scores.FNR) == pytest.approx((2 / 3, 1.0, 0.5, 0.0))
    assert scores.BestThresh == pytest.approx(1 / 255)  # the first threshold reaching MaxF
    assert len(scores.recall) == 256


def test_thresholds_with_zero_precision_and_recall_are_dropped():
    # positive at 200, negatives at 250 and 0: k = 201…255 find no positive (P = R = 0) and are dropped
    confidence = np.array([[200, 250, 0]], np.uint8)
    positive = np.array([[True, False, False]])
    scores = scores_from_histograms(confidence_histograms(confidence, positive, np.ones_like(positive)))
    assert len(scores.recall) == 201 and (scores.recall > 0).all()
    assert scores.MaxF == pytest.approx(2 / 3) and scores.AP == pytest.approx(0.5)
    assert scores.BestThresh == pytest.approx(1 / 255)


def test_eight_bit_quantisation_of_probabilities(tmp_path):
    probabilities = np.array([[0.5, 0.499, 1.2, -0.1, 0.001, 127.4 / 255]], np.float32)
    confidence = to_confidence_bytes(probabilities)
    assert confidence.dtype == np.uint8 and confidence.tolist() == [[128, 127, 255, 0, 0, 127]]
    # a positive of probability 0.5 is stored as 128: road at t = 128/255 (> 0.5), not at t = 129/255
    one = np.ones((1, 1), bool)
    counts = PixelCounts.from_histograms(confidence_histograms(confidence[:, :1], one, one))
    assert (counts.tp[128], counts.tp[129], counts.fn[129]) == (1, 0, 1)
    # a saved map reads back as the same bytes
    write_confidence_png(tmp_path / "um_road_000000.png", confidence)
    np.testing.assert_array_equal(read_prediction(tmp_path / "um_road_000000.png"), confidence)
    with pytest.raises(ValueError, match="NaN"):
        to_confidence_bytes(np.array([0.2, np.nan]))
    with pytest.raises(ValueError, match="uint8"):
        confidence_histograms(probabilities, np.ones((1, 6), bool), np.ones((1, 6), bool))


@pytest.mark.parametrize("image, message", [
    (np.zeros((4, 5, 3), np.uint8), "8-bit grey"),
    (np.zeros((4, 5), np.uint16), "8-bit grey"),
])
def test_prediction_png_must_be_8_bit_grey(tmp_path, image, message):
    cv2.imwrite(str(tmp_path / "p.png"), image)
    with pytest.raises(ValueError, match=message):
        read_prediction(tmp_path / "p.png")


def test_void_pixels_are_excluded():
    rng = np.random.default_rng(0)
    mask = np.zeros((20, 30, 3), np.uint8)
    mask[:, :15] = MAGENTA
    mask[:, 15:] = RED
    confidence = rng.integers(0, 256, (20, 30), dtype=np.uint8)
    accumulator = KittiRoadAccumulator(("perspective",))
    accumulator.add(parse_kitti_road_name("uu_road_000001"), mask, confidence, None)

    # the same pixels plus void ones: black, and blue-only (positive bit set but not valid), with any confidence
    padded_mask = np.concatenate([mask, np.zeros((20, 10, 3), np.uint8)], axis=1)
    padded_mask[:5, 30:] = (255, 0, 0)
    padded_confidence = np.concatenate([confidence, rng.integers(0, 256, (20, 10), dtype=np.uint8)], axis=1)
    positive, valid = ground_truth_masks(padded_mask)
    assert positive[:5, 30:].all() and not valid[:, 30:].any()
    with_void = KittiRoadAccumulator(("perspective",))
    with_void.add(parse_kitti_road_name("uu_road_000001"), padded_mask, padded_confidence, None)
    assert with_void.scores()["perspective"]["UU"].to_dict() == accumulator.scores()["perspective"]["UU"].to_dict()


def test_counts_are_summed_over_images_not_averaged():
    # image A: 1 road pixel, 3 non-road, all at 255 (F 0.4); image B: 3 road pixels at 255 (F 1)
    mask_a = np.array([[MAGENTA, RED, RED, RED]], np.uint8)
    mask_b = np.array([[MAGENTA, MAGENTA, MAGENTA]], np.uint8)
    accumulator = KittiRoadAccumulator(("perspective",))
    accumulator.add(parse_kitti_road_name("umm_road_000001"), mask_a, np.full((1, 4), 255, np.uint8), None)
    accumulator.add(parse_kitti_road_name("umm_road_000002"), mask_b, np.full((1, 3), 255, np.uint8), None)
    scores = accumulator.scores()["perspective"]
    # summed: 4 road, 3 non-road, all at 255 → P 4/7, R 1, F 8/11 (the per-image mean would be 0.7)
    assert scores["UMM"].MaxF == pytest.approx(8 / 11)
    assert scores["URBAN"].MaxF == pytest.approx(8 / 11)
    assert set(scores) == {"UMM", "URBAN"}


def test_category_without_road_pixels_is_a_clear_error():
    accumulator = KittiRoadAccumulator(("perspective",))
    accumulator.add(parse_kitti_road_name("uu_road_000001"), np.array([[RED, RED]], np.uint8),
                    np.zeros((1, 2), np.uint8), None)
    with pytest.raises(ValueError, match="UU.*no positive"):
        accumulator.scores()
    with pytest.raises(ValueError, match="needs a mask name such as uu_road_000001"):
        accumulator.add(parse_kitti_road_name("uu_000001"), np.array([[RED]], np.uint8),
                        np.zeros((1, 1), np.uint8), None)


# --------------------------------------------------------------------------- BEV known answers on real calibs


@pytest.mark.parametrize("stem", sorted(FRAME_SIZES))
def test_perfect_prediction_scores_one_in_both_views(stem):
    """Frames of 1224–1242 pixels wide, each with its own calib: a perfect map is perfect in BEV too."""
    mask, warp = drawn_scene(stem)
    assert mask.shape[:2] == FRAME_SIZES[stem][::-1]
    confidence = np.where(mask[..., 0] > 0, 255, 0).astype(np.uint8)
    scores = accumulate(stem, mask, confidence)
    category = stem.split("_")[0].upper()
    for view in ("bev", "perspective"):
        assert set(scores[view]) == {category, "URBAN"}
        s = scores[view][category]
        assert (s.MaxF, s.AP, s.PRE, s.REC, s.FPR, s.FNR) == pytest.approx((1, 1, 1, 1, 0, 0))
        assert s.BestThresh == pytest.approx(1 / 255)
    # the BEV ground truth is the drawn road where the camera sees it
    positive, valid = ground_truth_masks(warp.warp(mask))
    x, _ = warp.grid.cell_centres()
    assert valid.sum() > 0.9 * warp.valid.sum()
    assert not positive[valid & (np.abs(x) > 3.2)].any()
    assert positive[valid & (np.abs(x) < 2.8)].mean() > 0.99


def test_noisy_prediction_matches_hand_computed_scores():
    stem = "um_000051"
    mask, warp = drawn_scene(stem)
    positive, valid = ground_truth_masks(mask)
    confidence = np.where(positive, 180, 60).astype(np.uint8)
    confidence[250:300, 880:1100] = 220  # a false road patch among non-road pixels
    confidence[~valid] = 255  # void: must not count
    scores = accumulate(stem, mask, confidence)
    for view, (view_mask, view_confidence) in views_of(mask, confidence, warp).items():
        positive, valid = ground_truth_masks(view_mask)
        road = (positive & valid).sum()
        non_road = (~positive & valid).sum()
        patch = ((view_confidence == 220) & ~positive & valid).sum()
        assert road > 1000 and patch > 100
        # k ≤ 60: everything is road; 61…180: all road + the patch; 181…220: only the patch (P = R = 0, dropped)
        precision = road / (road + patch)
        s = scores[view]["UM"]
        assert s.MaxF == pytest.approx(f_measure(precision, 1.0))
        assert s.AP == pytest.approx(precision)  # every kept point has recall 1
        assert (s.PRE, s.REC, s.FPR, s.FNR) == pytest.approx((precision, 1.0, patch / non_road, 0.0))
        assert s.BestThresh == pytest.approx(61 / 255)


def test_shifted_prediction_matches_hand_computed_scores():
    stem = "umm_000023"
    mask, warp = drawn_scene(stem)
    shifted = np.zeros(mask.shape[:2], np.uint8)
    shifted[:, 60:] = np.where(mask[:, :-60, 0] > 0, 255, 0)  # the road, 60 pixels to the right
    scores = accumulate(stem, mask, shifted)
    for view, (view_mask, view_confidence) in views_of(mask, shifted, warp).items():
        positive, valid = ground_truth_masks(view_mask)
        predicted = view_confidence > 0
        road, non_road = (positive & valid).sum(), (~positive & valid).sum()
        tp, fp = (predicted & positive & valid).sum(), (predicted & ~positive & valid).sum()
        # two operating points: k = 0 (everything road) and k ≥ 1 (the shifted road)
        points = [(road / (road + non_road), 1.0), (tp / (tp + fp), tp / road)]
        f_values = [f_measure(p, r) for p, r in points]
        best = int(np.argmax(f_values))
        ap = np.mean([max(p for p, r in points if r >= level) for level in np.arange(11) * 0.1])
        s = scores[view]["UMM"]
        assert 0.3 < s.MaxF < 0.95
        assert s.MaxF == pytest.approx(max(f_values))
        assert s.AP == pytest.approx(ap)
        assert (s.PRE, s.REC) == pytest.approx(points[best])
        assert s.FNR == pytest.approx(0.0 if best == 0 else (road - tp) / road)
        assert s.BestThresh == pytest.approx(best / 255)


def test_prediction_of_another_size_is_rejected():
    mask, _ = drawn_scene("uu_000087")
    with pytest.raises(ValueError, match=r"1242x375 but its image and ground truth are 1224x370"):
        accumulate("uu_000087", mask, np.zeros((375, 1242), np.uint8))


# --------------------------------------------------------------------------- a data_road folder


def make_data_root(root: Path, split: str = "training", stems=("um_000051", "umm_000023", "uu_000087"),
                   lane: bool = True, calib: bool = True) -> dict:
    """A tiny data_road: drawn masks (road |X| ≤ 3 m, um ego lane |X| ≤ 1.5 m), calibs, and frames whose
    blue channel marks the road and green the lane (what the stand-in model reads)."""
    masks = {}
    for stem in stems:
        name = parse_kitti_road_name(stem)
        road, _ = drawn_scene(stem)
        masks[name.mask_name("road")] = road
        frame = road.copy()
        if lane and name.category == "um":
            masks[name.mask_name("lane")], _ = drawn_scene(stem, road_half_width_m=1.5)
            frame[..., 1] = masks[name.mask_name("lane")][..., 0]
        (root / split / "image_2").mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / split / "image_2" / f"{stem}.png"), frame)
        if calib:
            (root / split / "calib").mkdir(parents=True, exist_ok=True)
            (root / split / "calib" / f"{stem}.txt").write_text((FIXTURES / f"{stem}.txt").read_text())
    if split == "training":
        (root / split / "gt_image_2").mkdir(parents=True, exist_ok=True)
        for mask_name, mask in masks.items():
            cv2.imwrite(str(root / split / "gt_image_2" / f"{mask_name}.png"), mask)
    return masks


def write_perfect_predictions(folder: Path, masks: dict, kinds=("road", "lane")) -> None:
    for mask_name, mask in masks.items():
        if parse_kitti_road_name(mask_name).kind in kinds:
            write_confidence_png(folder / f"{mask_name}.png", np.where(mask[..., 0] > 0, 255, 0).astype(np.uint8))


def test_score_folder_perfect_writes_json_and_plots(tmp_path):
    masks = make_data_root(tmp_path / "data_road")
    write_perfect_predictions(tmp_path / "pred", masks)
    report = score_prediction_folder(tmp_path / "data_road", tmp_path / "pred")
    assert (report.frames, report.masks, report.notes) == (3, 4, [])
    data = report.to_json()
    assert list(data) == ["bev", "perspective"]
    for view in data:
        assert list(data[view]) == ["UM", "UMM", "UU", "URBAN", "UM_LANE"]
        for scores in data[view].values():
            assert list(scores) == list(METRIC_KEYS)
            assert scores["MaxF"] == pytest.approx(1.0) and scores["AP"] == pytest.approx(1.0)
    assert json.loads(write_json(report, tmp_path / "out" / "scores.json").read_text()) == data
    plots = plot_precision_recall(report, tmp_path / "plots")
    assert [p.name for p in plots] == ["pr_bev.png", "pr_perspective.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in plots)
    table = report.format_table()
    assert "BEV (benchmark)" in table and "perspective (raw)" in table


def test_score_folder_equals_in_memory_scoring(tmp_path):
    masks = make_data_root(tmp_path / "data_road", stems=("uu_000093",))
    mask = masks["uu_road_000093"]
    confidence = np.where(mask[..., 0] > 0, 200, 30).astype(np.uint8)
    confidence[200:260, 100:400] = 240
    write_confidence_png(tmp_path / "pred" / "uu_road_000093.png", confidence)
    report = score_prediction_folder(tmp_path / "data_road", tmp_path / "pred")
    expected = accumulate("uu_000093", mask, confidence)
    assert report.to_json() == {view: {c: s.to_dict() for c, s in by.items()} for view, by in expected.items()}
    assert report.scores["bev"]["UU"].MaxF < 1


def test_score_folder_without_lane_maps_scores_road_and_says_so(tmp_path):
    masks = make_data_root(tmp_path / "data_road", stems=("um_000051",))
    write_perfect_predictions(tmp_path / "pred", masks, kinds=("road",))
    report = score_prediction_folder(tmp_path / "data_road", tmp_path / "pred", views=("perspective",))
    assert list(report.scores) == ["perspective"] and list(report.scores["perspective"]) == ["UM", "URBAN"]
    assert any("lane" in note for note in report.notes)


def test_bad_folders_each_give_a_clear_message(tmp_path):
    root = tmp_path / "data_road"
    masks = make_data_root(root, stems=("um_000051",), lane=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no prediction PNGs in .*empty"):
        score_prediction_folder(root, empty)
    with pytest.raises(FileNotFoundError, match="prediction folder not found"):
        score_prediction_folder(root, tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="no training/ folder"):
        score_prediction_folder(tmp_path / "pred", empty)

    # a prediction for another frame only: the ground truth's is missing
    write_confidence_png(tmp_path / "other" / "um_road_000052.png", np.zeros((375, 1242), np.uint8))
    with pytest.raises(FileNotFoundError, match=r"no prediction for ground truth um_road_000051\.png"):
        score_prediction_folder(root, tmp_path / "other")

    write_confidence_png(tmp_path / "small" / "um_road_000051.png", np.zeros((370, 1240), np.uint8))
    with pytest.raises(ValueError, match="1240x370 but its image and ground truth are 1242x375"):
        score_prediction_folder(root, tmp_path / "small")

    write_perfect_predictions(tmp_path / "pred", masks)
    (root / "training" / "calib" / "um_000051.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"no calib file for um_road_000051.*um_000051\.txt"):
        score_prediction_folder(root, tmp_path / "pred")
    # the perspective view needs no calib
    assert score_prediction_folder(root, tmp_path / "pred", views=("perspective",)).scores["perspective"]["UM"].MaxF \
        == pytest.approx(1.0)

    cv2.imwrite(str(root / "training" / "gt_image_2" / "xx_road_000001.png"), masks["um_road_000051"])
    with pytest.raises(ValueError, match="unknown KITTI Road category prefix 'xx'"):
        score_prediction_folder(root, tmp_path / "pred", views=("perspective",))


def test_missing_ground_truth_folder_or_masks(tmp_path):
    (tmp_path / "data_road" / "testing").mkdir(parents=True)
    write_confidence_png(tmp_path / "pred" / "um_road_000000.png", np.zeros((2, 2), np.uint8))
    with pytest.raises(FileNotFoundError, match="only for the training split"):
        score_prediction_folder(tmp_path / "data_road", tmp_path / "pred", split="testing")
    (tmp_path / "data_road" / "training" / "gt_image_2").mkdir(parents=True)
    with pytest.raises(ValueError, match="no ground-truth masks"):
        score_prediction_folder(tmp_path / "data_road", tmp_path / "pred")


# --------------------------------------------------------------------------- running a model


class StandInPredictor:
    """Same call as nets.predictor: frame BGR → result with road_probs (C, H, W) and road_classes.

    It reads the answer off the drawn frames: blue marks road, green the ego lane.
    """

    def __init__(self, road_classes=("road", "lane"), size_error: bool = False):
        self.road_classes = list(road_classes)
        self.size_error = size_error
        self.calls = 0

    def __call__(self, frame):
        self.calls += 1
        road = np.where(frame[..., 0] > 0, 0.9, 0.15).astype(np.float32)
        lane = np.where(frame[..., 1] > 0, 0.8, 0.1).astype(np.float32)
        probs = np.stack([road, lane][:len(self.road_classes)])
        if self.size_error:
            probs = probs[:, :, :-1]
        return SimpleNamespace(road_probs=probs, road=probs[0], road_classes=self.road_classes)


def test_model_run_saves_maps_that_score_the_same(tmp_path):
    root = tmp_path / "data_road"
    make_data_root(root)
    predictor = StandInPredictor()
    report = evaluate_predictor(root, predictor, save_predictions=tmp_path / "saved")
    assert predictor.calls == 3 and report.frames == 3 and report.ms_per_frame > 0
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == [
        "um_lane_000051.png", "um_road_000051.png", "umm_road_000023.png", "uu_road_000087.png"]
    frame = cv2.imread(str(root / "training" / "image_2" / "um_000051.png"))
    np.testing.assert_array_equal(read_prediction(tmp_path / "saved" / "um_road_000051.png"),
                                  to_confidence_bytes(predictor(frame).road_probs[0]))
    assert score_prediction_folder(root, tmp_path / "saved").to_json() == report.to_json()
    assert report.scores["bev"]["UM_LANE"].MaxF == pytest.approx(1.0)


def test_model_without_lane_output_and_with_wrong_size(tmp_path):
    root = tmp_path / "data_road"
    make_data_root(root, stems=("um_000051",))
    report = evaluate_predictor(root, StandInPredictor(road_classes=("road",)), views=("perspective",))
    assert list(report.scores["perspective"]) == ["UM", "URBAN"]
    assert report.notes == ["the model predicts no lane: 1 lane masks not scored"]
    with pytest.raises(ValueError, match=r"shape \(2, 375, 1241\), expected \(2, 375, 1242\)"):
        evaluate_predictor(root, StandInPredictor(size_error=True))


def test_submission_writes_bev_maps_and_zip(tmp_path):
    root = tmp_path / "data_road"
    make_data_root(root, split="testing", stems=("um_000051", "umm_000023", "uu_000087"))
    predictor = StandInPredictor()
    archive = write_submission(root, predictor, tmp_path / "submission")
    expected = ["um_lane_000051.png", "um_road_000051.png", "umm_road_000023.png", "uu_road_000087.png"]
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == expected
    frame = cv2.imread(str(root / "testing" / "image_2" / "uu_000087.png"))
    bev = read_prediction(tmp_path / "submission" / "uu_road_000087.png")
    assert bev.shape == (800, 400)
    warp = BevWarp(homography_of("uu_000087"), (1224, 370))
    np.testing.assert_array_equal(bev, warp.warp(to_confidence_bytes(predictor(frame).road_probs[0])))

    (root / "testing" / "calib" / "uu_000087.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"uu_000087\.txt"):
        write_submission(root, predictor, tmp_path / "again")


# --------------------------------------------------------------------------- command line


def shared_eval_parser() -> argparse.ArgumentParser:
    """An `eval` parser as the shared one may look: the common options defined by the dataset-neutral command,
    the kitti-road ones from the kitti parent parser."""
    parser = argparse.ArgumentParser(parents=[weights_options(), cli_kitti.kitti_eval_options()])
    parser.add_argument("--dataset")
    parser.add_argument("--root")
    parser.add_argument("--json")
    return parser


def test_cli_eval_scores_predictions_folder(tmp_path, capsys):
    masks = make_data_root(tmp_path / "data_road")
    write_perfect_predictions(tmp_path / "pred", masks)
    args = shared_eval_parser().parse_args([
        "--dataset", "kitti-road", "--root", str(tmp_path / "data_road"), "--predictions", str(tmp_path / "pred"),
        "--json", str(tmp_path / "scores.json"), "--plots", str(tmp_path / "plots")])
    assert cli_kitti.run_kitti_road_eval(args) == 0
    out = capsys.readouterr().out
    assert "BEV (benchmark)" in out and "UM_LANE" in out
    assert json.loads((tmp_path / "scores.json").read_text())["bev"]["URBAN"]["MaxF"] == pytest.approx(1.0)
    assert (tmp_path / "plots" / "pr_bev.png").is_file()


def test_cli_eval_runs_a_model_and_rejects_contradictions(tmp_path, capsys):
    make_data_root(tmp_path / "data_road", stems=("uu_000087",))
    parser = shared_eval_parser()
    args = parser.parse_args(["--root", str(tmp_path / "data_road"), "--views", "bev",
                              "--save-predictions", str(tmp_path / "saved")])
    assert cli_kitti.run_kitti_road_eval(args, predictor=StandInPredictor()) == 0
    assert "speed:" in capsys.readouterr().out and (tmp_path / "saved" / "uu_road_000087.png").is_file()
    both = parser.parse_args(["--root", "r", "--weights", "w.pt", "--predictions", "p"])
    with pytest.raises(ValueError, match="either --weights .* or --predictions"):
        cli_kitti.run_kitti_road_eval(both)
    with pytest.raises(ValueError, match="needs --root"):
        cli_kitti.run_kitti_road_eval(parser.parse_args(["--predictions", "p"]))


def test_submit_kitti_command(tmp_path, capsys):
    make_data_root(tmp_path / "data_road", split="testing", stems=("umm_000023",))
    parser = argparse.ArgumentParser()
    cli_kitti.add_kitti_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["submit-kitti", "--root", str(tmp_path / "data_road"), "--out", str(tmp_path / "sub")])
    assert args.func(args, predictor=StandInPredictor()) == 0
    assert (tmp_path / "sub" / "kitti_road_submission.zip").is_file()
    assert "submission:" in capsys.readouterr().out
