"""Walk the inputs: files at any depth, with or without extension, symlinks followed with
loop detection. Yields paths in a stable order so runs are reproducible."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pacsguard.errors import InputError


@dataclass
class WalkStats:
    """What the walk passed over (counted, never silently)."""

    loops: int = 0  #: directory symlinks that led back to a directory already walked
    unreadable_dirs: int = 0
    excluded: list[Path] = field(default_factory=list)


def iter_files(roots: list[Path], stats: WalkStats, exclude: tuple[Path, ...] = ()) -> Iterator[Path]:
    """Every regular file under ``roots`` (files given directly are yielded as they are)."""
    excluded = {p.resolve() for p in exclude}
    for n, root in enumerate(roots, 1):
        if not root.exists():
            # The path itself may hold a patient's name: say which argument, not what it says.
            raise InputError(f"input #{n} of {len(roots)} does not exist")
        if root.is_file():
            yield root
            continue
        seen: set[tuple[int, int]] = set()
        yield from _walk(root, seen, stats, excluded)


def _walk(directory: Path, seen: set[tuple[int, int]], stats: WalkStats,
          excluded: set[Path]) -> Iterator[Path]:
    try:
        st = directory.stat()
    except OSError:
        stats.unreadable_dirs += 1
        return
    key = (st.st_dev, st.st_ino)
    if key in seen:
        stats.loops += 1
        return
    seen.add(key)
    if directory.resolve() in excluded:
        stats.excluded.append(directory)
        return
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        stats.unreadable_dirs += 1
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=True):
                yield from _walk(path, seen, stats, excluded)
            elif entry.is_file(follow_symlinks=True):
                yield path
        except OSError:
            stats.unreadable_dirs += 1
