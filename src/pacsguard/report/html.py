"""A self-contained HTML page: inline CSS, inline SVG charts, no script, no network.

Every text passed in is escaped; the page states the number of values it masks
(callers mask them beforehand). Long words break (``overflow-wrap``): paths and tag paths
are single tokens far wider than a screen, and a page that scrolls sideways hides the
columns a reader needs. Only fixed-layout tables break *anywhere*: in an auto-layout table
that would let the browser squeeze columns until short words like "files" split.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from pacsguard.report.groups import RowGroup

__all__ = ["HtmlPage"]

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
code,td.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.82rem}
.note{color:#5b6474;font-size:.85rem}
svg text{font-family:system-ui,sans-serif;font-size:12px;fill:#1d2433}
"""
_PALETTE = ("#2e86c1", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#16a085", "#7f8c8d",
            "#2c3e50", "#e67e22", "#1abc9c")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _head(columns: Sequence[str]) -> str:
    return "<thead><tr>" + "".join(f"<th>{_e(c)}</th>" for c in columns) + "</tr></thead>"


def _row(row: Sequence[object], numeric: Sequence[int], mono: Sequence[int]) -> str:
    cells = []
    for i, v in enumerate(row):
        cls = "num" if i in numeric else "mono" if i in mono else ""
        cells.append(f'<td class="{cls}">{_e(v)}</td>' if cls else f"<td>{_e(v)}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


class HtmlPage:
    """Build a report page section by section, then :meth:`render` it."""

    def __init__(self, title: str, subtitle: str = "") -> None:
        self.title = title
        self.subtitle = subtitle
        self._parts: list[str] = []

    def heading(self, text: str) -> HtmlPage:
        self._parts.append(f"<h2>{_e(text)}</h2>")
        return self

    def paragraph(self, text: str, cls: str = "") -> HtmlPage:
        attr = f' class="{_e(cls)}"' if cls else ""
        self._parts.append(f"<p{attr}>{_e(text)}</p>")
        return self

    def cards(self, items: Sequence[tuple[str, object]], bad: Sequence[str] = (),
              good: Sequence[str] = ()) -> HtmlPage:
        """Big numbers with labels; labels listed in ``bad``/``good`` are coloured."""
        out = ['<div class="cards">']
        for label, value in items:
            cls = " bad" if label in bad else " good" if label in good else ""
            out.append(f'<div class="card{cls}" data-label="{_e(label)}"><div class="n">'
                       f'{_e(value)}</div><div class="l">{_e(label)}</div></div>')
        out.append("</div>")
        self._parts.append("".join(out))
        return self

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[object]],
              numeric: Sequence[int] = (), mono: Sequence[int] = (), caption: str = "",
              ) -> HtmlPage:
        out = ["<table>"]
        if caption:
            out.append(f"<caption class=\"note\">{_e(caption)}</caption>")
        out.append(_head(columns))
        out.append("<tbody>")
        out.extend(_row(row, numeric, mono) for row in rows)
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
            note = f'<span class="count">{_e(group.note)}</span>' if group.note else ""
            out.append(f'<tbody><tr class="group"><th colspan="{len(columns)}" scope="rowgroup" '
                       f'title="{_e(group.title)}"><code>{_e(group.label)}</code>{note}</th></tr>')
            out.extend(_row(row, (), mono) for row in group.rows)
            out.append("</tbody>")
        out.append("</table>")
        self._parts.append("".join(out))
        return self

    def bar_chart(self, title: str, data: Sequence[tuple[str, int]], width: int = 640) -> HtmlPage:
        """A horizontal bar chart drawn as inline SVG."""
        if not data:
            self._parts.append(f'<p class="note">{_e(title)}: nothing to chart.</p>')
            return self
        bar_h, gap, label_w = 20, 6, 190
        top = max(v for _, v in data) or 1
        height = len(data) * (bar_h + gap) + gap
        span = width - label_w - 60
        out = [f'<figure><svg role="img" aria-label="{_e(title)}" width="{width}" '
               f'height="{height}" viewBox="0 0 {width} {height}" '
               f'xmlns="http://www.w3.org/2000/svg"><title>{_e(title)}</title>']
        for i, (label, value) in enumerate(data):
            y = gap + i * (bar_h + gap)
            w = max(1, round(span * value / top)) if value else 0
            colour = _PALETTE[i % len(_PALETTE)]
            out.append(
                f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end">{_e(label)}</text>'
                f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="{colour}" rx="3"/>'
                f'<text x="{label_w + w + 6}" y="{y + 14}">{_e(value)}</text>'
            )
        out.append(f'</svg><figcaption class="note">{_e(title)}</figcaption></figure>')
        self._parts.append("".join(out))
        return self

    def render(self) -> str:
        sub = f'<p class="sub">{_e(self.subtitle)}</p>' if self.subtitle else ""
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; img-src data:\">"
            "<meta name=\"viewport\" content=\"width=device-width\">"
            f"<title>{_e(self.title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{_e(self.title)}</h1>{sub}"
            + "".join(self._parts)
            + "</body></html>\n"
        )
