"""Datasets, augmentation, losses, the training engine and evaluation."""

import core.offline  # noqa: F401  (ultralytics offline before any module here imports it)
