"""Model backends and the request kinds they answer."""

from .base import (
    Capabilities,
    GenerateRequest,
    GenerateResponse,
    LocalModel,
    LoglikelihoodRequest,
    LoglikelihoodResponse,
    Model,
)
from .loading import LoadSettings
from .registry import (
    ALIASES,
    DEFAULT_MODEL,
    capabilities,
    check_requests,
    describe,
    load,
    load_key,
    load_local,
    resolve,
)

__all__ = [
    "ALIASES",
    "Capabilities",
    "DEFAULT_MODEL",
    "GenerateRequest",
    "GenerateResponse",
    "LoglikelihoodRequest",
    "LoadSettings",
    "LocalModel",
    "LoglikelihoodResponse",
    "Model",
    "capabilities",
    "check_requests",
    "describe",
    "load",
    "load_key",
    "load_local",
    "resolve",
]
