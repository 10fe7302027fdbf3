"""The review gallery of cleaned images: one self-contained page of thumbnails.

One figure per cleaned file: the after-thumbnail always, the before-thumbnail only with
``show_values`` (an original thumbnail shows the burned-in text, which identifies). The
caller passes plain data (PNG bytes), so this module knows nothing of pixels or batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pacsguard.report.files import write_atomic
from pacsguard.report.html import Figure, HtmlPage

__all__ = ["GalleryEntry", "render_gallery", "write_gallery"]

TITLE = "pacsguard: redacted burned-in text"


@dataclass(frozen=True)
class GalleryEntry:
    """One cleaned file. ``label`` must be a pseudonymised name (the output path, say), never
    an input path; ``note`` says what was done (counts, transfer syntaxes), never a value."""

    label: str
    before: bytes | None  #: PNG of the original frame, shown only with ``show_values``
    after: bytes | None  #: PNG of the same frame cleaned; None: the file is listed only
    note: str = ""


def render_gallery(entries: Sequence[GalleryEntry], *, show_values: bool) -> str:
    """The gallery page as a string (entries without thumbnails are listed only)."""
    shown = ("Originals are shown (--show-values)." if show_values
             else "Originals are not shown; rerun with --show-values to compare.")
    page = HtmlPage(TITLE, f"{len(entries)} image(s). {shown}")
    figures = []
    for e in entries:
        images = []
        if show_values and e.before:
            images.append(("before", e.before))
        if e.after:
            images.append(("after", e.after))
        figures.append(Figure(e.label, images, e.note))
    page.figures(figures)
    return page.render()


def write_gallery(path: Path, entries: Sequence[GalleryEntry], *, show_values: bool) -> None:
    """Write the gallery page to ``path`` atomically."""
    write_atomic(path, render_gallery(entries, show_values=show_values))
