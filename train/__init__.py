"""Datasets, augmentation, losses, the training engine and evaluation."""
