"""Model backends and the request kinds they answer."""

from .base import (
    Capabilities,
    GenerateRequest,
    GenerateResponse,
    LoglikelihoodRequest,
    LoglikelihoodResponse,
    Model,
)
from .registry import ALIASES, DEFAULT_MODEL, capabilities, check_requests, describe, load, resolve

__all__ = [
    "ALIASES",
    "Capabilities",
    "DEFAULT_MODEL",
    "GenerateRequest",
    "GenerateResponse",
    "LoglikelihoodRequest",
    "LoglikelihoodResponse",
    "Model",
    "capabilities",
    "check_requests",
    "describe",
    "load",
    "resolve",
]
