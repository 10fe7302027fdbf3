"""The one HTML base: page shell, styles, escaping, tables, charts and thumbnails.

Every HTML page pacsguard writes (scan, verify, audit, the review gallery) is an
:class:`HtmlPage`; report modules only add content to it. A page is self-contained: inline
CSS, inline SVG, images as ``data:`` URIs, no script, and a Content-Security-Policy that
forbids loading anything else. Every text passed in is escaped unless it is
:class:`Markup` built by the helpers below from escaped parts.

Long words break (``overflow-wrap``): paths and tag paths are single tokens far wider than a
screen, and a page that scrolls sideways hides the columns a reader needs. Only fixed-layout
tables break *anywhere*: in an auto-layout table that would let the browser squeeze columns
until short words like "files" split.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import NamedTuple

from pacsguard.report.groups import RowGroup

__all__ = ["Figure", "HtmlPage", "Markup", "badge", "code", "data_uri", "escape", "lines",
           "small"]

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;
max-width:70rem;padding:0 1rem;color:#1d2433;background:#fff;overflow-wrap:break-word}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #d8dde6;padding-bottom:.3rem}
.sub{color:#5b6474;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.card{border:1px solid #d8dde6;border-radius:.5rem;padding:.6rem 1rem;min-width:8rem}
.card .n{font-size:1.6rem;font-weight:600}.card .l{color:#5b6474;font-size:.85rem}
.card.bad{border-color:#c0392b;background:#fdf2f1}.card.good{border-color:#1e8449;background:#f0f9f3}
table{border-collapse:collapse;width:100%;font-size:.88rem}
th,td{border-bottom:1px solid #e6e9ef;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f6f9}td.num{text-align:right;font-variant-numeric:tabular-nums}
table.fixed{table-layout:fixed}table.fixed th,table.fixed td{overflow-wrap:anywhere}
thead th{position:sticky;top:0}
tr.group th{background:#eef1f6;border-top:2px solid #c9d0dc;font-weight:600}
tr.group .count{color:#5b6474;font-weight:400;font-size:.82rem;margin-left:.6rem}
tr.muted{color:#6b7280}
code,td.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.82rem}
small{color:#5b6474}
.note{color:#5b6474;font-size:.85rem}
.badge{color:#fff;border-radius:3px;padding:.1em .5em;font-size:.82rem;white-space:nowrap}
svg text{font-family:system-ui,sans-serif;font-size:12px;fill:#1d2433}
.grid{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.grid figure{border:1px solid #d8dde6;border-radius:.5rem;padding:.6rem;margin:0;max-width:33rem}
.grid figure>div{display:flex;flex-wrap:wrap;gap:.5rem}
.grid img{image-rendering:pixelated;max-width:256px;background:#000}
.grid figcaption{font-size:.8rem;margin-top:.4rem;overflow-wrap:anywhere}
.tag{display:block;font-size:.72rem;color:#5b6474}
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_PALETTE = ("#2e86c1", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#16a085", "#7f8c8d",
            "#2c3e50", "#e67e22", "#1abc9c")


class Markup(str):
    """HTML made by this module's helpers from escaped parts: inserted as it is.

    Never wrap a value from a file or a peer in it directly: pass it to a helper.
    """

    __slots__ = ()


def escape(value: object) -> str:
    """``value`` as HTML text (quotes too), unless it is already :class:`Markup`."""
    return value if isinstance(value, Markup) else html.escape(str(value), quote=True)


def code(text: object) -> Markup:
    return Markup(f"<code>{escape(text)}</code>")


def small(text: object) -> Markup:
    return Markup(f"<small>{escape(text)}</small>")


def lines(*parts: object) -> Markup:
    """Parts on lines of their own, in one cell."""
    return Markup("<br>".join(escape(p) for p in parts))


def badge(text: object, colour: str) -> Markup:
    """``text`` in white on a coloured label (a severity, say)."""
    return Markup(f'<span class="badge" style="background:{escape(colour)}">{escape(text)}</span>')


def data_uri(data: bytes, mime: str = "image/png") -> str:
    """``data`` inline, so the page loads nothing from anywhere."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


class Figure(NamedTuple):
    """Images side by side, each under a small tag, above a caption and a note."""

    caption: str
    images: Sequence[tuple[str, bytes]]  #: (tag, PNG bytes)
    note: str = ""


def _head(columns: Sequence[str]) -> str:
    return "<thead><tr>" + "".join(f"<th>{escape(c)}</th>" for c in columns) + "</tr></thead>"


def _row(row: Sequence[object], numeric: Sequence[int], mono: Sequence[int], cls: str = "") -> str:
    cells = []
    for i, v in enumerate(row):
        kind = "num" if i in numeric else "mono" if i in mono else ""
        cells.append(f'<td class="{kind}">{escape(v)}</td>' if kind else f"<td>{escape(v)}</td>")
    tr = f'<tr class="{escape(cls)}">' if cls else "<tr>"
    return tr + "".join(cells) + "</tr>"


