"""KITTI Road evaluation: the benchmark's threshold sweep, in bird's-eye view and in perspective.

The rules (docs/KITTI_ROAD_EVAL.md) in brief: a prediction is an 8-bit
confidence map; at each threshold k/255 (k = 0…255) a pixel is road when its
confidence ≥ k/255; TP/FP/FN are counted over valid ground-truth pixels and
summed over all images of a category; MaxF, 11-point AP and the operating point
(PRE, REC, FPR, FNR, BestThresh) follow. The benchmark scores in BEV (both the
mask and the prediction warped with calib/bev.py); the perspective ("raw") view
scores the same pixels unwarped, as KittiSeg/MultiNet report it.

Confidences are handled as bytes throughout: byte/255 ≥ k/255 exactly when
byte ≥ k, so each image reduces to two 256-bin histograms (positives and
negatives) and a category to their sums.
"""

from __future__ import annotations

import json
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from calib.bev import KITTI_BEV_GRID, bev_warp_for
from calib.kitti_calib import KittiRoadName, calib_path_for, load_kitti_calib, parse_kitti_road_name
from calib.road_plane import RoadPlaneHomography
from core.atomic import atomic_folder, atomic_write_text
from core.errors import BadInputError, InputNotFoundError, OutputError
from core.output_paths import refuse_unsafe_outputs, weight_files

LEVELS = 256  # thresholds k/255, k = 0…255
EPS = 1e-10  # the benchmark's guard in precision and F
# recall levels 0, 0.1, …, 1.0 for AP, as the devkit's arange computes them (0.30000000000000004, …)
AP_RECALL_LEVELS = np.arange(11) * 0.1

VIEWS = ("bev", "perspective")
VIEW_LABELS = {"bev": "BEV (benchmark)", "perspective": "perspective (raw)"}
URBAN = "URBAN"  # all road categories together
CATEGORY_ORDER = ("UM", "UMM", "UU", URBAN, "UM_LANE")
METRIC_KEYS = ("MaxF", "AP", "PRE", "REC", "FPR", "FNR", "BestThresh")

# what the benchmark scores per category prefix: road everywhere, the ego lane only in um
BENCHMARK_KINDS = {"um": ("road", "lane"), "umm": ("road",), "uu": ("road",)}

SUBMISSION_ZIP = "kitti_road_submission.zip"


# --------------------------------------------------------------------------- files


def read_ground_truth(path: str | Path) -> np.ndarray:
    """A ground-truth mask as OpenCV reads it: (H, W, 3) uint8 BGR."""
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise BadInputError(f"cannot read ground-truth mask {path}: not an image file")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] < 3:
        raise BadInputError(f"ground-truth mask {path} must be an 8-bit colour PNG (magenta road, red non-road, "
                            f"black void), got {image.dtype} with shape {image.shape}")
    return image[:, :, :3]


def ground_truth_masks(mask_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positive, valid) boolean maps of a BGR mask: positive = blue > 0, valid = red > 0 (black is void)."""
    return mask_bgr[..., 0] > 0, mask_bgr[..., 2] > 0


def read_prediction(path: str | Path) -> np.ndarray:
    """A prediction PNG as confidence bytes (H, W) uint8; the probability is byte / 255."""
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise BadInputError(f"cannot read prediction {path}: not an image file")
    if image.dtype != np.uint8 or image.ndim != 2:
        raise BadInputError(f"prediction {path} must be an 8-bit grey PNG (confidence × 255), got {image.dtype} "
                            f"with shape {image.shape}")
    return image


def to_confidence_bytes(probability: np.ndarray, what: str = "prediction") -> np.ndarray:
    """Quantise probabilities to the 8 bits a prediction PNG holds: round(clip(p, 0, 1) · 255).

    A model's float output is scored through this, so scoring it directly and
    scoring its saved PNGs give the same numbers.
    """
    probability = np.asarray(probability, dtype=np.float32)
    if not np.all(np.isfinite(probability)):
        raise BadInputError(f"{what} holds NaN or infinite probabilities")
    return np.round(np.clip(probability, 0.0, 1.0) * 255.0).astype(np.uint8)


def write_confidence_png(path: str | Path, confidence: np.ndarray) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), confidence):
        raise OutputError(f"cannot write {path}")


# --------------------------------------------------------------------------- the threshold sweep


def confidence_histograms(confidence: np.ndarray, positive: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(2, 256) int64 counts of confidence bytes over valid pixels: row 0 negatives, row 1 positives."""
    if confidence.dtype != np.uint8:
        raise ValueError(f"confidences must be bytes (uint8), got {confidence.dtype}; "
                         f"quantise with to_confidence_bytes")
    # one bincount over a code per pixel: byte + 256·positive, void pixels in an extra bin that is dropped
    # (cheaper than gathering the valid pixels first)
    code = confidence.astype(np.uint16) | (positive.astype(np.uint16) << 8)
    code[~valid] = 2 * LEVELS
    counts = np.bincount(code.ravel(), minlength=2 * LEVELS + 1)[:2 * LEVELS]
    return counts.reshape(2, LEVELS).astype(np.int64)


