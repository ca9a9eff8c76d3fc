"""PyTorch backend: the reference every other backend is checked against."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..model import PerceptionNet
from .base import Backend, BackendUnavailableError


class TorchBackend(Backend):
    name = "torch"

    def __init__(self, model: PerceptionNet, device: str = "cpu", weights: str | Path | None = None):
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise BackendUnavailableError(f"device {device!r} asked for, but PyTorch sees no CUDA GPU here; "
                                          "use --device cpu")
        self.device = torch.device(device)
        self.model = model.eval().to(self.device)
        self.input_size = model.input_size
        self.class_names = model.class_names
        self.road_classes = model.road_class_names
        self.description = f"PyTorch {torch.__version__} on {self.device}" + (f", {weights}" if weights else "")

    @torch.inference_mode()
    def infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = torch.from_numpy(batch).to(self.device)
        det, road = self.model(x)
        return det.float().cpu().numpy(), road.float().cpu().numpy()
