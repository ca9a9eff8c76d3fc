"""What every inference engine provides to the shared pre/post-processing."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from core.errors import MissingDependencyError


class BackendUnavailableError(MissingDependencyError):
    """A backend cannot run here: a package, a file or a GPU is missing. The message says which."""


class Backend(ABC):
    """Runs the network on a pre-processed batch.

    infer(batch) takes (B, 3, H, W) float32 RGB in [0, 1] at `input_size` and
    returns (det, road): det (B, 4+nc, A) with xywh boxes in network pixels and
    sigmoid scores; road (B, C, H/4, W/4) probabilities on the network's stride-4 grid
    (older exports: (B, C, H, W); the post-processing takes any grid). Both numpy float32.
    """

    name: str = "backend"
    input_size: tuple[int, int]
    class_names: list[str]
    road_classes: list[str]
    description: str = ""  # e.g. the file it runs and its precision

    @abstractmethod
    def infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ...

    def warmup(self, runs: int = 2) -> None:
        dummy = np.zeros((1, 3, *self.input_size), dtype=np.float32)
        for _ in range(runs):
            self.infer(dummy)

    def close(self) -> None:  # noqa: B027 - optional: a backend without resources to free keeps this no-op
        """Free engine resources (device memory, sessions)."""
