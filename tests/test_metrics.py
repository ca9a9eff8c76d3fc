"""Validation metrics with hand-computed answers: road IoU / MaxF, detection AP."""

import numpy as np
import pytest

from train.metrics import DetectionScore, RoadScore

CLASSES = ["car", "pedestrian", "cyclist"]


def road_case():
    """100 road pixels (80 at p=0.9, 20 at p=0.2), 100 non-road (90 at 0.1, 10 at 0.95), 50 void at 1.0."""
    prob = np.concatenate([np.full(80, 0.9), np.full(20, 0.2), np.full(90, 0.1), np.full(10, 0.95),
                           np.full(50, 1.0)]).reshape(10, 25).astype(np.float32)
    target = np.concatenate([np.ones(100), np.zeros(100), np.full(50, 255)]).reshape(10, 25).astype(np.uint8)
    return prob, target


def test_road_iou_and_maxf_known_answer():
    prob, target = road_case()
    score = RoadScore()
    score.update(prob, target)
    s = score.compute()
    # at 0.5: TP 80, FN 20, FP 10 (void ignored)
    assert s["IoU"] == pytest.approx(80 / 110)
    # the best threshold lies just above 0.1 (byte 26): TP 100, FP 10 -> P 10/11, R 1, F 20/21
    assert s["MaxF"] == pytest.approx(20 / 21, abs=1e-9)
    assert s["BestThresh"] == pytest.approx(27 / 255)
    assert s["PRE"] == pytest.approx(10 / 11) and s["REC"] == 1.0
    assert s["FPR"] == pytest.approx(10 / 100) and s["FNR"] == 0.0


def test_road_counts_are_summed_over_images():
    prob, target = road_case()
    one, two = RoadScore(), RoadScore()
    one.update(prob, target)
    two.update(prob, target)
    two.update(prob, target)
    assert two.compute()["MaxF"] == pytest.approx(one.compute()["MaxF"])
    assert (two.histograms == 2 * one.histograms).all()


def box(x, y, w=40, h=40, score=None, cls=0):
    row = [x, y, x + w, y + h]
    return row + [score, cls] if score is not None else row


def test_perfect_detections_score_ultralytics_ceiling():
    det = DetectionScore(CLASSES)
    gt = np.array([box(10, 10), box(100, 50)], np.float32)
    pred = np.array([box(10, 10, score=0.9), box(100, 50, score=0.8)], np.float32)
    det.update(pred, gt, np.array([0, 0]))
    out = det.compute()
    # precision 1 up to recall 1, integrated on ultralytics' 101-point grid that ends at precision 0: 0.995
    assert out["per_class"]["car"]["AP50"] == pytest.approx(0.995)
    assert out["mAP50"] == pytest.approx(0.995) and out["mAP50-95"] == pytest.approx(0.995)
    assert out["per_class"]["pedestrian"]["instances"] == 0  # absent classes do not enter the mean


def test_half_recall_and_loose_boxes():
    det = DetectionScore(CLASSES)
    # two cars, one found exactly: precision 1 up to recall 0.5, where the curve drops to 0; ultralytics
    # integrates it on a 101-point recall grid, so the drop costs half a grid step: 0.5 - 0.005
    det.update(np.array([box(10, 10, score=0.9)], np.float32), np.array([box(10, 10), box(100, 50)], np.float32),
               np.array([0, 0]))
    # one pedestrian found with IoU 0.62: a hit at IoU 0.50, 0.55 and 0.60 only -> AP50-95 = 0.995 * 3/10
    det.update(np.array([[0, 0, 100, 62, 0.8, 1]], np.float32), np.array([[0, 0, 100, 100]], np.float32),
               np.array([1]))
    out = det.compute()
    assert out["per_class"]["car"]["AP50"] == pytest.approx(0.495)
    assert out["per_class"]["pedestrian"]["AP50"] == pytest.approx(0.995)
    assert out["per_class"]["pedestrian"]["AP50-95"] == pytest.approx(0.995 * 3 / 10)
    assert out["mAP50"] == pytest.approx((0.495 + 0.995) / 2)


def test_wrong_class_is_a_false_positive():
    det = DetectionScore(CLASSES)
    det.update(np.array([box(10, 10, score=0.9, cls=1)], np.float32), np.array([box(10, 10)], np.float32),
               np.array([0]))
    out = det.compute()
    assert out["per_class"]["car"]["AP50"] == 0.0


def test_min_height_ignores_short_objects_and_the_predictions_on_them():
    """KITTI-moderate-style scoring: a 10-px-tall car is neither a miss nor, found, a hit; a short prediction
    on no kept object is no false positive; a prediction on a kept object counts even when it is short."""
    gt = np.array([box(10, 10, h=40), box(200, 50, h=10), box(300, 10, h=30)], np.float32)
    classes = np.array([0, 0, 0])
    found_tall = [box(10, 10, h=40, score=0.9)]
    on_short = [box(200, 50, h=10, score=0.95)]        # the 10-px car, found
    stray_short = [box(400, 200, h=12, score=0.97)]    # on nothing, short
    stray_tall = [box(400, 100, h=40, score=0.6)]      # on nothing, tall: a false positive either way
    slightly_short = [box(300, 13, h=27, score=0.8)]   # the 30-px car boxed 27 px tall (IoU 0.9): a hit

    everything = DetectionScore(CLASSES)
    tall = DetectionScore(CLASSES, min_height=25)
    pred = np.array(found_tall + on_short + stray_short + stray_tall + slightly_short, np.float32)
    for det in (everything, tall):
        det.update(pred, gt, classes)
    car_all, car_tall = everything.compute()["per_class"]["car"], tall.compute()["per_class"]["car"]
    assert car_all["instances"] == 3 and car_tall["instances"] == 2
    # all boxes: by score 0.97 FP, 0.95 TP, 0.9 TP, 0.8 TP, 0.6 FP -> precision 1/2, 2/3, 3/4 at recall 1/3, 2/3,
    # 1; the envelope is 3/4 everywhere, on ultralytics' 101-point grid 0.75 * 0.995
    # tall ones: 0.9 TP, 0.8 TP, 0.6 FP -> precision 1 up to recall 1: the ceiling
    assert car_all["AP50"] == pytest.approx(0.75 * 0.995)
    assert car_tall["AP50"] == pytest.approx(0.995)
    assert tall.compute()["min_height"] == 25 and "min_height" not in everything.compute()

    # the found short car brings nothing; the tall stray box stays a false positive and no tall car is found
    no_tall_hits = DetectionScore(CLASSES, min_height=25)
    no_tall_hits.update(np.array(on_short + stray_tall, np.float32), gt, classes)
    assert no_tall_hits.compute()["per_class"]["car"]["AP50"] == 0.0  # only a false positive left


# --- pins on the ultralytics internals DetectionScore reuses (BaseValidator.match_predictions called with a
# stand-in self, ap_per_class read by tuple position): an upgrade that changes them changes these answers

def test_duplicate_is_a_false_positive_and_ap_is_the_area_less_half_a_grid_step():
    det = DetectionScore(CLASSES)
    # two cars; found at 0.9, found again (a duplicate) at 0.8, the second car found at 0.7
    pred = np.array([box(10, 10, score=0.9), box(10, 10, score=0.8), box(100, 50, score=0.7)], np.float32)
    det.update(pred, np.array([box(10, 10), box(100, 50)], np.float32), np.array([0, 0]))
    np.testing.assert_array_equal(det.stats["tp"][0][:, 0], [True, False, True])
    out = det.compute()
    # precision/recall: (1, 0.5), (0.5, 0.5), (2/3, 1); its envelope is 1 up to recall 0.5, then 2/3 up to 1:
    # area 5/6. On the 101-point grid each fall of the envelope (1 -> 2/3 at 0.5, 2/3 -> 0 at 1) costs its
    # height times half a step (0.005): together one drop of 1, so AP = 5/6 - 0.005
    assert out["per_class"]["car"]["AP50"] == pytest.approx(5 / 6 - 0.005)


