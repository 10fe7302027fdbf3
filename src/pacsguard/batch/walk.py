"""Walk the inputs: files at any depth, with or without extension, in a stable order so runs
are reproducible. Links follow :mod:`pacsguard.fswalk`'s rule (only inside the input root)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pacsguard.errors import InputError
from pacsguard.fswalk import WalkStats, walk_tree

__all__ = ["WalkStats", "iter_files"]


def iter_files(roots: list[Path], stats: WalkStats, exclude: tuple[Path, ...] = ()) -> Iterator[Path]:
    """Every regular file under ``roots`` (files given directly are yielded as they are)."""
    excluded = frozenset(p.resolve() for p in exclude)
    for n, root in enumerate(roots, 1):
        if not root.exists():
            # The path itself may hold a patient's name: say which argument, not what it says.
            raise InputError(f"input #{n} of {len(roots)} does not exist")
        if root.is_file():
            yield root
            continue
        yield from walk_tree(root, stats, excluded)
