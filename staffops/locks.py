"""Advisory file locks (one staff change, one training at a time)."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from staffops.errors import Busy


@contextmanager
def file_lock(path: Path, timeout: float | None = None, what: str = "") -> Iterator[None]:
    """Hold an exclusive lock on `path` (created); wait up to `timeout` s (None: forever)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise Busy(
                        f"ほかの作業（{what or path.name}）が実行中です。しばらくしてから実行してください",
                        f"another operation ({what or path.name}) holds {path}; try again later",
                    ) from None
                time.sleep(0.2)
        yield
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
