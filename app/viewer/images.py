"""numpy images as QImages without copying.

A QImage made from a buffer does not own it: the array must outlive the image.
`ImageView` keeps both together, so whoever holds the view holds the pixels.
"""

from __future__ import annotations

import numpy as np
from PyQt5.QtGui import QImage


class ImageView:
    """A QImage over a BGR (H, W, 3) or grey (H, W) uint8 array's own memory (copied only if not C-contiguous)."""

    __slots__ = ("array", "qimage")

    def __init__(self, array: np.ndarray):
        if array.dtype != np.uint8 or array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3):
            raise ValueError(f"expected a uint8 (H, W, 3) BGR or (H, W) grey image, got {array.dtype} {array.shape}")
        self.array = np.ascontiguousarray(array)
        h, w = self.array.shape[:2]
        fmt = QImage.Format_BGR888 if self.array.ndim == 3 else QImage.Format_Grayscale8
        # sip.voidptr over the array's buffer: no copy; the array stays referenced by this object
        self.qimage = QImage(self.array.data, w, h, self.array.strides[0], fmt)

    @property
    def width(self) -> int:
        return self.array.shape[1]

    @property
    def height(self) -> int:
        return self.array.shape[0]
