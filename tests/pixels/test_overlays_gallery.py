"""Overlay removal/cleaning (Clean Graphics) and the review gallery."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest
from PIL import Image, ImageDraw
from pydicom.dataset import Dataset
from pydicom.pixels.utils import pack_bits

from pacsguard.pixels import PixelPolicy, PixelResult, clean_pixels
from pacsguard.pixels.gallery import gallery_entry
from pacsguard.report.gallery import render_gallery
from pacsguard.samples import burned_text


def _with_overlay(ds: Dataset, text: str) -> tuple[Dataset, tuple[int, int, int, int]]:
    rows, cols = int(ds.Rows), int(ds.Columns)
    img = Image.new("L", (cols, rows), 0)
    draw = ImageDraw.Draw(img)
    draw.text((20, rows - 40), text, font=burned_text.font(18), fill=255)
    bbox = draw.textbbox((20, rows - 40), text, font=burned_text.font(18))
    bits = (np.asarray(img) > 0).astype(np.uint8)
    ds.add_new(0x60000010, "US", rows)
    ds.add_new(0x60000011, "US", cols)
    ds.add_new(0x60000022, "LO", "annotation for " + text)
    ds.add_new(0x60000040, "CS", "G")
    ds.add_new(0x60000050, "SS", [1, 1])
    ds.add_new(0x60000100, "US", 1)
    ds.add_new(0x60000102, "US", 0)
    ds.add_new(0x60003000, "OW", pack_bits(bits.reshape(-1)))
    return ds, (int(bbox[0]), int(bbox[1]), int(bbox[2]), int(bbox[3]))


def test_overlays_removed_by_default(rapidocr: str) -> None:
    sample = burned_text.make_sample(31, "mono8", rows=192, cols=192, n_other=0)
    ds, _ = _with_overlay(burned_text.roundtrip(sample.ds), "DOE^JOHN")
    clean_pixels(ds, ["DOE^JOHN"], PixelPolicy())
    assert not any(0x6000 <= t.group <= 0x601E for t in ds.keys())


def _result(before: bytes, after: bytes) -> PixelResult:
    return PixelResult(3, 1, "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.1", (before, after))


def _png(colour: int) -> bytes:
    import io

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (colour, 0, 0)).save(buf, format="PNG")
    return buf.getvalue()


def test_gallery_entry_is_plain_data_from_the_result() -> None:
    before, after = _png(200), _png(10)
    entry = gallery_entry("out/0001.dcm", _result(before, after))
    assert (entry.label, entry.before, entry.after) == ("out/0001.dcm", before, after)
    assert entry.note == ("3 box(es) in 1 frame(s); transfer syntax 1.2.840.10008.1.2.4.50 → "
                          "1.2.840.10008.1.2.1")
    bare = gallery_entry("out/0002.dcm", PixelResult(0, 1, "a", "a", None))
    assert (bare.before, bare.after) == (None, None)


@pytest.mark.parametrize("show", [False, True])
def test_gallery_of_results_hides_originals_unless_show_values(show: bool) -> None:
    before, after = _png(200), _png(10)
    page = render_gallery(
        [
            gallery_entry("out/0001.dcm", _result(before, after)),
            gallery_entry("out/<0002>.dcm", PixelResult(0, 1, "a", "a", None)),
        ],
        show_values=show,
    )
    assert page.count("data:image/png;base64,") == (2 if show else 1)
    assert (base64.b64encode(before).decode() in page) is show
    assert base64.b64encode(after).decode() in page
    assert "&lt;0002&gt;" in page and "<0002>" not in page
    assert "3 box(es) in 1 frame(s)" in page
    # self-contained: no URL other than data: URIs
    assert not re.search(r"(src|href)=\"(?!data:)", page)
