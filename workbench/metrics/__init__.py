"""Pure metric functions: no I/O, no models."""

from .choice import argmax, choice_predictions
from .stats import mean, mean_stderr, normal_ci

__all__ = ["argmax", "choice_predictions", "mean", "mean_stderr", "normal_ci"]
