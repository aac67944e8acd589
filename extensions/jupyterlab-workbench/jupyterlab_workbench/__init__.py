"""JupyterLab extension of llm-eval-workbench: the project store beside the notebook (docs/lab-extension.md)."""

try:
    from ._version import __version__
except ImportError:  # a source tree that was not installed
    __version__ = "dev"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyterlab-workbench"}]


def _jupyter_server_extension_points():
    return [{"module": "jupyterlab_workbench"}]


def _load_jupyter_server_extension(server_app):
    """Register the read-only store endpoints (routes.py) with the Jupyter server."""
    from .routes import setup_route_handlers

    setup_route_handlers(server_app.web_app)
    server_app.log.info("Registered jupyterlab_workbench server extension (read-only project store endpoints)")
