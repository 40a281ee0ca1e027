"""Which server process is using a data directory, so offline repairs do not race a running recorder."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

PID_FILE = "sharpeyes.pid"


def running_server(data_dir: Path) -> int | None:
    """The pid of a live server on ``data_dir``; None when none (a stale file from a crash does not count)."""
    try:
        pid = int((data_dir / PID_FILE).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid if pid != os.getpid() else None


@contextlib.contextmanager
def serving(data_dir: Path) -> Iterator[None]:
    """Mark ``data_dir`` as served by this process while the block runs."""
    path = data_dir / PID_FILE
    path.write_text(str(os.getpid()), encoding="ascii")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
