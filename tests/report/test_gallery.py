"""The review gallery page, from plain data (label, before/after PNG bytes)."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from pacsguard.report.gallery import GalleryEntry, render_gallery, write_gallery


def _png(colour: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (colour, 0, 0)).save(buf, format="PNG")
    return buf.getvalue()


BEFORE, AFTER = _png(200), _png(10)
ENTRIES = [GalleryEntry("out/0001.dcm", BEFORE, AFTER, "3 box(es)"),
           GalleryEntry("out/<0002>.dcm", None, None)]


@pytest.mark.parametrize("show", [False, True])
def test_originals_only_with_show_values(show: bool) -> None:
    page = render_gallery(ENTRIES, show_values=show)
    assert (base64.b64encode(BEFORE).decode() in page) is show
    assert (">before<" in page) is show
    assert base64.b64encode(AFTER).decode() in page and ">after<" in page
    assert page.count("data:image/png;base64,") == (2 if show else 1)
    assert page.count("<figure>") == 2  # one per entry; one without thumbnails is listed
    assert "&lt;0002&gt;" in page and "<0002>" not in page and "3 box(es)" in page
    assert ("--show-values)." in page) is show  # says whether the originals are shown


def test_write_gallery_writes_the_page_atomically(tmp_path: Path) -> None:
    path = tmp_path / "gallery.html"
    path.write_text("old")
    write_gallery(path, ENTRIES, show_values=False)
    text = path.read_text()
    assert text == render_gallery(ENTRIES, show_values=False)
    assert not re.search(r"""(src|href)\s*=\s*"(?!data:)""", text)
    assert [p.name for p in tmp_path.iterdir()] == ["gallery.html"]
