"""Sinks: where de-identified instances are stored, whole or not at all.

Storing is two steps so that one process alone settles which input wins a name: a worker
*stages* the bytes (under a hidden temporary name beside the target), the coordinator
*commits* them (an atomic rename) or discards them. A reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Protocol

from pacsguard.dicom.payload import Payload
from pacsguard.errors import OutputError

__all__ = ["FolderSink", "Sink", "Staged"]

#: What a worker hands back for a staged instance: the sink's own token for it.
Staged = str


class Sink(Protocol):
    """Stores de-identified instances under their relative names. It must pickle.

    ``in_place``: ``stage`` already wrote the final name, atomically (an object store's one
    PUT), so ``commit`` and ``discard`` move nothing; when two inputs claim one name, the
    coordinator has the owner's instance written again after a loser's.
    """

    in_place: bool

    def prepare(self) -> None:
        """Check the destination can be written, before any work starts."""
        ...

    def stage(self, name: str, payload: Payload, handle: str) -> Staged:
        """Store ``payload`` where no reader looks yet; ``handle`` keeps two inputs that share
        a name apart until one is committed."""
        ...

    def commit(self, staged: Staged, name: str) -> None:
        """Make a staged instance visible under ``name``, atomically."""
        ...

    def discard(self, staged: Staged) -> None:
        ...

    def exists(self, name: str) -> bool:
        ...


class FolderSink:
    """A folder tree. ``durable``: fsync the file before its rename and the folder after,
    so that what is committed survives a power cut (a service acknowledges only then)."""

    in_place = False

    def __init__(self, root: Path, *, durable: bool = False) -> None:
        self.root = root
        self.durable = durable

    def prepare(self) -> None:
        refuse_links(self.root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".pacsguard-write-test-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise OutputError(f"cannot write to {self.root}: {exc.strerror or exc}") from exc

    def path(self, name: str) -> Path:
        return self.root / name

    def stage(self, name: str, payload: Payload, handle: str) -> Staged:
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        token = hashlib.sha256(handle.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        tmp = target.with_name(f".{target.name}.{token}.tmp")
        try:
            with open(tmp, "wb") as fh:
                payload.write_to(fh)  # a streamed file's pixel data: copied by the kernel
                if self.durable:
                    fh.flush()
                    os.fsync(fh.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return str(tmp.relative_to(self.root))

    def commit(self, staged: Staged, name: str) -> None:
        target = self.root / name
        os.replace(self.root / staged, target)  # atomic: a reader never sees half a file
        if self.durable:
            fsync_dir(target.parent)

    def discard(self, staged: Staged) -> None:
        (self.root / staged).unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        return (self.root / name).exists()


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def refuse_links(path: Path) -> None:
    """A link in the output (the folder itself, or anywhere below it) could send a write out
    of it: refused, before anything is written."""
    if path.is_symlink():
        raise OutputError("the output folder is a symbolic link; give its real path")
    if not path.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
        for name in (*dirnames, *filenames):
            if os.path.islink(os.path.join(dirpath, name)):
                raise OutputError("the output folder holds a symbolic link; refusing to write "
                                  "through it")
