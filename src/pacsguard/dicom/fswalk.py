"""The one walker of input trees, for ``deid``, ``scan`` and ``verify`` alike.

Files at any depth, in a stable (sorted) order, with or without extension. A symbolic link,
to a file or a folder, is followed only when its target resolves inside the input root: a
link out of the tree is skipped and counted (an export must not pull in what lies beside
it), and a folder reached twice (a link back up the tree) is walked once and counted as a
loop. A file reached under two names inside the tree is yielded under each name (``deid``
reports the second as a duplicate), or once with ``unique`` (``scan`` and ``verify`` count
and search files, not names).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pacsguard.errors import InputError

__all__ = ["WalkStats", "iter_files", "rel_posix", "walk_tree"]


@dataclass
class WalkStats:
    """What the walk passed over (counted, never silently)."""

    loops: int = 0  #: folder links that led back to a folder already walked
    unreadable_dirs: int = 0
    links_outside: int = 0  #: links whose target lies outside the input root (not followed)
    excluded: list[Path] = field(default_factory=list)


def iter_files(roots: Sequence[Path], stats: WalkStats | None = None,
               exclude: Sequence[Path] = (), *, unique: bool = False) -> Iterator[Path]:
    """Every regular file under ``roots`` (a root that is a file is yielded as it is),
    skipping the folders in ``exclude``; ``unique``: a file reached twice is yielded once."""
    stats = stats if stats is not None else WalkStats()
    excluded = frozenset(p.resolve() for p in exclude)
    seen: set[tuple[int, int]] = set()
    for n, root in enumerate(roots, 1):
        if not root.exists():
            # The path itself may hold a patient's name: say which argument, not what it says.
            raise InputError(f"input #{n} of {len(roots)} does not exist")
        # Anything else than a file is walked as a folder (one that cannot be listed counts
        # as unreadable).
        found = iter((root,)) if root.is_file() else walk_tree(root, stats, excluded)
        for path in found:
            if unique:
                try:
                    st = path.stat()
                except OSError:
                    continue
                if (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
            yield path


def walk_tree(root: Path, stats: WalkStats, excluded: frozenset[Path] = frozenset()) -> Iterator[Path]:
    """Every regular file under the folder ``root``, links followed by the rule above."""
    real_root = root.resolve()
    yield from _walk(root, real_root, set(), stats, excluded)


def rel_posix(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` as POSIX text (``root`` itself gives its name)."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        return path.name
    text = rel.as_posix()
    return text if text != "." else path.name


def _inside(path: Path, root: Path) -> bool:
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # dangling, or a link cycle
        return False
    return target == root or root in target.parents


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