def test_matching_is_per_iou_threshold_in_confidence_order():
    det = DetectionScore(CLASSES)
    # one car; a loose box (IoU 0.72) at 0.9 claims it at thresholds 0.50-0.70; the exact box at 0.8 is then
    # a duplicate there, but takes the still unclaimed car at 0.75-0.95
    pred = np.array([[0, 0, 100, 72, 0.9, 0], [0, 0, 100, 100, 0.8, 0]], np.float32)
    det.update(pred, np.array([[0, 0, 100, 100]], np.float32), np.array([0]))
    loose = [True] * 5 + [False] * 5
    np.testing.assert_array_equal(det.stats["tp"][0], [loose, [not t for t in loose]])
    out = det.compute()
    # thresholds 0.50-0.70: hit then miss, AP 0.995 (as the perfect case); 0.75-0.95: miss then hit, precision
    # 0.5 at recall 1, so the envelope is 0.5 up to recall 1 where it falls to 0: 0.5 - 0.5 * 0.005
    assert out["per_class"]["car"]["AP50"] == pytest.approx(0.995)
    assert out["per_class"]["car"]["AP50-95"] == pytest.approx((5 * 0.995 + 5 * (0.5 - 0.0025)) / 10)


def test_precision_recall_and_f1_conf_are_read_at_the_smoothed_f1_peak():
    det = DetectionScore(CLASSES)
    # one car found at 0.9, a false alarm elsewhere at 0.1
    pred = np.array([box(10, 10, score=0.9), box(200, 100, score=0.1)], np.float32)
    det.update(pred, np.array([box(10, 10)], np.float32), np.array([0]))
    out = det.compute()
    # on the confidence axis recall is 1 up to 0.9 and 0 above; precision falls linearly from 1 at 0.9 to 0.5
    # at 0.1, so F1 rises up to 0.9 and drops to 0 above it. Box-smoothed over 0.1 of the axis, the peak sits
    # half a window (0.05) below 0.9, where the window's top edge meets the drop
    assert out["F1_conf"] == pytest.approx(0.85, abs=2e-3)
    car = out["per_class"]["car"]
    assert car["R"] == pytest.approx(1.0)
    assert car["P"] == pytest.approx(1 - 0.5 * (0.9 - out["F1_conf"]) / 0.8, abs=1e-3)
    assert car["P"] == pytest.approx(0.969, abs=2e-3)


def test_each_class_reports_its_own_f1_best_threshold():
    """Cars: hits at 0.9 and 0.8, a false box at 0.1 -> F1 1 for thresholds in (0.1, 0.8].
    Pedestrians: a false box at 0.9 above the hit at 0.3 -> F1 is 0 above 0.3, 2/3 below: best under 0.3."""
    det = DetectionScore(CLASSES)
    det.update(np.array([box(10, 10, score=0.9), box(100, 50, score=0.8), box(200, 100, score=0.1),
                         box(10, 100, score=0.3, cls=1), box(300, 10, score=0.9, cls=1)], np.float32),
               np.array([box(10, 10), box(100, 50), box(10, 100)], np.float32), np.array([0, 0, 1]))
    per_class = det.compute()["per_class"]
    assert per_class["car"]["F1"] == pytest.approx(1.0, abs=0.02)
    assert 0.1 < per_class["car"]["F1_conf"] <= 0.8
    assert per_class["pedestrian"]["F1"] == pytest.approx(2 / 3, abs=0.02)
    assert per_class["pedestrian"]["F1_conf"] < 0.3
    assert "F1_conf" not in per_class["cyclist"]  # no boxes, no threshold
