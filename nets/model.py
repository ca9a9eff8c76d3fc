"""PerceptionNet: one encoder, a road decoder and a YOLO detection head.

    image (B,3,H,W) float RGB in [0, 1]
      │
    encoder (Conv/C2f stages, SPPF) ── P2 (s4), P3 (s8), P4 (s16), P5 (s32)
      │                         │
      │                         └─ PAN neck over P3..P5 ── Detect → boxes
      └─ road decoder: ASPP on [P4, up(P5)] (s16) → up ×4 → fuse 1×1(P2) → 3×3 convs
         → road logits (s4) → sigmoid (inference) or bilinear to (H, W) (training)

Training forward returns raw head outputs for the losses, the road logits
upsampled to the input size. Inference forward returns decoded detections
(B, 4+nc, A) in input pixels (xywh, sigmoid scores) and road probabilities
(B, C, H/4, W/4) on the stride-4 grid: the post-processing resizes them once,
straight to the frame's own size, instead of the graph resizing to the network
input first: a full-size map costs a resize and sigmoid on 16x the pixels per
frame, and 16x the output bytes on a GPU (docs/results/README.md). Built from
ultralytics blocks.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from ultralytics.nn.modules import SPPF, C2f, Conv, Detect, DWConv
from ultralytics.utils.torch_utils import initialize_weights

from .blocks import ASPPLite, LastAxisDFL, default_activation
from .config import scaled_channels, scaled_repeats, validate_model_config


class Encoder(nn.Module):
    """YOLOv8-style CSP backbone returning features at strides 4, 8, 16 and 32."""

    def __init__(self, channels: list[int], repeats: list[int]):
        super().__init__()
        c0, c1, c2, c3, c4 = channels
        n1, n2, n3, n4 = repeats
        self.stem = Conv(3, c0, 3, 2)
        self.stage2 = nn.Sequential(Conv(c0, c1, 3, 2), C2f(c1, c1, n1, shortcut=True))
        self.stage3 = nn.Sequential(Conv(c1, c2, 3, 2), C2f(c2, c2, n2, shortcut=True))
        self.stage4 = nn.Sequential(Conv(c2, c3, 3, 2), C2f(c3, c3, n3, shortcut=True))
        self.stage5 = nn.Sequential(Conv(c3, c4, 3, 2), C2f(c4, c4, n4, shortcut=True), SPPF(c4, c4, 5))
        self.out_channels = (c1, c2, c3, c4)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        p2 = self.stage2(self.stem(x))
        p3 = self.stage3(p2)
        p4 = self.stage4(p3)
        p5 = self.stage5(p4)
        return [p2, p3, p4, p5]


class DetectionNeck(nn.Module):
    """YOLOv8 PAN: top-down then bottom-up fusion over strides 8, 16 and 32."""

    def __init__(self, c3: int, c4: int, c5: int, n: int):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.td4 = C2f(c5 + c4, c4, n)
        self.td3 = C2f(c4 + c3, c3, n)
        self.down3 = Conv(c3, c3, 3, 2)
        self.bu4 = C2f(c3 + c4, c4, n)
        self.down4 = Conv(c4, c4, 3, 2)
        self.bu5 = C2f(c4 + c5, c5, n)
        self.out_channels = (c3, c4, c5)

    def forward(self, p3: torch.Tensor, p4: torch.Tensor, p5: torch.Tensor) -> list[torch.Tensor]:
        t4 = self.td4(torch.cat([self.up(p5), p4], 1))
        n3 = self.td3(torch.cat([self.up(t4), p3], 1))
        n4 = self.bu4(torch.cat([self.down3(n3), t4], 1))
        n5 = self.bu5(torch.cat([self.down4(n4), p5], 1))
        return [n3, n4, n5]


class RoadDecoder(nn.Module):
    """DeepLabv3+-like decoder: stride-16 context fused with the stride-4 skip.

    The stride-4 path uses depthwise-separable convs: that is where the pixels
    are, and a full 3x3 conv there would cost more than the whole detection head.
    """

    def __init__(self, c2: int, c4: int, c5: int, num_classes: int, aspp_channels: int, aspp_rates,
                 skip_channels: int, head_channels: int, aux_head: bool):
        super().__init__()
        self.aspp = ASPPLite(c4 + c5, aspp_channels, tuple(aspp_rates))
        self.skip = Conv(c2, skip_channels, 1)
        c = aspp_channels + skip_channels
        self.fuse = nn.Sequential(
            DWConv(c, c, 3), Conv(c, head_channels, 1),
            DWConv(head_channels, head_channels, 3), Conv(head_channels, head_channels, 1),
        )
        self.logits = nn.Conv2d(head_channels, num_classes, 1)
        # deep supervision on the context features; dropped at inference and export
        self.aux = nn.Conv2d(aspp_channels, num_classes, 1) if aux_head else None

    def forward(self, p2, p4, p5, out_size: tuple[int, int]):
        """Training: (logits, aux logits or None) at `out_size`; inference: (logits at stride 4, None)."""
        up5 = F.interpolate(p5, size=p4.shape[2:], mode="bilinear", align_corners=False)
        ctx = self.aspp(torch.cat([p4, up5], 1))
        ctx_up = F.interpolate(ctx, size=p2.shape[2:], mode="bilinear", align_corners=False)
        x = self.fuse(torch.cat([ctx_up, self.skip(p2)], 1))
        logits = self.logits(x)
        if not self.training:
            return logits, None  # stride 4; see the module docstring
        logits = F.interpolate(logits, size=out_size, mode="bilinear", align_corners=False)
        aux = None
        if self.aux is not None:
            aux = F.interpolate(self.aux(ctx), size=out_size, mode="bilinear", align_corners=False)
        return logits, aux


class PerceptionNet(nn.Module):
    """The multi-task network; `cfg` is a resolved model config (nets.config.load_model_config)."""

    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = validate_model_config(cfg)
        channels, repeats = scaled_channels(self.cfg), scaled_repeats(self.cfg)
        _, c2, c3, c4, c5 = channels
        self.class_names = list(self.cfg["classes"])
        self.road_class_names = list(self.cfg["road_classes"])
        rd = self.cfg["road_decoder"]
        with default_activation(self.cfg.get("activation", "silu")):
            self.encoder = Encoder(channels, repeats)
            self.neck = DetectionNeck(c3, c4, c5, repeats[-1])
            self.road = RoadDecoder(c2, c4, c5, len(self.road_class_names), rd["aspp_channels"], rd["aspp_rates"],
                                    rd["skip_channels"], rd["head_channels"], rd.get("aux_head", False))
            self.detect = Detect(nc=len(self.class_names), reg_max=self.cfg["detect"]["reg_max"],
                                 ch=self.neck.out_channels)
        if self.detect.reg_max > 1:
            self.detect.dfl = LastAxisDFL(self.detect.reg_max)
        self.detect.stride = torch.tensor([8.0, 16.0, 32.0])
        self.stride = self.detect.stride
        initialize_weights(self)  # YOLO's BatchNorm settings (eps 1e-3, momentum 0.03) and in-place activations
        self.detect.bias_init()
        self._init_road_bias()

    def _init_road_bias(self) -> None:
        # start the road logits at the prior of a typical driving frame (~30 % road), not 50 %
        prior = torch.logit(torch.tensor(0.3)).item()
        nn.init.constant_(self.road.logits.bias, prior)
        if self.road.aux is not None:
            nn.init.constant_(self.road.aux.bias, prior)

    @property
    def input_size(self) -> tuple[int, int]:
        return tuple(self.cfg["input_size"])

    def forward(self, x: torch.Tensor):
        p2, p3, p4, p5 = self.encoder(x)
        road_logits, road_aux = self.road(p2, p4, p5, out_size=x.shape[2:])
        det = self.detect(self.neck(p3, p4, p5))
        if self.training:
            return {"det": det, "road": road_logits, "road_aux": road_aux}
        if isinstance(det, tuple):  # Detect returns (decoded, raw) unless in export mode
            det = det[0]
        return det, road_logits.sigmoid()

    def set_export_mode(self, export: bool = True) -> PerceptionNet:
        """Detect returns only decoded boxes in export mode (no raw feature dict in the graph)."""
        self.detect.export = export
        self.detect.format = "onnx" if export else None
        return self
