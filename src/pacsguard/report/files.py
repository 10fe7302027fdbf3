"""Atomic report writes: a reader (or a crash) sees the old report or the new one, never half."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from pacsguard.errors import OutputError

__all__ = ["write_atomic"]


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8) in one rename.

    The data goes to a temporary file in the same folder (a rename is atomic only within
    one file system), is flushed and synced to disk, then renamed over ``path``. On any
    error the temporary file is removed and ``path`` keeps its old content; an ``OSError``
    becomes an :class:`OutputError` naming the file, not its folder. The new file is
    readable by its owner only (0600): a report may show values with ``--show-values``.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=".pacsguard-", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write report {path.name!r}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write report {path.name!r}: {exc.strerror}") from exc
        raise
    _sync_dir(path.parent)


def _sync_dir(folder: Path) -> None:
    # Makes the rename itself durable; some file systems cannot open a folder: best effort.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