@dataclass
class PixelCounts:
    """TP, FP, FN, TN at every threshold k/255 (each (256,)), from summed histograms."""

    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    tn: np.ndarray

    @classmethod
    def from_histograms(cls, histograms: np.ndarray) -> PixelCounts:
        negatives, positives = histograms
        # counts strictly below threshold k: the cumulative sum up to bin k − 1
        positives_below = np.concatenate([[0], np.cumsum(positives)[:-1]])
        negatives_below = np.concatenate([[0], np.cumsum(negatives)[:-1]])
        fn = positives_below
        fp = negatives.sum() - negatives_below
        return cls(tp=positives.sum() - fn, fp=fp, fn=fn, tn=negatives_below)


@dataclass
class RoadScores:
    """The benchmark's scores of one category in one view (fractions 0–1) and its PR curve."""

    MaxF: float
    AP: float
    PRE: float
    REC: float
    FPR: float
    FNR: float
    BestThresh: float
    precision: np.ndarray = field(repr=False)  # over the kept thresholds, for plotting
    recall: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, float]:
        return {key: float(getattr(self, key)) for key in METRIC_KEYS}


def scores_from_histograms(histograms: np.ndarray, what: str = "category") -> RoadScores:
    """MaxF, AP and the MaxF operating point from (2, 256) summed negative/positive histograms."""
    counts = PixelCounts.from_histograms(histograms)
    positives = int(histograms[1].sum())
    negatives = int(histograms[0].sum())
    if positives == 0:
        raise BadInputError(f"{what} has no positive (road) ground-truth pixels among its valid pixels: recall is "
                            f"undefined; check the masks (road must be magenta) and, in BEV, the calib")
    precision = counts.tp / (counts.tp + counts.fp + EPS)
    recall = counts.tp / positives
    kept = ~((precision == 0) & (recall == 0))  # thresholds above every positive say nothing
    thresholds = np.arange(LEVELS)[kept] / (LEVELS - 1)
    precision, recall = precision[kept], recall[kept]

    f_measure = 2 * precision * recall / (precision + recall + EPS)
    best = int(np.argmax(f_measure))  # the first threshold reaching the maximum, as the devkit's argmax
    # 11-point interpolated AP; k = 0 is always kept with recall 1, so every level has a point
    ap = float(np.mean([precision[recall >= level].max() for level in AP_RECALL_LEVELS]))

    fp, fn = counts.fp[kept][best], counts.fn[kept][best]
    return RoadScores(
        MaxF=float(f_measure[best]), AP=ap, PRE=float(precision[best]), REC=float(recall[best]),
        FPR=float(fp / negatives) if negatives else 0.0, FNR=float(fn / positives),
        BestThresh=float(thresholds[best]), precision=precision, recall=recall)


# --------------------------------------------------------------------------- accumulating a split


def categories_of(name: KittiRoadName) -> tuple[str, ...]:
    """The score categories a mask counts towards: road → its category and URBAN; lane → e.g. UM_LANE."""
    if name.kind == "road":
        return (name.category_label, URBAN)
    return (f"{name.category_label}_{name.kind.upper()}",)


