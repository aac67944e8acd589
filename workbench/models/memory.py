"""Handing freed memory back to the system.

glibc keeps the blocks a program frees for its next allocations instead of returning them, so a process's resident
memory stays at its high-water mark after large buffers are freed and others of other sizes are made (decoding's
key/value slots, refitted as prompts get shorter; a prefill pass's activations). ``malloc_trim`` returns the free
pages. Elsewhere (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any


@functools.cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_freed_memory() -> None:
    """Return the C allocator's free pages to the system (glibc's ``malloc_trim(0)``; a no-op elsewhere)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
