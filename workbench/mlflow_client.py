"""The connection to MLflow, shared by the export (``mlflow_export``) and models from its registry
(``models/mlflow_registry``): the optional import, the tracking URI (MLflow's own default unless one is given), a
check that a server answers before anything is written, and a run's address in the MLflow UI.

A server with authentication (``mlflow server --app-name basic-auth``) gets its credentials from MLflow's own
environment variables (``MLFLOW_TRACKING_USERNAME`` and ``MLFLOW_TRACKING_PASSWORD``, or ``MLFLOW_TRACKING_TOKEN``),
which MLflow reads at each request: the workbench never stores, records or prints them.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from types import ModuleType
from typing import Any

from .errors import WorkbenchError

INSTALL = 'pip install -e ".[mlflow]"'
CREDENTIALS = "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN)"
HEALTH_TIMEOUT_S = 5.0


def require() -> ModuleType:
    """The mlflow package, or a message naming how to install it."""
    try:
        import mlflow
    except ImportError:
        raise WorkbenchError(
            f"MLflow is not installed: install the workbench's MLflow extra with `{INSTALL}` (or `pip install "
            "mlflow`), then try again."
        ) from None
    return mlflow


def tracking_uri(uri: str | None = None) -> str:
    """``uri``, else MLflow's own default (``$MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db`` in the working
    folder)."""
    mlflow = require()
    if uri is None:
        return str(mlflow.get_tracking_uri())
    if not isinstance(uri, str) or not uri.strip():
        raise WorkbenchError(
            f"tracking_uri must be an MLflow tracking URI such as 'http://127.0.0.1:5000' or "
            f"'sqlite:///mlflow.db' (got {uri!r:.60}); leave it out for MLflow's default."
        )
    return uri.strip()


def registry_uri() -> str:
    """The model registry MLflow uses by default (``$MLFLOW_REGISTRY_URI``, else the tracking URI)."""
    return str(require().get_registry_uri())


def is_http(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def check_reachable(uri: str, what: str = "tracking server") -> None:
    """Refuse, before anything is written, a server that does not answer (or is not MLflow): one GET of /health."""
    if not is_http(uri):
        return
    address = uri.rstrip("/") + "/health"
    fix = (
        "Start one (`mlflow server --host 127.0.0.1 --port 5000`) or name another with --tracking-uri "
        "(tracking_uri=...)"
    )
    try:
        with urllib.request.urlopen(address, timeout=HEALTH_TIMEOUT_S) as answer:  # noqa: S310 (http(s) only)
            answer.read(64)
    except urllib.error.HTTPError as exc:
        raise WorkbenchError(
            f"{uri} answers, but not as an MLflow {what} ({address}: HTTP {exc.code}). {fix}; nothing was written."
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WorkbenchError(f"No MLflow {what} answers at {uri} ({reason}). {fix}; nothing was written.") from None


def client(uri: str, registry: str | None = None) -> Any:
    """An ``MlflowClient`` for ``uri`` (never MLflow's global state, which a notebook may be using), after checking
    that the server answers and accepts our credentials."""
    mlflow = require()
    check_reachable(uri)
    try:
        made = mlflow.MlflowClient(tracking_uri=uri, registry_uri=registry or uri)
        made.search_experiments(max_results=1)  # a refused login or an unusable store is named here, not midway
    except mlflow.exceptions.MlflowException as exc:
        raise explained(exc, uri) from None
    return made


def explained(exc: Exception, uri: str) -> WorkbenchError:
    """An MLflow failure as one message naming the fix (credentials, the file store MLflow 3 refuses, ...)."""
    text = " ".join(str(exc).split())
    code = getattr(exc, "get_http_status_code", lambda: None)()
    if code in (401, 403) or "401" in text[:200] or "Unauthorized" in text[:200]:
        given = "are set but were refused" if os.environ.get("MLFLOW_TRACKING_USERNAME") else "are not set"
        return WorkbenchError(
            f"{uri} requires a login: the environment variables {CREDENTIALS} {given}. Set them (the workbench reads "
            "them from the environment only and never stores them) and try again."
        )
    if "MLFLOW_ALLOW_FILE_STORE" in text:
        return WorkbenchError(
            f"MLflow {require().__version__} refuses the file store {uri} unless MLFLOW_ALLOW_FILE_STORE=true is set. "
            "Set it, or use a database file instead: --tracking-uri sqlite:///mlflow.db (MLflow's default)."
        )
    return WorkbenchError(f"MLflow at {uri} failed: {text[:500]}")


def run_url(uri: str, experiment_id: str, run_id: str) -> str | None:
    """The run's page in the MLflow UI for a server URI; None for a local store (no UI to point at)."""
    if not is_http(uri):
        return None
    return f"{uri.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"
