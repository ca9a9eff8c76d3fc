"""Model size figures: parameters and GFLOPs at the configured input size."""

from __future__ import annotations

import copy

import torch

from .model import PerceptionNet


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def gflops(model: PerceptionNet, input_size: tuple[int, int] | None = None) -> float:
    """Multiply-accumulates × 2 of one inference forward pass (thop, ultralytics' own counter)."""
    import thop

    h, w = input_size or model.input_size
    m = copy.deepcopy(model).eval()
    macs, _ = thop.profile(m, inputs=(torch.zeros(1, 3, h, w),), verbose=False)
    return macs * 2 / 1e9


def describe(model: PerceptionNet, input_size: tuple[int, int] | None = None) -> dict:
    h, w = input_size or model.input_size
    return {
        "name": model.cfg.get("name", "perception"),
        "scale": model.cfg["scale"],
        "input_size": [h, w],
        "classes": model.class_names,
        "road_classes": model.road_class_names,
        "params": count_parameters(model),
        "params_inference": count_parameters(model) - (count_parameters(model.road.aux) if model.road.aux else 0),
        "gflops": round(gflops(model, (h, w)), 3),
    }
