"""clean_pixels end to end on generated images, for every pixel format and transfer syntax.

Each case: identifiers are blanked (ground-truth boxes covered), OCR can no longer read
them, pixels outside the blanked boxes are unchanged on lossless paths, the written file
re-reads and decodes in the syntax it claims, and Burned In Annotation turns NO.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from pydicom.dataset import Dataset
from pydicom.pixels.decoders.base import get_decoder
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)

from pacsguard.errors import FailClosed
from pacsguard.pixels import (
    PixelPolicy,
    clean_pixels,
    detect_text,
    engine,
    get_detector,
)
from pacsguard.pixels.detect import OcrBox, RapidOcrDetector
from pacsguard.profile.pixels import RegionRule
from pacsguard.samples import burned_text

from . import encodings

EXPECTED_OUT = {
    "native": ExplicitVRLittleEndian,
    "deflate": DeflatedExplicitVRLittleEndian,
    "rle": RLELossless,
    "dcmtk-rle": RLELossless,
    "jpegls": JPEGLSLossless,
    "dcmtk-jpegls": JPEGLSLossless,
    "j2k": JPEG2000Lossless,
    "jpeg-lossless": JPEGLosslessSV1,  # our own encoder (jpegll.py), checked by a decoder
    "jpeg-baseline": ExplicitVRLittleEndian,
    "jpeg-extended": ExplicitVRLittleEndian,
}
LOSSY = {"jpeg-baseline", "jpeg-extended"}

CASES = [
    ("mono8", "native"),
    ("mono16", "native"),
    ("signed16", "native"),
    ("mono1", "native"),
    ("rgb", "native"),
    ("ybr", "native"),
    ("palette", "native"),
    ("mono8", "deflate"),
    ("mono16", "rle"),
    ("rgb", "rle"),
    ("mono16", "jpegls"),
    ("rgb", "jpegls"),
    ("mono16", "j2k"),
    ("signed16", "j2k"),
    ("ybr", "rle"),
    ("palette", "rle"),
    ("rgb", "j2k"),
    ("mono8", "jpeg-lossless"),
    ("mono16", "jpeg-lossless"),
    ("signed16", "jpeg-lossless"),
    ("palette", "jpeg-lossless"),
    ("rgb", "jpeg-lossless"),
    ("mono8", "jpeg-baseline"),
    ("rgb", "jpeg-baseline"),
    ("mono16", "jpeg-extended"),
    ("mono8", "dcmtk-jpegls"),
    ("rgb", "dcmtk-rle"),
]


def stored(ds: Dataset) -> npt.NDArray[Any]:
    """Decoded frames in the stored colour space, shaped (frames, rows, cols[, samples])."""
    opts: dict[str, Any] = {"as_rgb": False}
    arr, _ = get_decoder(ds.file_meta.TransferSyntaxUID).as_array(ds, **opts)
    return arr if int(ds.get("NumberOfFrames", 1)) > 1 else arr[None]


def outside_mask(
    shape: tuple[int, ...], boxes: tuple[tuple[int, int, int, int], ...]
) -> npt.NDArray[np.bool_]:
    keep = np.ones(shape[1:3], dtype=bool)
    for x0, y0, x1, y1 in boxes:
        keep[y0:y1, x0:x1] = False
    return keep


@pytest.mark.parametrize(("kind", "syntax"), CASES, ids=[f"{k}-{s}" for k, s in CASES])
def test_clean_every_encoding(rapidocr: str, kind: str, syntax: str) -> None:
    sample = burned_text.make_sample(7, kind, rows=224, cols=224, sizes=(12, 18))
    ds = encodings.encode_as(sample.ds, syntax)
    before = stored(ds)
    assert ds.BurnedInAnnotation == "YES"

    res = clean_pixels(ds, sample.identifiers, PixelPolicy(mode="phi-text", detector="rapidocr"))

    assert ds.BurnedInAnnotation == "NO"
    assert res.frames == 1 and res.boxes >= 2
    assert UID(res.transfer_syntax_out) == EXPECTED_OUT[syntax]
    out = burned_text.roundtrip(ds)  # the written file re-reads and decodes as it claims
    assert out.file_meta.TransferSyntaxUID == EXPECTED_OUT[syntax]
    after = stored(out)
    assert after.shape == before.shape
    for t in sample.truth:
        if t.phi:
            assert burned_text.covered(t.bbox, list(res.redacted)) >= 0.9, t.bbox
    keep = outside_mask(before.shape, res.redacted)
    if syntax in LOSSY:
        assert out.PhotometricInterpretation in ("RGB", "MONOCHROME2")
        assert out.LossyImageCompression == "01"
        if kind == "rgb":  # YBR_FULL_422 in JPEG becomes RGB once decoded
            ref = encodings.encode_as(sample.ds, syntax).pixel_array.astype(int)
            assert np.abs(out.pixel_array.astype(int) - ref)[keep].mean() < 1
    else:
        assert np.array_equal(before[0][keep], after[0][keep])
        assert not np.array_equal(before, after)
    left = detect_text(out, sample.identifiers, rapidocr)
    assert [b for b in left if b.classification == "identifier"] == []


def test_native_ybr_full_422_becomes_ybr_full_without_loss(rapidocr: str) -> None:
    sample = burned_text.make_sample(13, "ybr", rows=160, cols=160, sizes=(14, 18))
    ds = burned_text.roundtrip(sample.ds)
    full = stored(ds)[0]  # YBR_FULL, (rows, cols, 3)
    pairs = full.reshape(160, 80, 2, 3)
    packed = np.concatenate(
        [pairs[:, :, 0, :1], pairs[:, :, 1, :1], pairs[:, :, 0, 1:2], pairs[:, :, 0, 2:3]], axis=2
    )  # Y0 Y1 Cb Cr per pixel pair (PS3.3 C.7.6.3.1.2)
    ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.PixelData = packed.astype(np.uint8).tobytes()
    ds = burned_text.roundtrip(ds)
    before = stored(ds)

    res = clean_pixels(ds, sample.identifiers, PixelPolicy())

    out = burned_text.roundtrip(ds)
    assert out.PhotometricInterpretation == "YBR_FULL"
    assert out.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    after = stored(out)
    keep = outside_mask(before.shape, res.redacted)
    assert np.array_equal(before[0][keep], after[0][keep])
    assert all(burned_text.covered(t.bbox, list(res.redacted)) >= 0.9 for t in sample.truth if t.phi)


def test_all_text_mode_blanks_harmless_text_too(rapidocr: str) -> None:
    sample = burned_text.make_sample(11, "mono8", rows=224, cols=224, sizes=(13, 18))
    ds = burned_text.roundtrip(sample.ds)
    res = clean_pixels(ds, sample.identifiers, PixelPolicy(mode="all-text"))
    assert all(burned_text.covered(t.bbox, list(res.redacted)) >= 0.9 for t in sample.truth)

    ds2 = burned_text.roundtrip(sample.ds)
    res2 = clean_pixels(ds2, sample.identifiers, PixelPolicy(mode="phi-text"))
    others = [t for t in sample.truth if not t.phi]
    assert all(burned_text.covered(t.bbox, list(res2.redacted)) < 0.5 for t in others)


class CountingDetector:
    name = "rapidocr"

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def available(self) -> bool:
        return True

    def detect(self, rgb: npt.NDArray[np.uint8], *, read: bool = True) -> Any:
        self.calls += 1
        return self.inner.detect(rgb, read=read)


def test_multiframe_identical_frames_read_once_and_all_filled(
    rapidocr: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = burned_text.make_sample(5, "mono8", rows=192, cols=192, frames=4, sizes=(13, 18))
    ds = burned_text.roundtrip(sample.ds)
    arr = ds.pixel_array.copy()
    arr[3, 100:110, 100:110] = 7  # frame 3 differs: must be read separately
    ds.PixelData = arr.tobytes()
    ds = encodings.encode_as(ds, "rle")
    counting = CountingDetector(get_detector(rapidocr))
    monkeypatch.setattr(engine, "get_detector", lambda name: counting)

    res = clean_pixels(ds, sample.identifiers, PixelPolicy())

    assert counting.calls == 2
    assert res.frames == 4 and res.boxes == 4 * len(res.redacted)
    after = stored(burned_text.roundtrip(ds))
    x0, y0, x1, y1 = next(t.bbox for t in sample.truth if t.phi)
    for f in range(4):  # the same blanking in every frame
        assert np.all(after[f, y0:y1, x0:x1] == after[f, y0:y1, x0:x1].min())
        assert np.array_equal(
            after[f][outside_mask(after.shape, res.redacted)],
            arr[f][outside_mask(after.shape, res.redacted)],
        )


def test_no_text_keeps_pixel_bytes(rapidocr: str) -> None:
    sample = burned_text.make_sample(3, "mono16", rows=128, cols=128, n_other=0)
    ds = encodings.encode_as(sample.ds, "jpegls")
    arr = ds.pixel_array.copy()
    arr[:] = arr.min()
    ds = encodings.encode_as(burned_text.roundtrip(_with_pixels(sample.ds, arr)), "jpegls")
    raw = bytes(ds.PixelData)
    res = clean_pixels(ds, sample.identifiers, PixelPolicy(regions=()))
    assert res.boxes == 0 and bytes(ds.PixelData) == raw
    assert res.transfer_syntax_out == res.transfer_syntax_in == JPEGLSLossless
    assert ds.BurnedInAnnotation == "NO"


def _with_pixels(ds: Dataset, arr: npt.NDArray[Any]) -> Dataset:
    ds = burned_text.roundtrip(ds)
    ds.PixelData = arr.tobytes()
    return ds


def test_region_rule_blanks_its_rectangle(rapidocr: str) -> None:
    sample = burned_text.make_sample(4, "rgb", rows=160, cols=200, n_other=0)
    ds = burned_text.roundtrip(sample.ds)
    ds.Manufacturer = "Zeta Ultrasound"
    rule = RegionRule("zeta band", ((150, 140, 50, 20),), manufacturer="zeta")
    res = clean_pixels(ds, [], PixelPolicy(mode="phi-text", regions=(rule,), margin=0))
    assert (150, 140, 200, 160) in res.redacted
    assert np.all(stored(ds)[0, 140:160, 150:200] == 0)


def test_undecodable_fails_closed(rapidocr: str) -> None:
    sample = burned_text.make_sample(2, "mono8", rows=64, cols=64, n_other=0)
    ds = encodings.encode_as(sample.ds, "jpeg-baseline")
    from pydicom.encaps import encapsulate

    ds.PixelData = encapsulate([b"\xff\xd8\xff\xdb" + b"\x00" * 40])
    with pytest.raises(FailClosed) as err:
        clean_pixels(ds, sample.identifiers, PixelPolicy())
    assert err.value.code == "pixel-decode"
    assert ds.BurnedInAnnotation == "YES"  # never claimed clean
    for ident in sample.identifiers:
        assert ident not in str(err.value)


def test_unsupported_bit_depth_fails_closed(rapidocr: str) -> None:
    sample = burned_text.make_sample(2, "mono8", rows=64, cols=64, n_other=0)
    ds = burned_text.roundtrip(sample.ds)
    ds.BitsAllocated = 32
    with pytest.raises(FailClosed) as err:
        clean_pixels(ds, [], PixelPolicy())
    assert err.value.code == "pixel-unsupported"


def test_missing_detector_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    from pacsguard.pixels import detect

    monkeypatch.setattr(detect.TesseractDetector, "available", lambda self: False)
    monkeypatch.setattr(detect, "_instances", {})
    ds = burned_text.roundtrip(burned_text.make_sample(2, "mono8", rows=64, cols=64).ds)
    with pytest.raises(FailClosed) as err:
        clean_pixels(ds, [], PixelPolicy(detector="tesseract"))
    assert err.value.code == "pixel-detector"
    assert ds.BurnedInAnnotation == "YES"


def _png_mean(png: bytes) -> npt.NDArray[np.float64]:
    import io

    from PIL import Image

    arr = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float64)
    mean: npt.NDArray[np.float64] = arr.mean(axis=(0, 1))
    return mean


def test_thumbnail_colours_survive_ybr_jpeg(rapidocr: str) -> None:
    sample = burned_text.make_sample(41, "rgb", rows=200, cols=200)
    ds = encodings.encode_as(sample.ds, "jpeg-baseline")
    res = clean_pixels(ds, sample.identifiers, PixelPolicy(), want_thumbnails=True)
    assert res.thumbnails is not None
    before, after = (_png_mean(p) for p in res.thumbnails)
    # same grey picture minus some green text: darker, and no colour cast (R stays = B)
    assert np.all(after <= before + 1)
    assert abs(after[0] - after[2]) < 5


def test_thumbnails(rapidocr: str) -> None:
    sample = burned_text.make_sample(9, "mono16", rows=300, cols=300)
    ds = burned_text.roundtrip(sample.ds)
    res = clean_pixels(ds, sample.identifiers, PixelPolicy(), want_thumbnails=True)
    assert res.thumbnails is not None
    before, after = res.thumbnails
    assert before.startswith(b"\x89PNG") and after.startswith(b"\x89PNG") and before != after
    again = clean_pixels(burned_text.roundtrip(sample.ds), sample.identifiers, PixelPolicy())
    assert again.thumbnails is None


@pytest.mark.slow
def test_tesseract_detector_redacts_identifiers(tesseract: str) -> None:
    sample = burned_text.make_sample(21, "mono8", rows=256, cols=256, sizes=(16, 20))
    ds = burned_text.roundtrip(sample.ds)
    res = clean_pixels(ds, sample.identifiers, PixelPolicy(detector="tesseract"))
    phi = [t for t in sample.truth if t.phi]
    hits = sum(burned_text.covered(t.bbox, list(res.redacted)) >= 0.9 for t in phi)
    assert hits >= len(phi) - 1  # tesseract is the weaker reader; it must still get most
    assert ds.BurnedInAnnotation == "NO"


class FixedDetector:
    """Returns the same lines for every frame: the selection logic without OCR."""

    name = "rapidocr"

    def __init__(self, boxes: list[OcrBox]) -> None:
        self.boxes = boxes

    def available(self) -> bool:
        return True

    def detect(self, rgb: npt.NDArray[np.uint8], *, read: bool = True) -> list[OcrBox]:
        return self.boxes


def test_split_line_tail_next_to_identifier_is_blanked(monkeypatch: pytest.MonkeyPatch) -> None:
    sample = burned_text.make_sample(6, "mono8", rows=128, cols=256, n_other=0)
    lines = [
        OcrBox((10, 10, 60, 20), "ID:PID4", 0.9),  # one drawn line split in two by the detector
        OcrBox((64, 10, 84, 20), "767", 0.9),  # its tail: harmless on its own
        OcrBox((200, 10, 240, 20), "Axial", 0.9),  # same row, far away
        OcrBox((64, 40, 110, 50), "kVp 120", 0.9),  # next line down
    ]
    monkeypatch.setattr(engine, "get_detector", lambda name: FixedDetector(lines))
    policy = PixelPolicy(mode="phi-text", margin=0, widen=0, regions=())

    res = clean_pixels(burned_text.roundtrip(sample.ds), ["PID47767"], policy)

    assert sorted(res.redacted) == [(10, 10, 60, 20), (64, 10, 84, 20)]


def test_selected_lines_are_widened_and_cut_short_identifiers_by_what_they_lack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sample = burned_text.make_sample(6, "mono8", rows=128, cols=256, n_other=0)
    lines = [
        OcrBox((10, 10, 70, 20), "ID: PID798", 0.9),  # a PHI pattern: widened by 0.75 x 10 px
        OcrBox((100, 40, 136, 50), "ACC442", 0.9),  # 6 of the 9 characters of ACC442734
        OcrBox((100, 70, 140, 80), "Axial", 0.9),  # harmless: not selected, not widened
    ]
    monkeypatch.setattr(engine, "get_detector", lambda name: FixedDetector(lines))
    policy = PixelPolicy(mode="phi-text", margin=0, regions=())

    res = clean_pixels(burned_text.roundtrip(sample.ds), ["ACC442734"], policy)

    # 36 px for 6 characters: the 3 missing ones are 18 px, on either side.
    assert sorted(res.redacted) == [(2, 10, 78, 20), (82, 40, 154, 50)]


def test_ocr_thread_setting_reaches_onnxruntime(rapidocr: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # rapidocr ignores option names it does not know: check the sessions, not our kwargs.
    monkeypatch.setenv("PACSGUARD_OCR_THREADS", "1")
    monkeypatch.setenv("PACSGUARD_OCR_RUNTIME", "onnxruntime")
    ocr = RapidOcrDetector()._get()
    for session in (ocr.text_det.infer, ocr.text_rec.recognizer.session):
        assert session.session.get_session_options().intra_op_num_threads == 1
    assert ocr.text_det.postprocess_op.box_thresh == 0.3
    assert ocr.text_rec.recognizer.rec_image_shape == [3, 48, RapidOcrDetector.rec_min_width]
    assert ocr.text_det.limit_side_len == RapidOcrDetector.det_min_side