class KittiRoadAccumulator:
    """Summed confidence histograms per view and category; frames are added one mask at a time."""

    def __init__(self, views: Sequence[str] = VIEWS):
        unknown = set(views) - set(VIEWS)
        if unknown or not views:
            raise BadInputError(f"unknown evaluation views {sorted(unknown)}: choose from {', '.join(VIEWS)}")
        self.views = tuple(v for v in VIEWS if v in views)
        self.histograms: dict[str, dict[str, np.ndarray]] = {view: {} for view in self.views}
        self.masks = 0

    def _add(self, view: str, categories: Iterable[str], histograms: np.ndarray) -> None:
        for category in categories:
            by_category = self.histograms[view]
            by_category[category] = by_category.get(category, 0) + histograms

    def add(self, name: KittiRoadName, mask_bgr: np.ndarray, confidence: np.ndarray,
            homography: RoadPlaneHomography | None) -> None:
        """Count one mask and its prediction (confidence bytes of the image's size) in every view."""
        if name.kind is None:
            raise BadInputError(f"a ground-truth mask needs a mask name such as {name.mask_name('road')}, "
                                f"got {name.frame}")
        if confidence.shape != mask_bgr.shape[:2]:
            raise BadInputError(f"prediction for {name.mask_name(name.kind)} is "
                                f"{confidence.shape[1]}x{confidence.shape[0]} "
                                f"but its image and ground truth are {mask_bgr.shape[1]}x{mask_bgr.shape[0]}: "
                                f"predictions must have the image's size")
        categories = categories_of(name)
        if "perspective" in self.views:
            self._add("perspective", categories, confidence_histograms(confidence, *ground_truth_masks(mask_bgr)))
        if "bev" in self.views:
            if homography is None:
                raise BadInputError(f"the BEV view of {name.mask_name(name.kind)} needs its calib")
            warp = bev_warp_for(homography, (mask_bgr.shape[1], mask_bgr.shape[0]), KITTI_BEV_GRID)
            bev_positive, bev_valid = ground_truth_masks(warp.warp(mask_bgr))
            self._add("bev", categories, confidence_histograms(warp.warp(confidence), bev_positive, bev_valid))
        self.masks += 1

    def scores(self) -> dict[str, dict[str, RoadScores]]:
        """{view: {category: RoadScores}} in the benchmark's category order (others, e.g. UMM_LANE, after it)."""
        def order(category: str) -> tuple:
            if category in CATEGORY_ORDER:
                return CATEGORY_ORDER.index(category), ""
            return len(CATEGORY_ORDER), category

        return {view: {category: scores_from_histograms(by_category[category], f"{category} ({view})")
                       for category in sorted(by_category, key=order)}
                for view, by_category in self.histograms.items()}


@dataclass
class KittiRoadReport:
    """The outcome of one evaluation run."""

    scores: dict[str, dict[str, RoadScores]]  # view → category → scores
    split: str
    frames: int
    masks: int
    notes: list[str] = field(default_factory=list)
    ms_per_frame: float | None = None  # the model's time per frame, when a model ran

    def to_json(self) -> dict:
        """{view: {category: {MaxF, AP, PRE, REC, FPR, FNR, BestThresh}}}, fractions 0–1."""
        return {view: {category: s.to_dict() for category, s in by_category.items()}
                for view, by_category in self.scores.items()}

    def format_table(self) -> str:
        lines = [f"KITTI Road {self.split}: {self.frames} frames, {self.masks} masks (scores in %; BestThresh 0-1)",
                 f"{'view':<19} {'category':<9}" + "".join(f"{k:>11}" for k in METRIC_KEYS)]
        for view, by_category in self.scores.items():
            for category, s in by_category.items():
                values = "".join(f"{100 * getattr(s, k):>11.2f}" for k in METRIC_KEYS[:-1])
                lines.append(f"{VIEW_LABELS[view]:<19} {category:<9}{values}{s.BestThresh:>11.3f}")
        if self.ms_per_frame is not None:
            lines.append(f"speed: {self.ms_per_frame:.1f} ms/frame, {1000 / self.ms_per_frame:.1f} fps "
                         f"(the model with its pre/post-processing; reading files and scoring not counted)")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)


# --------------------------------------------------------------------------- the data_road layout


@dataclass(frozen=True)
class KittiRoadSplit:
    """The folders of one split of the KITTI Road data (`data_road/training` or `data_road/testing`)."""

    root: Path
    split: str

    @property
    def images(self) -> Path:
        return self.root / self.split / "image_2"

    @property
    def ground_truth(self) -> Path:
        return self.root / self.split / "gt_image_2"

    @property
    def calib(self) -> Path:
        return self.root / self.split / "calib"

    @classmethod
    def open(cls, root: str | Path, split: str) -> KittiRoadSplit:
        root = Path(root)
        if not (root / split).is_dir():
            raise InputNotFoundError(f"no {split}/ folder in {root}: --root must be the KITTI Road data_road folder "
                                     f"(holding training/ and testing/)")
        return cls(root, split)

    def mask_files(self) -> list[tuple[KittiRoadName, Path]]:
        """Every ground-truth mask of the split, parsed (an unknown file name is an error, not skipped)."""
        if not self.ground_truth.is_dir():
            raise InputNotFoundError(f"no ground truth in {self.ground_truth}: KITTI Road masks exist only for the "
                                     f"training split")
        masks = []
        for path in sorted(self.ground_truth.glob("*.png")):
            name = parse_kitti_road_name(path)
            if name.kind is None:
                raise BadInputError(f"{path} is not a mask name: "
                                    "expected e.g. um_road_000000.png or um_lane_000000.png")
            masks.append((name, path))
        if not masks:
            raise BadInputError(f"no ground-truth masks (*.png) in {self.ground_truth}")
        return masks

    def image_files(self) -> list[tuple[KittiRoadName, Path]]:
        paths = sorted(self.images.glob("*.png")) if self.images.is_dir() else []
        if not paths:
            raise BadInputError(f"no frames (*.png) in {self.images}")
        return [(parse_kitti_road_name(p), p) for p in paths]

    def image_of(self, name: KittiRoadName) -> Path:
        path = self.images / f"{name.frame}.png"
        if not path.is_file():
            raise InputNotFoundError(f"no image for {name.frame}: expected {path}")
        return path

    def homography_of(self, name: KittiRoadName) -> RoadPlaneHomography:
        stem = name.mask_name(name.kind) if name.kind else name.frame  # the file the user knows, in the message
        return RoadPlaneHomography.from_kitti(load_kitti_calib(calib_path_for(self.calib, stem)))


