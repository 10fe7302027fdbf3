"""A cleaned file's :class:`PixelResult` as a review-gallery entry (the page is in report/).

``render_gallery`` and ``GalleryEntry(label, result)`` are kept only for
``batch/runner.py`` until it builds entries with :func:`gallery_entry` and calls
:func:`pacsguard.report.gallery.write_gallery`; then they go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pacsguard.pixels.engine import PixelResult
from pacsguard.report import gallery

__all__ = ["GalleryEntry", "gallery_entry", "render_gallery"]


def gallery_entry(label: str, result: PixelResult) -> gallery.GalleryEntry:
    """Plain data for the gallery: the thumbnails and what was done (counts, syntaxes)."""
    before, after = result.thumbnails or (None, None)
    note = (f"{result.boxes} box(es) in {result.frames} frame(s); transfer syntax "
            f"{result.transfer_syntax_in} → {result.transfer_syntax_out}")
    return gallery.GalleryEntry(label, before, after, note)


@dataclass(frozen=True)
class GalleryEntry:
    """``label`` must be a pseudonymised name (e.g. the output path), never an input path."""

    label: str
    result: PixelResult


def render_gallery(entries: Sequence[GalleryEntry], *, show_values: bool = False) -> str:
    """The gallery page (kept for ``batch/runner.py`` until it calls ``write_gallery``)."""
    return gallery.render_gallery([gallery_entry(e.label, e.result) for e in entries],
                                  show_values=show_values)
