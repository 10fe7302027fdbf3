"""Sources: what offers instances to de-identify, each under an opaque handle.

A handle is what the journal keys on and what a worker loads; it stays in the side folder
(a folder source's handle is the input path, which may hold a name) and nothing is ever
derived from it: output names come from pseudonymised values only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from pacsguard.dicom.fswalk import WalkStats, iter_files
from pacsguard.errors import InputError

__all__ = ["FolderSource", "Source"]


class Source(Protocol):
    """Offers instances. It must pickle: workers in other processes call :meth:`load`."""

    def handles(self) -> Iterator[str]:
        """Every instance's handle, in a stable order, streamed (never listed whole)."""
        ...

    def load(self, handle: str) -> Path | bytes:
        """The instance: a local file when there is one (read by mapping it), else bytes."""
        ...

    def stamp(self, handle: str) -> tuple[int, int] | None:
        """(size, modification time in ns) to tell an unchanged input on resume; None when
        it is gone."""
        ...


class FolderSource:
    """Files and folder trees on a local file system.

    Files at any depth, sorted; links follow the one walker's rule
    (:mod:`pacsguard.dicom.fswalk`: only inside the input root); folders in ``exclude`` (the
    output and side folders) are never entered.
    """

    def __init__(self, roots: list[Path], exclude: tuple[Path, ...] = ()) -> None:
        self.roots = list(roots)
        self.exclude = tuple(exclude)
        self.stats = WalkStats()

    def check(self) -> None:
        """Refuse a missing input before anything is written."""
        for n, root in enumerate(self.roots, 1):
            if not root.exists():
                # The path itself may hold a patient's name: say which argument, not what it says.
                raise InputError(f"input #{n} of {len(self.roots)} does not exist")

    def paths(self, stats: WalkStats | None = None) -> Iterator[Path]:
        """Every regular file under the roots (files given directly are yielded as they are)."""
        return iter_files(self.roots, self.stats if stats is None else stats, self.exclude)

    def handles(self) -> Iterator[str]:
        for path in self.paths():
            yield str(path)

    def count(self) -> int:
        """How many files a walk finds (names only), for a progress bar's total."""
        return sum(1 for _ in self.paths(WalkStats()))

    def load(self, handle: str) -> Path:
        return Path(handle)

    def stamp(self, handle: str) -> tuple[int, int] | None:
        try:
            st = os.stat(handle)
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns
