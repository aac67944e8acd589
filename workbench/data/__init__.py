"""Rows for tasks, from the hub, a local mirror of original files, or a user's own file."""

from .files import read_rows
from .sources import DataSpec, Rows, fingerprint, load_rows

__all__ = ["DataSpec", "Rows", "fingerprint", "load_rows", "read_rows"]
