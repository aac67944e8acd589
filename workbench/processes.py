"""Processes on this machine: whether one still lives, and a token that tells a reused pid from its first owner.

Used by the store (is a run's writer still alive?) and by LocalServer (is a server's Python still alive?).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


HOST = socket.gethostname()
# processes are comparable by pid only within one boot and one pid namespace (containers have their own)
PID_NAMESPACE = os.readlink("/proc/self/ns/pid") if os.path.islink("/proc/self/ns/pid") else ""
MACHINE = f"{_read('/proc/sys/kernel/random/boot_id')}/{PID_NAMESPACE}"


def process_start(pid: int) -> str | None:
    """A token naming the process ``pid`` (machine and start time, from /proc); None when there is no such
    process (or only its zombie), or no /proc to read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces and parentheses
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return f"{MACHINE}:{fields[19]}"  # field 22 of stat: start time in clock ticks after boot


def alive(pid: int, start: str | None = None) -> bool:
    """The process ``pid`` exists (and, given its start token, is still the same process)."""
    if Path("/proc/self/stat").exists():
        token = process_start(pid)
        return token is not None and (start is None or token == start)
    try:  # no /proc (macOS): existence only
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
