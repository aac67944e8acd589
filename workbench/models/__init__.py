"""Model backends and the request kinds they answer."""

from .base import GenerateRequest, GenerateResponse, LoglikelihoodRequest, LoglikelihoodResponse, Model
from .registry import ALIASES, DEFAULT_MODEL, describe, load, resolve

__all__ = [
    "ALIASES",
    "DEFAULT_MODEL",
    "GenerateRequest",
    "GenerateResponse",
    "LoglikelihoodRequest",
    "LoglikelihoodResponse",
    "Model",
    "describe",
    "load",
    "resolve",
]
