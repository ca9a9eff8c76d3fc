"""Small blocks the road decoder needs that ultralytics does not have.

Everything else (Conv, C2f, SPPF, DWConv, Detect, DFL) comes from ultralytics.nn.modules;
these wrap or extend them.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn as nn
import torch.nn.functional as F
from ultralytics.nn.modules import DFL, Conv


class ASPPLite(nn.Module):
    """Atrous spatial pyramid pooling, DeepLabv3 style, kept light.

    Parallel branches see the same features at several receptive fields: a 1x1
    conv, 3x3 convs with the given dilations, and an image-level average that
    gives every pixel the global context of the scene (where the horizon is,
    how much road there is). A 1x1 conv fuses them.
    """

    def __init__(self, c_in: int, c_out: int, rates: tuple[int, ...] = (1, 2, 4)):
        super().__init__()
        # reduce first: the dilated 3x3 branches are the cost, and they need not see all input channels
        self.reduce = Conv(c_in, c_out, 1)
        self.branches = nn.ModuleList(Conv(c_out, c_out, 1 if r == 1 else 3, d=r) for r in rates)
        # no BatchNorm after a 1x1 pooled map: with batch size 1 it would see a single value per channel
        self.image_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c_out, c_out, 1), nn.ReLU())
        self.project = Conv(c_out * (len(rates) + 1), c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.reduce(x)
        feats = [b(x) for b in self.branches]
        # expand (not interpolate) the 1x1 pooled map: exports as a plain Expand, exact in every runtime
        feats.append(self.image_pool(x).expand(-1, -1, x.shape[2], x.shape[3]))
        return self.project(torch.cat(feats, 1))


class UpConv(nn.Module):
    """Resize then convolve: upsampling without transposed convolutions (no checkerboard artefacts)."""

    def __init__(self, c_in: int, c_out: int, scale: int):
        super().__init__()
        self.scale = scale
        self.conv = Conv(c_in, c_out, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=self.scale, mode="bilinear", align_corners=False))


class LastAxisDFL(DFL):
    """ultralytics' DFL with the softmax taken over the last axis.

    Same weights and same numbers; softmax over a non-innermost axis is several
    times slower in ONNX Runtime on the CPU, and this head runs on every anchor.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, a = x.shape
        dist = x.view(b, 4, self.c1, a).transpose(2, 3).softmax(-1)  # (B, 4, A, bins)
        return (dist @ self.conv.weight.view(self.c1, 1)).view(b, 4, a)


ACTIVATIONS = {"silu": nn.SiLU, "relu": nn.ReLU}


@contextlib.contextmanager
def default_activation(name: str):
    """Build ultralytics blocks with another activation than their default SiLU.

    ultralytics' Conv reads the class attribute `default_act` when a block is
    built (C2f, SPPF and Detect make their own Convs), so it is swapped for the
    duration of construction only. ReLU fuses into the conv kernel in ONNX
    Runtime and TensorRT; SiLU costs a separate pass over every feature map.
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"activation {name!r} is not one of {sorted(ACTIVATIONS)}")
    saved = Conv.default_act
    Conv.default_act = ACTIVATIONS[name]()
    try:
        yield
    finally:
        Conv.default_act = saved
