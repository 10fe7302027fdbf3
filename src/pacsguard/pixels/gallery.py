"""A cleaned file's :class:`PixelResult` as a review-gallery entry (the page is in report/)."""

from __future__ import annotations

from pacsguard.pixels.engine import PixelResult
from pacsguard.report import gallery

__all__ = ["gallery_entry"]


def gallery_entry(label: str, result: PixelResult) -> gallery.GalleryEntry:
    """Plain data for the gallery: the thumbnails and what was done (counts, syntaxes)."""
    before, after = result.thumbnails or (None, None)
    note = (f"{result.boxes} box(es) in {result.frames} frame(s); transfer syntax "
            f"{result.transfer_syntax_in} → {result.transfer_syntax_out}")
    return gallery.GalleryEntry(label, before, after, note)
