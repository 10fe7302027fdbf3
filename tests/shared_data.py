"""Where the reference data the rule tables are generated from lives: ``shared/data`` beside
the checkout (``/work/main`` -> ``/work/shared``; in CI, a copy beside the clone). A linked git
worktree finds it beside its main checkout. Found from the repository, never from a fixed path,
so the checks that need it run wherever it is, and skip only where it is absent."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _checkouts(root: Path) -> list[Path]:
    """``root``, and for a linked worktree (``.git`` is a file) the main checkout as well."""
    found = [root]
    dotgit = root / ".git"
    if dotgit.is_file():
        text = dotgit.read_text(encoding="utf-8").strip()
        if text.startswith("gitdir:"):
            gitdir = (root / text.removeprefix("gitdir:").strip()).resolve()
            common = gitdir / "commondir"
            if common.is_file():
                found.append((gitdir / common.read_text(encoding="utf-8").strip()).resolve().parent)
    return found


def shared_data_dir(root: Path = ROOT) -> Path | None:
    """``shared/data`` beside the checkout ``root``, or None when there is none."""
    for checkout in _checkouts(root):
        data = checkout.parent / "shared" / "data"
        if data.is_dir():
            return data
    return None
