"""Class-balanced sampling: frames with rare classes are drawn more often (repeat-factor sampling).

CamVid has cars in most frames and cyclists in few; a uniform sampler shows the
detector few cyclists and pedestrians per epoch. Repeat-factor sampling (Gupta et
al., LVIS, 2019) gives class c the factor r_c = max(1, (t / f_c) ** power), f_c
being the fraction of frames that hold a box of c, and each frame the largest
factor of the classes in it; frames are drawn with replacement in proportion.
A recipe turns it on with

    sampler: {repeat_threshold: 0.5, power: 0.5}

(t = repeat_threshold; power 0.5 is LVIS's square root).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import WeightedRandomSampler

from core.errors import UserError


def repeat_factors(frame_classes: list[np.ndarray], num_classes: int, threshold: float,
                   power: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(per-frame factors, per-class factors) from each frame's box classes."""
    if not frame_classes:
        raise UserError("class-balanced sampling: the training set has no frames")
    present = np.zeros((len(frame_classes), num_classes), bool)
    for i, classes in enumerate(frame_classes):
        if classes is not None and len(classes):
            present[i, np.asarray(classes, np.int64)] = True
    freq = present.mean(0)
    with np.errstate(divide="ignore"):
        per_class = np.where(freq > 0, np.maximum(1.0, (threshold / np.maximum(freq, 1e-12)) ** power), 1.0)
    per_frame = np.array([per_class[row].max() if row.any() else 1.0 for row in present])
    return per_frame, per_class


def balanced_sampler(dataset, settings: dict, num_classes: int, seed: int, log=print) -> WeightedRandomSampler:
    """A sampler drawing len(dataset) frames per epoch with repeat-factor weights (labels read once)."""
    unknown = sorted(set(settings) - {"repeat_threshold", "power"})
    if unknown or "repeat_threshold" not in settings:
        raise UserError(f"training recipe: sampler takes repeat_threshold (required) and power; got {sorted(settings)}")
    threshold, power = float(settings["repeat_threshold"]), float(settings.get("power", 0.5))
    if not 0 < threshold <= 1 or power <= 0:
        raise UserError(f"training recipe: sampler.repeat_threshold must be in (0, 1] and power > 0, "
                        f"got {threshold}, {power}")
    frame_classes = [dataset.load(i).classes for i in range(len(dataset))]
    per_frame, per_class = repeat_factors(frame_classes, num_classes, threshold, power)
    log(f"class-balanced sampling: class repeat factors {np.round(per_class, 2).tolist()}, "
        f"frames weighted {per_frame.min():.2f}-{per_frame.max():.2f}")
    return WeightedRandomSampler(torch.as_tensor(per_frame, dtype=torch.double), num_samples=len(dataset),
                                 replacement=True, generator=torch.Generator().manual_seed(seed))
