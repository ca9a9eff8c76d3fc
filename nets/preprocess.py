"""Letterbox pre-processing shared by every backend and by training.

A frame is resized keeping its aspect ratio and padded (grey 114, as YOLO) to
the network input; `Letterbox` remembers the gain and padding so boxes and the
road map can be mapped back to the original pixels. At inference an optional
`ExposureNorm` then brings a dark frame's brightness up toward the training
frames' (configs/runtime.yaml `exposure`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.config import ConfigError

PAD_VALUE = 114


@dataclass(frozen=True)
class Letterbox:
    """Geometry of one letterbox: original (h, w) → network (h, w)."""

    src_shape: tuple[int, int]
    dst_shape: tuple[int, int]
    gain: float
    new_shape: tuple[int, int]  # resized content (h, w) before padding
    pad: tuple[int, int]  # (left, top) padding in network pixels

    @classmethod
    def fit(cls, src_shape: tuple[int, int], dst_shape: tuple[int, int]) -> Letterbox:
        h0, w0 = src_shape[:2]
        h1, w1 = dst_shape
        gain = min(h1 / h0, w1 / w0)
        nh, nw = max(round(h0 * gain), 1), max(round(w0 * gain), 1)
        # the same rounding as ultralytics' LetterBox, so its scale_boxes() agrees with us
        left, top = round((w1 - nw) / 2 - 0.1), round((h1 - nh) / 2 - 0.1)
        return cls((h0, w0), (h1, w1), gain, (nh, nw), (left, top))

    @property
    def ratio_pad(self) -> tuple[tuple[float, float], tuple[int, int]]:
        """ultralytics' ratio_pad: ((gain_h, gain_w), (pad_w, pad_h))."""
        (h0, w0), (nh, nw) = self.src_shape, self.new_shape
        return (nh / h0, nw / w0), self.pad

    def apply(self, image: np.ndarray, interpolation: int = cv2.INTER_LINEAR, pad_value=PAD_VALUE) -> np.ndarray:
        """Resize and pad an image (H, W[, C]) or a mask to the network size."""
        nh, nw = self.new_shape
        if image.shape[:2] != (nh, nw):
            image = cv2.resize(image, (nw, nh), interpolation=interpolation)
        left, top = self.pad
        h1, w1 = self.dst_shape
        # a 4-element scalar: cv2 fills only the first channel when given a bare number
        return cv2.copyMakeBorder(image, top, h1 - nh - top, left, w1 - nw - left, cv2.BORDER_CONSTANT,
                                  value=(pad_value,) * 4)

    def unpad_map(self, maps: np.ndarray, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
        """(C, h, w) maps on a grid over the network input → (C, h0, w0) at the original size.

        The grid may be the network size or coarser (the road head's stride-4 output):
        one affine warp per channel crops the padding and resizes in a single pass,
        with the same pixel-centre convention as cv2.resize and F.interpolate
        (align_corners=False).
        """
        h1, w1 = self.dst_shape
        h, w = maps.shape[1:]
        if h1 % h or w1 % w or h1 // h != w1 // w:
            raise ValueError(f"a {h}x{w} map is not an integer-stride grid over the {h1}x{w1} network input")
        stride = h1 // h
        (gain_h, gain_w), (left, top) = self.ratio_pad
        # original pixel x0 → network x = (x0 + 0.5) * gain + left → grid x = network x / stride - 0.5
        to_grid = np.array([[gain_w / stride, 0.0, ((0.5 * gain_w + left) / stride) - 0.5],
                            [0.0, gain_h / stride, ((0.5 * gain_h + top) / stride) - 0.5]])
        h0, w0 = self.src_shape
        out = np.empty((maps.shape[0], h0, w0), dtype=maps.dtype)
        for c in range(maps.shape[0]):
            cv2.warpAffine(maps[c], to_grid, (w0, h0), dst=out[c], flags=interpolation | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REPLICATE)
        return out


@dataclass(frozen=True)
class ExposureNorm:
    """A per-frame gain that moves the frame's mean pixel value toward `target_mean`, within
    [min_gain, max_gain]: the camera's auto-exposure, redone for the network.

    Why: a network trained on daytime drives ranks a dusk frame's road and objects well but
    scores them low (CamVid's dusk drive 0001TP averages 59 against 100-137 for the others;
    docs/results/README.md), so lifting the frame back into the training range recovers most of
    what a fixed threshold loses. `target_mean` is a property of the weights: the 5th percentile of
    their training frames' mean brightness, so only frames darker than nearly all of those change
    (lifting darker daytime frames up to the training mean cost road IoU on held-out drives);
    min_gain 1 leaves bright frames alone (clipped highlights cannot be recovered).
    The gain is measured on the letterboxed content only (the grey padding is not the scene) and
    applied with one lookup table, well under a millisecond on a 384x512 content.
    """

    target_mean: float
    min_gain: float = 1.0
    max_gain: float = 2.5

    def __post_init__(self):
        if not (0 < self.target_mean <= 255 and 0 < self.min_gain <= self.max_gain):
            raise ValueError(f"exposure normalisation needs 0 < target_mean <= 255 and 0 < min_gain <= max_gain; "
                             f"got target_mean={self.target_mean}, min_gain={self.min_gain}, "
                             f"max_gain={self.max_gain}")

    @classmethod
    def from_config(cls, section: dict) -> ExposureNorm | None:
        """configs/runtime.yaml `exposure` → a normaliser, or None when `enabled` is false."""
        if not section["enabled"]:
            return None
        try:
            return cls(float(section["target_mean"]), float(section["min_gain"]), float(section["max_gain"]))
        except (TypeError, ValueError) as e:
            raise ConfigError(f"runtime config exposure: {e} (see configs/runtime.yaml)") from None

    def apply(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """(the BGR image times its gain, rounded and clipped to 0..255; the gain). A gain within 1 % of 1
        is skipped. Pixels of exactly the padding grey neither count toward the mean nor change, so a frame
        that arrives already letterboxed (evaluation's samples) gets the gain its scene alone would."""
        # every 4th pixel each way is plenty for a mean; OpenCV's masked mean on a contiguous copy of those
        # is ~10x faster than numpy's boolean indexing (about 0.1 ms on a 384x512 content)
        sample = np.ascontiguousarray(image[::4, ::4])
        grey = cv2.inRange(sample, (PAD_VALUE,) * 3, (PAD_VALUE,) * 3)  # 255 on padding-grey pixels
        n_grey = cv2.countNonZero(grey)
        if n_grey == grey.size:
            return image, 1.0
        mean = float(np.mean(cv2.mean(sample, mask=cv2.bitwise_not(grey))[:3]))
        g = float(np.clip(self.target_mean / max(mean, 1.0), self.min_gain, self.max_gain))
        if abs(g - 1.0) < 0.01:
            return image, 1.0
        out = scale_brightness(image, g)
        if n_grey:
            out[cv2.inRange(image, (PAD_VALUE,) * 3, (PAD_VALUE,) * 3) > 0] = PAD_VALUE
        return out, g


def scale_brightness(image: np.ndarray, gain: float) -> np.ndarray:
    """Every channel value times `gain`, rounded and clipped to 0..255 (a lookup table: one pass). Shared by
    the inference-time ExposureNorm and the training-time exposure augmentation (train/augment.py)."""
    lut = np.clip(np.rint(np.arange(256, dtype=np.float32) * gain), 0, 255).astype(np.uint8)
    return cv2.LUT(image, lut)


def to_input_tensor(images_bgr: list[np.ndarray], input_size: tuple[int, int], exposure: ExposureNorm | None = None
                    ) -> tuple[np.ndarray, list[Letterbox]]:
    """BGR uint8 frames → (B, 3, H, W) float32 RGB in [0, 1], with their letterboxes; `exposure`
    (None: off) scales each frame's letterboxed content by its gain, the padding stays PAD_VALUE."""
    boxes = [Letterbox.fit(im.shape[:2], input_size) for im in images_bgr]
    batch = np.empty((len(images_bgr), 3, *input_size), dtype=np.float32)
    for i, (im, lb) in enumerate(zip(images_bgr, boxes, strict=True)):
        if im.ndim == 2:
            im = cv2.cvtColor(im, cv2.COLOR_GRAY2BGR)
        boxed = lb.apply(im)
        if exposure is not None:
            (nh, nw), (left, top) = lb.new_shape, lb.pad
            content = boxed[top:top + nh, left:left + nw]
            lifted, gain = exposure.apply(content)
            if gain != 1.0:
                content[...] = lifted  # boxed is a fresh array: writing into it is safe
        rgb = boxed[:, :, ::-1]
        np.multiply(rgb.transpose(2, 0, 1), 1 / 255.0, out=batch[i], casting="unsafe")
    return batch, boxes