def _by_frame(masks: list[tuple[KittiRoadName, Path]]) -> dict[str, list[tuple[KittiRoadName, Path]]]:
    frames: dict[str, list[tuple[KittiRoadName, Path]]] = {}
    for name, path in masks:
        frames.setdefault(name.frame, []).append((name, path))
    return frames


def _progress(items, desc: str):
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="frame", disable=None)  # None: silent when stderr is not a terminal


# --------------------------------------------------------------------------- scoring


def score_prediction_folder(root: str | Path, predictions: str | Path, split: str = "training",
                            views: Sequence[str] = VIEWS) -> KittiRoadReport:
    """Score existing perspective confidence maps (8-bit grey PNGs named like the masks) without a model."""
    layout = KittiRoadSplit.open(root, split)
    predictions = Path(predictions)
    if not predictions.is_dir():
        raise InputNotFoundError(f"prediction folder not found: {predictions}")
    if not any(predictions.glob("*.png")):
        raise BadInputError(f"no prediction PNGs in {predictions}: expected 8-bit grey maps named like the ground "
                            f"truth (um_road_000000.png)")
    masks = layout.mask_files()
    notes = []
    # a method without an ego-lane output is scored on road alone; a partial lane set is an error below
    kinds_predicted = {kind for kind in ("road", "lane") if any(predictions.glob(f"*_{kind}_*.png"))}
    if not kinds_predicted:
        raise BadInputError(f"no PNG in {predictions} is named like a KITTI Road mask (um_road_000000.png, "
                            f"um_lane_000000.png)")
    skipped = [m for m in masks if m[0].kind not in kinds_predicted]
    if skipped:
        kinds = sorted({m[0].kind for m in skipped})
        notes.append(f"no {'/'.join(kinds)} predictions in {predictions}: {len(skipped)} such masks not scored")
        masks = [m for m in masks if m[0].kind in kinds_predicted]

    accumulator = KittiRoadAccumulator(views)
    frames = _by_frame(masks)
    for frame_masks in _progress(frames.values(), "scoring kitti-road"):
        homography = layout.homography_of(frame_masks[0][0]) if "bev" in accumulator.views else None
        for name, mask_path in frame_masks:
            prediction_path = predictions / mask_path.name
            if not prediction_path.is_file():
                raise InputNotFoundError(f"no prediction for ground truth {mask_path.name}: expected {prediction_path}")
            accumulator.add(name, read_ground_truth(mask_path), read_prediction(prediction_path), homography)
    return KittiRoadReport(accumulator.scores(), split, len(frames), accumulator.masks, notes)


Predictor = Callable[[np.ndarray], object]  # frame BGR uint8 → result with road_probs (C, H, W) and road_classes


def predict_confidences(predictor: Predictor, frame: np.ndarray, what: str) -> dict[str, np.ndarray]:
    """{kind: confidence bytes (H, W)} for the mask kinds (road, lane) the model predicts."""
    result = predictor(frame)
    probs = np.asarray(result.road_probs)
    classes = list(result.road_classes)
    if probs.ndim != 3 or probs.shape[1:] != frame.shape[:2] or probs.shape[0] != len(classes):
        raise BadInputError(f"the model's road output for {what} has shape {probs.shape}, expected "
                            f"({len(classes)}, {frame.shape[0]}, {frame.shape[1]}) (one channel per road class, "
                            f"at the frame's size)")
    return {kind: to_confidence_bytes(probs[classes.index(kind)], f"the model's {kind} output for {what}")
            for kind in ("road", "lane") if kind in classes}


def evaluate_predictor(root: str | Path, predictor: Predictor, split: str = "training",
                       views: Sequence[str] = VIEWS, save_predictions: str | Path | None = None) -> KittiRoadReport:
    """Run a model over the split's frames with ground truth, score its 8-bit confidences, optionally save them."""
    layout = KittiRoadSplit.open(root, split)
    frames = _by_frame(layout.mask_files())
    accumulator = KittiRoadAccumulator(views)
    unscored: dict[str, int] = {}
    model_seconds = 0.0
    for frame_masks in _progress(frames.values(), "evaluating kitti-road"):
        frame_name = frame_masks[0][0]
        frame = cv2.imread(str(layout.image_of(frame_name)), cv2.IMREAD_COLOR)
        if frame is None:
            raise BadInputError(f"cannot read image {layout.image_of(frame_name)}")
        homography = layout.homography_of(frame_name) if "bev" in accumulator.views else None
        start = time.perf_counter()
        confidences = predict_confidences(predictor, frame, frame_name.frame)
        model_seconds += time.perf_counter() - start
        if save_predictions is not None:
            for kind in BENCHMARK_KINDS[frame_name.category]:
                if kind in confidences:
                    path = Path(save_predictions) / f"{frame_name.mask_name(kind)}.png"
                    write_confidence_png(path, confidences[kind])
        for name, mask_path in frame_masks:
            if name.kind not in confidences:
                unscored[name.kind] = unscored.get(name.kind, 0) + 1
                continue
            accumulator.add(name, read_ground_truth(mask_path), confidences[name.kind], homography)
    notes = [f"the model predicts no {kind}: {count} {kind} masks not scored" for kind, count in unscored.items()]
    return KittiRoadReport(accumulator.scores(), split, len(frames), accumulator.masks, notes,
                           ms_per_frame=1000 * model_seconds / len(frames))


# --------------------------------------------------------------------------- outputs


def write_json(report: KittiRoadReport, path: str | Path) -> Path:
    return atomic_write_text(path, json.dumps(report.to_json(), indent=2) + "\n")


def plot_precision_recall(report: KittiRoadReport, out_dir: str | Path) -> list[Path]:
    """One precision–recall PNG per view (pr_bev.png, pr_perspective.png), a curve per category."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure  # no pyplot: no global backend or figure state

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for view, by_category in report.scores.items():
        figure = Figure(figsize=(6.4, 5.2))
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        for category, s in by_category.items():
            axes.plot(s.recall, s.precision, label=f"{category}: MaxF {100 * s.MaxF:.2f}%, AP {100 * s.AP:.2f}%")
        axes.set(xlabel="recall", ylabel="precision", xlim=(0, 1.01), ylim=(0, 1.01),
                 title=f"KITTI Road {report.split}, {VIEW_LABELS[view]}")
        axes.grid(True, alpha=0.3)
        axes.legend(loc="lower left")
        path = out_dir / f"pr_{view}.png"
        figure.savefig(path, dpi=100)
        written.append(path)
    return written


def write_submission(root: str | Path, predictor: Predictor, out_dir: str | Path) -> Path:
    """BEV confidence PNGs of the testing split in the benchmark's naming and size (400×800), and their zip.

    Each frame's perspective confidences are quantised to bytes and warped with
    its calib, exactly as the benchmark warps perspective results; road for every
    frame, the ego lane for um frames when the model predicts it.
    """
    layout = KittiRoadSplit.open(root, "testing")
    out_dir = Path(out_dir)
    refuse_unsafe_outputs(folders={"--out": out_dir}, inputs={"the dataset": root, **weight_files(
        getattr(predictor, "weights", None))})
    # built in a temporary folder beside out_dir and renamed into place only when complete: a run that fails
    # halfway leaves nothing, and a folder that already holds files is refused (nothing overwritten)
    with atomic_folder(out_dir) as tmp_dir:
        written = []
        for name, image_path in _progress(layout.image_files(), "kitti-road submission"):
            frame = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
            if frame is None:
                raise BadInputError(f"cannot read image {image_path}")
            homography = layout.homography_of(name)
            confidences = predict_confidences(predictor, frame, name.frame)
            warp = bev_warp_for(homography, (frame.shape[1], frame.shape[0]), KITTI_BEV_GRID)
            for kind in BENCHMARK_KINDS[name.category]:
                if kind in confidences:
                    path = tmp_dir / f"{name.mask_name(kind)}.png"
                    write_confidence_png(path, warp.warp(confidences[kind]))
                    written.append(path)
        with zipfile.ZipFile(tmp_dir / SUBMISSION_ZIP, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for path in written:
                zf.write(path, arcname=path.name)
    archive = out_dir / SUBMISSION_ZIP
    return archive
