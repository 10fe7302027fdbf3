"""The one HTML base: every value escaped, every page self-contained, one shell for all."""

from __future__ import annotations

import re

from pacsguard.report.groups import RowGroup
from pacsguard.report.html import Figure, HtmlPage, badge, code, data_uri, lines, small

_EVIL = '<script>alert("x")</script>'


def _page_with_everything(value: str) -> str:
    page = HtmlPage(value, value)
    page.heading(value).paragraph(value, "note")
    page.cards([(value, value)], bad=[value])
    page.table([value], [[value], [lines(code(value), small(value))], [badge(value, value)]],
               caption=value, row_classes=[value])
    page.grouped_table([value], [RowGroup(value, value, [[value]], value)], widths=[1])
    page.bar_chart(value, [(value, 3)], colours=[value])
    page.figures([Figure(value, [(value, b"\x89PNG")], value)])
    return page.render()


def test_every_value_is_escaped_wherever_it_goes() -> None:
    text = _page_with_everything(_EVIL)
    assert "<script" not in text
    # 1 title + h1 + subtitle, heading, paragraph, 2 in the card, table header/caption/3 cells,
    # row class, group: title/label/note/row, chart: label/title/caption/colour, figure 4.
    assert text.count("&lt;script&gt;") >= 20
    assert '"x"' not in text  # quotes too: a value cannot leave an attribute


def test_markup_helpers_escape_their_parts() -> None:
    assert lines(code("<a>"), small("b&c")) == "<code>&lt;a&gt;</code><br><small>b&amp;c</small>"
    assert 'style="background:&quot;;x:y"' in badge("ok", '";x:y')


def test_pages_are_self_contained() -> None:
    text = _page_with_everything("value")
    assert not re.search(r"https?://|//[a-z]", text)  # no URL at all, not even a namespace
    assert re.findall(r"""\b(?:src|href)\s*=\s*["']?([^"'\s>]*)""", text) == [
        data_uri(b"\x89PNG")]
    assert not re.search(r"@import|url\(|<link|<script|<iframe|<object", text)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text)
    assert csp is not None and "default-src 'none'" in csp.group(1)
    assert "img-src data:" in csp.group(1)


def test_one_shell_and_one_style_sheet() -> None:
    text = HtmlPage("t").render()
    assert text.startswith("<!DOCTYPE html>\n") and text.endswith("</body></html>\n")
    assert text.count("<style>") == 1 and 'charset="utf-8"' in text


def test_row_classes_default_to_none() -> None:
    text = HtmlPage("t").table(["a"], [["1"], ["2"]], row_classes=["muted"]).render()
    assert '<tr class="muted"><td>1</td></tr><tr><td>2</td></tr>' in text
