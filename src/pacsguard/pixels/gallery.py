"""Self-contained HTML review gallery of redacted images.

One card per cleaned file: the after-thumbnail always, the before-thumbnail only when
the user passed ``--show-values`` (an original thumbnail shows the burned-in PHI).
Images are embedded as ``data:`` URIs, so the page loads nothing from anywhere; a
Content-Security-Policy meta tag forbids any other source.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass

from pacsguard.pixels.engine import PixelResult

__all__ = ["GalleryEntry", "render_gallery"]


@dataclass(frozen=True)
class GalleryEntry:
    """``label`` must be a pseudonymised name (e.g. the output path), never an input path."""

    label: str
    result: PixelResult


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5rem;background:#f5f5f5;color:#222}
h1{font-size:1.3rem} .grid{display:flex;flex-wrap:wrap;gap:1rem}
figure{background:#fff;border:1px solid #ccc;border-radius:6px;padding:.6rem;margin:0}
figure div{display:flex;gap:.5rem} img{image-rendering:pixelated;max-width:256px;
background:#000} figcaption{font-size:.8rem;margin-top:.4rem;word-break:break-all;max-width:520px}
.tag{display:inline-block;font-size:.7rem;color:#555}
"""


def render_gallery(
    entries: Sequence[GalleryEntry],
    *,
    show_values: bool = False,
    title: str = "pacsguard: redacted burned-in text",
) -> str:
    """Return the gallery page as a string (entries without thumbnails are listed only)."""
    cards = []
    for e in entries:
        r = e.result
        pics = []
        if r.thumbnails is not None:
            before, after = r.thumbnails
            if show_values and before:
                pics.append('<span class="tag">before</span>' + _img(before, "before"))
            pics.append('<span class="tag">after</span>' + _img(after, "after"))
        caption = (
            f"{html.escape(e.label)}<br>{r.boxes} box(es) in {r.frames} frame(s); "
            f"transfer syntax {html.escape(r.transfer_syntax_in)} &rarr; "
            f"{html.escape(r.transfer_syntax_out)}"
        )
        cards.append(f"<figure><div>{''.join(pics)}</div><figcaption>{caption}</figcaption></figure>")
    note = (
        "Originals are shown (--show-values)."
        if show_values
        else "Originals are not shown; rerun with --show-values to compare."
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{len(entries)} image(s). {note}</p>"
        f'<div class="grid">{"".join(cards)}</div></body></html>\n'
    )