class HtmlPage:
    """Build a report page section by section, then :meth:`render` it."""

    def __init__(self, title: str, subtitle: str = "") -> None:
        self.title = title
        self.subtitle = subtitle
        self._parts: list[str] = []

    def heading(self, text: str) -> HtmlPage:
        self._parts.append(f"<h2>{escape(text)}</h2>")
        return self

    def paragraph(self, text: str, cls: str = "") -> HtmlPage:
        attr = f' class="{escape(cls)}"' if cls else ""
        self._parts.append(f"<p{attr}>{escape(text)}</p>")
        return self

    def cards(self, items: Sequence[tuple[str, object]], bad: Sequence[str] = (),
              good: Sequence[str] = ()) -> HtmlPage:
        """Big numbers with labels; labels listed in ``bad``/``good`` are coloured."""
        out = ['<div class="cards">']
        for label, value in items:
            cls = " bad" if label in bad else " good" if label in good else ""
            out.append(f'<div class="card{cls}" data-label="{escape(label)}"><div class="n">'
                       f'{escape(value)}</div><div class="l">{escape(label)}</div></div>')
        out.append("</div>")
        self._parts.append("".join(out))
        return self

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[object]],
              numeric: Sequence[int] = (), mono: Sequence[int] = (), caption: str = "",
              row_classes: Sequence[str] = ()) -> HtmlPage:
        """A table; ``row_classes`` (one per row, "" for none) styles rows, e.g. ``muted``."""
        out = ["<table>"]
        if caption:
            out.append(f"<caption class=\"note\">{escape(caption)}</caption>")
        out.append(_head(columns))
        out.append("<tbody>")
        classes = list(row_classes) + [""] * (len(rows) - len(row_classes))
        out.extend(_row(row, numeric, mono, cls) for row, cls in zip(rows, classes, strict=False))
        out.append("</tbody></table>")
        self._parts.append("".join(out))
        return self

    def grouped_table(self, columns: Sequence[str], groups: Sequence[RowGroup],
                      widths: Sequence[float] = (), mono: Sequence[int] = ()) -> HtmlPage:
        """One table, a ``<tbody>`` per group under a heading row showing its label.

        The layout is fixed with ``widths`` (relative weights, one per column): the
        columns then line up across groups and no cell content can widen the table.
        The full ``title`` of each group is on hover of its heading.
        """
        out = ['<table class="fixed grouped">']
        if widths:
            total = sum(widths) or 1
            out.append("<colgroup>" + "".join(f'<col style="width:{100 * w / total:.1f}%">'
                                              for w in widths) + "</colgroup>")
        out.append(_head(columns))
        for group in groups:
            note = f'<span class="count">{escape(group.note)}</span>' if group.note else ""
            out.append(f'<tbody><tr class="group"><th colspan="{len(columns)}" scope="rowgroup" '
                       f'title="{escape(group.title)}"><code>{escape(group.label)}</code>{note}'
                       "</th></tr>")
            out.extend(_row(row, (), mono) for row in group.rows)
            out.append("</tbody>")
        out.append("</table>")
        self._parts.append("".join(out))
        return self

    def bar_chart(self, title: str, data: Sequence[tuple[str, int]], width: int = 640,
                  colours: Sequence[str] = ()) -> HtmlPage:
        """A horizontal bar chart drawn as inline SVG; ``colours`` per bar (default a palette)."""
        if not data:
            self._parts.append(f'<p class="note">{escape(title)}: nothing to chart.</p>')
            return self
        bar_h, gap, label_w = 20, 6, 190
        top = max(v for _, v in data) or 1
        height = len(data) * (bar_h + gap) + gap
        span = width - label_w - 60
        palette = colours or _PALETTE
        # Inline SVG in HTML needs no xmlns: the page names no URL at all.
        out = [f'<figure><svg role="img" aria-label="{escape(title)}" width="{width}" '
               f'height="{height}" viewBox="0 0 {width} {height}"><title>{escape(title)}</title>']
        for i, (label, value) in enumerate(data):
            y = gap + i * (bar_h + gap)
            w = max(1, round(span * value / top)) if value else 0
            colour = escape(palette[i % len(palette)])
            out.append(
                f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end">{escape(label)}</text>'
                f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="{colour}" rx="3"/>'
                f'<text x="{label_w + w + 6}" y="{y + 14}">{escape(value)}</text>'
            )
        out.append(f'</svg><figcaption class="note">{escape(title)}</figcaption></figure>')
        self._parts.append("".join(out))
        return self

    def figures(self, items: Sequence[Figure]) -> HtmlPage:
        """A wrapping grid of figures; their images are embedded as ``data:`` URIs."""
        out = ['<div class="grid">']
        for item in items:
            pics = "".join(f'<div><span class="tag">{escape(tag)}</span><img alt="{escape(tag)}" '
                           f'src="{data_uri(png)}"></div>' for tag, png in item.images)
            note = f"<br>{escape(item.note)}" if item.note else ""
            out.append(f"<figure><div>{pics}</div><figcaption>{escape(item.caption)}{note}"
                       "</figcaption></figure>")
        out.append("</div>")
        self._parts.append("".join(out))
        return self

    def render(self) -> str:
        sub = f'<p class="sub">{escape(self.subtitle)}</p>' if self.subtitle else ""
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_CSP}\">"
            "<meta name=\"viewport\" content=\"width=device-width\">"
            f"<title>{escape(self.title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{escape(self.title)}</h1>{sub}"
            + "".join(self._parts)
            + "</body></html>\n"
        )
