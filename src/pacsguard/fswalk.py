"""The one rule for walking an input tree, shared by ``deid`` and ``scan``/``verify``.

Files at any depth, in a stable (sorted) order. A symbolic link, to a file or a folder, is
followed only when its target resolves inside the input root: a link out of the tree is
skipped and counted (an export must not pull in what lies beside it), and a folder reached
twice (a link back up the tree) is walked once and counted as a loop.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["WalkStats", "walk_tree"]


@dataclass
class WalkStats:
    """What the walk passed over (counted, never silently)."""

    loops: int = 0  #: folder links that led back to a folder already walked
    unreadable_dirs: int = 0
    links_outside: int = 0  #: links whose target lies outside the input root (not followed)
    excluded: list[Path] = field(default_factory=list)


def _inside(path: Path, root: Path) -> bool:
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # dangling, or a link cycle
        return False
    return target == root or root in target.parents


def walk_tree(root: Path, stats: WalkStats, excluded: frozenset[Path] = frozenset()) -> Iterator[Path]:
    """Every regular file under the folder ``root``, links followed by the rule above."""
    real_root = root.resolve()
    yield from _walk(root, real_root, set(), stats, excluded)


def _walk(directory: Path, root: Path, seen: set[tuple[int, int]], stats: WalkStats,
          excluded: frozenset[Path]) -> Iterator[Path]:
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
    if excluded and directory.resolve() in excluded:
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
            if entry.is_symlink() and not _inside(path, root):
                stats.links_outside += 1
                continue
            if entry.is_dir(follow_symlinks=True):
                yield from _walk(path, root, seen, stats, excluded)
            elif entry.is_file(follow_symlinks=True):
                yield path
        except OSError:
            stats.unreadable_dirs += 1
