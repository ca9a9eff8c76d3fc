"""Augmentation applied consistently to a sample's image, road mask and boxes.

Training: colour jitter (image only) → random scale + crop → horizontal flip →
[optional extras: perspective jitter, contrast, blur, noise, JPEG] → letterbox to the network input;
with probability `mosaic`, four samples go through that at half the input size and are tiled 2x2 into one
input. Validation: letterbox only, the same geometry inference uses (`nets.preprocess.Letterbox`).
Masks are resampled by nearest neighbour (INTER_NEAREST_EXACT) and padded with 255 (void), so padding never counts
as road or background; the image is padded with the inference pad value.

Every random draw comes from the numpy Generator passed in, in a fixed order,
so one (seed, epoch, index) gives one augmentation whatever the data loader's
worker count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import cv2
import numpy as np

from core.config import ConfigError, unknown_key_message
from nets.preprocess import PAD_VALUE, Letterbox, scale_brightness
from train.sample import IGNORE, Sample


@dataclass(frozen=True)
class AugmentParams:
    """Training augmentation settings; the defaults live in configs/data/*.yaml (`augment:`)."""

    scale: tuple[float, float]  # zoom range: > 1 crops part of the frame, < 1 shows it smaller on padding
    flip_prob: float  # probability of a horizontal flip
    hsv_h: float  # largest hue shift, as a fraction of the hue circle
    hsv_s: float  # largest relative saturation change (0.7 = ×0.3 … ×1.7)
    hsv_v: float  # largest relative brightness change
    min_box_visibility: float  # drop a box whose area inside the crop is under this fraction of its area
    min_box_size: float  # drop a box narrower or shorter than this, in network pixels
    mosaic: float = 0.0  # probability of a 2x2 mosaic of four samples (see `mosaic`)
    # photometric and geometric extras (off at 0; see `augment_extras`): footage from other cameras
    contrast: float = 0.0  # largest relative contrast change around the image mean (0.3 = ×0.7 … ×1.3)
    blur_prob: float = 0.0  # probability of a Gaussian blur (sigma uniform in 0.3 … blur_sigma)
    blur_sigma: float = 1.5
    noise: float = 0.0  # largest standard deviation of Gaussian pixel noise, in 8-bit levels
    jpeg_prob: float = 0.0  # probability of a JPEG re-encode at a quality uniform in jpeg_quality … 95
    jpeg_quality: float = 40.0
    perspective: float = 0.0  # largest corner shift of a random homography, as a fraction of the frame size
    # exposure: every pixel value times a gain drawn log-uniformly from [min, max] (clipped at 255). hsv_v's
    # ×(1 ± 0.3) never reaches a dusk drive (CamVid's 0001TP averages 59 against 107-139 for the daytime
    # drives, a gain near 0.5); (1, 1) is off
    exposure: tuple[float, float] = (1.0, 1.0)
    # cast shadows: with probability shadow_prob, blobs covering up to half the frame lose 30 % … shadow_strength
    # of their light (less in blue: skylight still reaches them). A model that never saw the drive
    # loses road recall under them (a fold model on 0016E5: 0.94 -> 0.83 under a 0.6 synthetic shadow), and
    # the tree shadows of test_video.mp4 cut holes in the ego lane. Tried 2026-12-03: no held-out gain on
    # CamVid, and the fine-tune with it was not shipped (README, "Cast shadows"), so no shipped recipe uses it
    shadow_prob: float = 0.0
    shadow_strength: float = 0.6
    # copy-paste (train/copy_paste.py): with probability copy_paste, up to copy_paste_objects objects of the
    # copy_paste_classes are cut out of another labelled frame by their masks and pasted where they stood, before
    # the rest of the augmentation. Needs a dataset with pixel masks of its objects (CamVid); not in mosaics
    copy_paste: float = 0.0
    copy_paste_objects: float = 4.0
    copy_paste_classes: tuple[str, ...] = ("pedestrian", "cyclist")

    @classmethod
    def from_config(cls, cfg: Mapping, source: str = "augment") -> AugmentParams:
        names = [f.name for f in fields(cls)]
        optional = {"mosaic", "contrast", "blur_prob", "blur_sigma", "noise", "jpeg_prob", "jpeg_quality",
                    "perspective", "exposure", "shadow_prob", "shadow_strength", "copy_paste", "copy_paste_objects",
                    "copy_paste_classes"}
        if not isinstance(cfg, Mapping):
            raise ConfigError(f"{source}: augmentation settings must be a mapping (see configs/data/camvid.yaml), "
                              f"got {cfg!r}")
        unknown = [k for k in cfg if k not in names]
        if unknown:
            raise ConfigError(unknown_key_message(unknown[0], names, source))
        missing = [n for n in names if n not in cfg and n not in optional]
        if missing:
            required = [n for n in names if n not in optional]
            raise ConfigError(f"{source}: augmentation settings need the keys {required} (optional: "
                              f"{sorted(optional)}); missing {missing} (see configs/data/camvid.yaml)")
        try:
            lo, hi = (float(v) for v in cfg["scale"])
            pairs = {"scale": (lo, hi)}
            if "exposure" in cfg:
                pairs["exposure"] = tuple(float(v) for v in cfg["exposure"])
                if len(pairs["exposure"]) != 2:
                    raise ValueError(f"exposure must be a [min, max] pair, got {cfg['exposure']!r}")
            if "copy_paste_classes" in cfg:
                chosen = cfg["copy_paste_classes"]
                if isinstance(chosen, str) or not all(isinstance(c, str) for c in chosen):
                    raise ValueError(f"copy_paste_classes must be a list of class names, got {chosen!r}")
                pairs["copy_paste_classes"] = tuple(chosen)
            params = cls(**pairs, **{n: float(cfg[n]) for n in names if n not in pairs and n in cfg})
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{source}: augmentation settings must be numbers (scale and exposure [min, max] "
                              f"pairs, copy_paste_classes a list of class names): {e}") from e
        if not 0 < lo <= hi:
            raise ConfigError(f"{source}: scale must be [min, max] with 0 < min <= max, got {cfg['scale']}")
        if not 0 < params.exposure[0] <= params.exposure[1]:
            raise ConfigError(f"{source}: exposure must be [min, max] gains with 0 < min <= max "
                              f"(e.g. [0.35, 1.4]; [1, 1] is off), got {cfg['exposure']}")
        for n in ("flip_prob", "min_box_visibility", "mosaic", "contrast", "blur_prob", "jpeg_prob", "perspective",
                  "shadow_prob", "copy_paste"):
            if not 0 <= getattr(params, n) <= 1:
                raise ConfigError(f"{source}: {n} must lie in [0, 1], got {getattr(params, n)}")
        if not 0.3 <= params.shadow_strength < 1:
            raise ConfigError(f"{source}: shadow_strength must lie in [0.3, 1), got {params.shadow_strength}")
        if params.copy_paste_objects < 1 or params.copy_paste_objects != int(params.copy_paste_objects):
            raise ConfigError(f"{source}: copy_paste_objects must be a whole number >= 1, got "
                              f"{params.copy_paste_objects}")
        if not 1 <= params.jpeg_quality <= 95:
            raise ConfigError(f"{source}: jpeg_quality must lie in [1, 95], got {params.jpeg_quality}")
        for n in ("hsv_h", "hsv_s", "hsv_v", "min_box_size", "blur_sigma", "noise"):
            if getattr(params, n) < 0:
                raise ConfigError(f"{source}: {n} must not be negative, got {getattr(params, n)}")
        return params


def augment(sample: Sample, input_size: tuple[int, int], params: AugmentParams,
            rng: np.random.Generator) -> Sample:
    """One random training view of `sample` at the network input size (height, width)."""
    # draw everything first, in a fixed order, so the stream does not depend on the content
    hsv_gains = rng.uniform(-1, 1, 3) * (params.hsv_h, params.hsv_s, params.hsv_v)
    zoom = rng.uniform(*params.scale)
    position = rng.random(2)
    flip = rng.random() < params.flip_prob

    h, w = sample.image.shape[:2]
    cw, ch = max(round(w / zoom), 1), max(round(h / zoom), 1)
    # the window slides over the frame when zooming in, the frame over the window when zooming out
    x0 = min(0, w - cw) + int(position[0] * (abs(w - cw) + 1))
    y0 = min(0, h - ch) + int(position[1] * (abs(h - ch) + 1))

    image = crop_with_pad(jitter_hsv(sample.image, hsv_gains), x0, y0, cw, ch, PAD_VALUE)
    road = None
    if sample.road is not None:
        road = np.stack([crop_with_pad(m, x0, y0, cw, ch, IGNORE) for m in sample.road])
    boxes, classes = sample.boxes, sample.classes
    if boxes is not None:
        boxes, classes = crop_boxes(boxes, classes, x0, y0, cw, ch, params.min_box_visibility)

    if flip:
        image = cv2.flip(image, 1)
        if road is not None:
            road = road[:, :, ::-1]
        if boxes is not None:
            boxes = np.stack([cw - boxes[:, 2], boxes[:, 1], cw - boxes[:, 0], boxes[:, 3]], axis=1)

    cropped = Sample(np.ascontiguousarray(image), road, boxes, classes, sample.source)
    if has_extras(params):  # drawn after the base draws, and only when on: older recipes see the same stream
        cropped = augment_extras(cropped, params, rng)
    return letterbox_sample(cropped, input_size, min_box_size=params.min_box_size)


def has_extras(params: AugmentParams) -> bool:
    return any((params.contrast, params.blur_prob, params.noise, params.jpeg_prob, params.perspective,
                params.exposure != (1.0, 1.0), params.shadow_prob))


def augment_extras(sample: Sample, params: AugmentParams, rng: np.random.Generator) -> Sample:
    """Perspective jitter (image, road mask and boxes), then exposure, shadows, contrast, blur, noise and JPEG
    (image only).

    Other cameras tilt differently, are softer or noisier and compress harder than
    CamVid's: these teach the network to care less. All draws happen first, in a fixed order.
    """
    corners = rng.uniform(-1, 1, (4, 2)) * params.perspective
    contrast = 1 + rng.uniform(-1, 1) * params.contrast
    blur = rng.random() < params.blur_prob
    sigma = rng.uniform(0.3, max(params.blur_sigma, 0.3))
    noise_std = rng.uniform(0, params.noise)
    jpeg = rng.random() < params.jpeg_prob
    quality = int(rng.uniform(params.jpeg_quality, 95))
    noise_seed = int(rng.integers(2**31))
    # drawn last and only when on, so recipes without it keep their random stream
    gain = float(np.exp(rng.uniform(*np.log(params.exposure)))) if params.exposure != (1.0, 1.0) else 1.0
    shadow_seed = None  # likewise
    if params.shadow_prob > 0 and rng.random() < params.shadow_prob:
        shadow_seed = int(rng.integers(2**31))

    image, road, boxes, classes = sample.image, sample.road, sample.boxes, sample.classes
    if params.perspective > 0:
        h, w = image.shape[:2]
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
        matrix = cv2.getPerspectiveTransform(src, src + (corners * (w, h)).astype(np.float32))
        image = cv2.warpPerspective(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                    borderValue=(PAD_VALUE,) * 3)
        if road is not None:
            road = np.stack([cv2.warpPerspective(m, matrix, (w, h), flags=cv2.INTER_NEAREST,
                                                 borderMode=cv2.BORDER_CONSTANT, borderValue=IGNORE) for m in road])
        if boxes is not None and len(boxes):
            boxes, classes = warp_boxes(boxes, classes, matrix, w, h, params.min_box_visibility)
    if gain != 1:
        image = scale_brightness(image, gain)
    if shadow_seed is not None:
        image = cast_shadows(image, params.shadow_strength, np.random.default_rng(shadow_seed))
    if contrast != 1:
        mean = float(image.mean())
        image = cv2.convertScaleAbs(image, alpha=contrast, beta=mean * (1 - contrast))
    if blur:
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    if noise_std > 0:
        noise = np.random.default_rng(noise_seed).normal(0, noise_std, image.shape)
        image = np.clip(image + noise, 0, 255).astype(np.uint8)
    if jpeg:
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return Sample(np.ascontiguousarray(image), road, boxes, classes, sample.source)


def cast_shadows(image: np.ndarray, max_strength: float, rng: np.random.Generator) -> np.ndarray:
    """`image` (BGR uint8) with soft-edged shadow blobs: smooth random noise over a coarse grid, thresholded
    to cover 15-50 % of the frame (less in the end: none reach its top 30 %), where the pixels lose a share
    of their light drawn in 0.3 … max_strength. Blue loses a little less than green and red: a shadow is
    lit by the (blue) sky, not the sun."""
    h, w = image.shape[:2]
    grid = rng.random((int(rng.integers(3, 9)), int(rng.integers(4, 13)))).astype(np.float32)
    cover = rng.uniform(0.15, 0.5)
    strength = rng.uniform(0.3, max_strength)
    field = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    blobs = (field > np.quantile(field, 1 - cover)).astype(np.float32)
    edge = max(3, int(min(h, w) * 0.02) | 1)  # penumbra: a few pixels of soft edge
    blobs = cv2.GaussianBlur(blobs, (edge, edge), 0)
    # shadows fall on the ground and what stands on it, not on the sky: fade them out above mid-frame
    blobs *= np.clip((np.arange(h, dtype=np.float32) / h - 0.3) / 0.2, 0, 1)[:, None]
    darken = strength * blobs[..., None] * np.array([0.85, 1.0, 1.0], np.float32)
    return np.clip(image.astype(np.float32) * (1 - darken) + 0.5, 0, 255).astype(np.uint8)


def warp_boxes(boxes: np.ndarray, classes: np.ndarray, matrix: np.ndarray, width: int, height: int,
               min_visibility: float) -> tuple[np.ndarray, np.ndarray]:
    """Boxes through a homography: the bounding box of the warped corners, clipped to the frame;
    mostly cut-off boxes are dropped (as `crop_boxes` does)."""
    x1, y1, x2, y2 = boxes.T
    pts = np.stack([np.stack([x1, y1], 1), np.stack([x2, y1], 1), np.stack([x2, y2], 1), np.stack([x1, y2], 1)], 1)
    warped = cv2.perspectiveTransform(pts.reshape(-1, 1, 2).astype(np.float32), matrix).reshape(-1, 4, 2)
    out = np.concatenate([warped.min(1), warped.max(1)], 1)
    clipped = np.clip(out, 0, np.array([width, height, width, height], np.float32))
    area = (out[:, 2] - out[:, 0]) * (out[:, 3] - out[:, 1])
    visible = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    keep = (visible > 0) & (visible >= min_visibility * area)
    return clipped[keep].astype(np.float32), classes[keep]


def mosaic(samples: Sequence[Sample], input_size: tuple[int, int], params: AugmentParams,
           rng: np.random.Generator) -> Sample:
    """Four samples, each augmented on its own at half the input size, tiled 2x2 into one input.

    A grid rather than YOLO's random-centre mosaic: every quadrant stays a whole driving
    scene (road at the bottom, horizon across the middle), so the road labels keep their
    meaning, while the detector sees four scenes' objects at half scale in one image.
    (ultralytics' Mosaic transform carries its Instances labels, not a per-pixel road
    mask with void pixels.) A quadrant whose sample has no road label is void in the
    road mask; if any of the four has no box labels the mosaic has none, since its
    objects would otherwise be taught as background.
    """
    if len(samples) != 4:
        raise ValueError(f"a mosaic takes 4 samples, got {len(samples)}")
    h, w = input_size
    th, tw = h // 2, w // 2
    tiles = [augment(s, (th, tw), params, rng) for s in samples]
    offsets = [(0, 0), (tw, 0), (0, th), (tw, th)]  # (x, y) of each quadrant
    image = np.full((h, w, 3), PAD_VALUE, np.uint8)
    channels = next((t.road.shape[0] for t in tiles if t.road is not None), None)
    road = None if channels is None else np.full((channels, h, w), IGNORE, np.uint8)
    for t, (x, y) in zip(tiles, offsets, strict=True):
        image[y:y + th, x:x + tw] = t.image
        if t.road is not None:
            road[:, y:y + th, x:x + tw] = t.road
    boxes = classes = None
    if all(t.boxes is not None for t in tiles):
        boxes = np.concatenate([t.boxes + np.array([x, y, x, y], np.float32)
                                for t, (x, y) in zip(tiles, offsets, strict=True)])
        classes = np.concatenate([t.classes for t in tiles])
    return Sample(image, road, boxes, classes, "mosaic of " + ", ".join(s.source for s in samples))


def letterbox_sample(sample: Sample, input_size: tuple[int, int], min_box_size: float = 0.0) -> Sample:
    """Resize + pad a sample to the network input exactly as inference does."""
    lb = Letterbox.fit(sample.image.shape[:2], tuple(input_size))
    image = lb.apply(sample.image)
    road = None
    if sample.road is not None:
        # NEAREST_EXACT samples at pixel centres like INTER_LINEAR does for the image; plain
        # INTER_NEAREST floors and drifts up to half an output pixel off the image when shrinking
        road = np.stack([lb.apply(np.ascontiguousarray(m), cv2.INTER_NEAREST_EXACT, IGNORE) for m in sample.road])
    boxes, classes = sample.boxes, sample.classes
    if boxes is not None:
        # per-axis gains of the rounded content size: the boxes land on the pixels the image resize put there
        (gain_h, gain_w), (left, top) = lb.ratio_pad
        boxes = (boxes * np.array([gain_w, gain_h, gain_w, gain_h], np.float32)
                 + np.array([left, top, left, top], np.float32))
        if min_box_size > 0:
            keep = ((boxes[:, 2] - boxes[:, 0]) >= min_box_size) & ((boxes[:, 3] - boxes[:, 1]) >= min_box_size)
            boxes, classes = boxes[keep], classes[keep]
    return Sample(image, road, boxes.astype(np.float32) if boxes is not None else None, classes, sample.source)


def jitter_hsv(image: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """Shift hue by gains[0] of the circle, scale saturation and value by 1 + gains[1:] (via lookup tables)."""
    if not np.any(gains):
        return image
    hue, sat, val = cv2.split(cv2.cvtColor(image, cv2.COLOR_BGR2HSV))
    x = np.arange(256, dtype=np.float32)
    lut_hue = np.mod(x + gains[0] * 180, 180).astype(np.uint8)  # OpenCV's 8-bit hue runs 0..179
    lut_sat = np.clip(x * (1 + gains[1]), 0, 255).astype(np.uint8)
    lut_val = np.clip(x * (1 + gains[2]), 0, 255).astype(np.uint8)
    hsv = cv2.merge((cv2.LUT(hue, lut_hue), cv2.LUT(sat, lut_sat), cv2.LUT(val, lut_val)))
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def crop_with_pad(array: np.ndarray, x0: int, y0: int, width: int, height: int, pad_value: int) -> np.ndarray:
    """The (height, width) window at (x0, y0) of an (H, W[, C]) array; parts outside it are `pad_value`."""
    h, w = array.shape[:2]
    if x0 >= 0 and y0 >= 0 and x0 + width <= w and y0 + height <= h:
        return array[y0:y0 + height, x0:x0 + width]  # a view: no copy when zooming in
    out = np.full((height, width, *array.shape[2:]), pad_value, dtype=array.dtype)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + width, w), min(y0 + height, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = array[sy0:sy1, sx0:sx1]
    return out


def crop_boxes(boxes: np.ndarray, classes: np.ndarray, x0: int, y0: int, width: int, height: int,
               min_visibility: float) -> tuple[np.ndarray, np.ndarray]:
    """Boxes moved into the window at (x0, y0) and clipped to it; mostly cut-off boxes are dropped."""
    moved = boxes - np.array([x0, y0, x0, y0], np.float32)
    clipped = np.clip(moved, 0, np.array([width, height, width, height], np.float32))
    area = (moved[:, 2] - moved[:, 0]) * (moved[:, 3] - moved[:, 1])
    visible = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    keep = (visible > 0) & (visible >= min_visibility * area)
    return clipped[keep].astype(np.float32), classes[keep]
