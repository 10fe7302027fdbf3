"""pacsguard's JPEG Lossless encoder, checked by two independent decoders: pydicom's
(pylibjpeg-libjpeg) and DCMTK's dcmdjpeg."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.pixels.decoders.base import get_decoder
from pydicom.uid import ExplicitVRLittleEndian, JPEGLosslessSV1

from pacsguard.pixels import codecs, jpegll
from pacsguard.samples import burned_text

RNG = np.random.default_rng(0)
CASES: dict[str, tuple[npt.NDArray[np.generic], int]] = {
    "noise-8": (RNG.integers(0, 256, (64, 80)).astype(np.uint8), 8),
    "noise-12": (RNG.integers(0, 4096, (100, 90)).astype(np.uint16), 12),
    "noise-16": (RNG.integers(0, 65536, (50, 60)).astype(np.uint16), 16),  # differences wrap
    "signed-12": (RNG.integers(-2048, 2048, (40, 70)).astype(np.int16), 12),
    "constant": (np.full((30, 31), 7, dtype=np.uint16), 12),  # one difference category
    "ramp": ((np.add.outer(np.arange(300), np.arange(200)) % 4096).astype(np.uint16), 12),
    "extremes-16": (np.tile(np.array([0, 65535], dtype=np.uint16), (9, 8)), 16),  # SSSS 16
    "one-pixel": (np.array([[5]], dtype=np.uint8), 8),
    "two-bit": (RNG.integers(0, 4, (20, 20)).astype(np.uint8), 2),
    "rgb-noise": (RNG.integers(0, 256, (40, 50, 3)).astype(np.uint8), 8),
    "rgb-cine": (burned_text.us_series_frame(0, 120, 160), 8),
}


def _dataset(arr: npt.NDArray[np.generic], bits_stored: int) -> pydicom.Dataset:
    photometric = "RGB" if arr.ndim == 3 else "MONOCHROME2"
    ds = burned_text.base_dataset(arr.shape[0], arr.shape[1], photometric, arr.dtype.itemsize * 8,
                               arr.dtype.kind == "i", 1)
    ds.BitsStored, ds.HighBit = bits_stored, bits_stored - 1
    ds.PixelData = encapsulate([jpegll.encode_frame(arr, bits_stored)])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGLosslessSV1
    return ds


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_through_pydicom_and_dcmtk(name: str, tmp_path: Path) -> None:
    arr, bits = CASES[name]
    ds = _dataset(arr, bits)
    back, _ = get_decoder(JPEGLosslessSV1).as_array(ds, as_rgb=False)
    assert np.array_equal(back.astype(arr.dtype), arr)
    if shutil.which("dcmdjpeg") is None:
        pytest.skip("DCMTK's dcmdjpeg is missing (scripts/peers.sh installs dcmtk)")
    ds.save_as(tmp_path / "in.dcm", enforce_file_format=True)
    subprocess.run(["dcmdjpeg", str(tmp_path / "in.dcm"), str(tmp_path / "out.dcm")],
                   check=True, capture_output=True, timeout=60)
    assert np.array_equal(pydicom.dcmread(tmp_path / "out.dcm").pixel_array.astype(arr.dtype), arr)


def test_compresses_smooth_images_and_rejects_what_it_cannot_encode() -> None:
    arr, bits = CASES["ramp"]
    assert len(jpegll.encode_frame(arr, bits)) * 4 < arr.nbytes
    with pytest.raises(ValueError, match="one or three samples"):
        jpegll.encode_frame(np.zeros((4, 4, 2), dtype=np.uint8), 8)
    with pytest.raises(ValueError):
        jpegll.encode_frame(np.zeros((4, 4), dtype=np.uint16), 17)


def test_a_codestream_that_does_not_decode_back_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    sample = burned_text.make_sample(3, "mono16", rows=64, cols=64, sizes=(12, 14))
    ds = burned_text.roundtrip(sample.ds)
    dec = codecs.decode(ds)
    dec.transfer_syntax = JPEGLosslessSV1  # as if it had come in that way
    dec.frames[0, :4, :4] = 0  # "redacted"
    good = jpegll.encode_frame

    def off_by_one(frame: npt.NDArray[np.generic], bits_stored: int) -> bytes:
        return good(np.asarray(frame) ^ 1, bits_stored)  # a valid stream of other values

    monkeypatch.setattr(jpegll, "encode_frame", off_by_one)
    assert codecs.encode(ds, dec) == ExplicitVRLittleEndian
    out = burned_text.roundtrip(ds)
    assert np.array_equal(out.pixel_array, dec.frames[0])
    monkeypatch.setattr(jpegll, "encode_frame", good)
    assert codecs.encode(ds, dec) == JPEGLosslessSV1
    assert np.array_equal(burned_text.roundtrip(ds).pixel_array, dec.frames[0])
