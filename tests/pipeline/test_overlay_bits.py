"""An overlay stored in Pixel Data's unused high bits (group 60xx without Overlay Data) is
cleared when pixels are cleaned: the written pixels carry no bit above High Bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from test_reasons import encode, image, with_embedded_overlay

from pacsguard.cli import main


def test_overlay_bits_are_cleared_when_pixels_are_cleaned(tmp_path: Path, key_file: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    src, out, bin_dir = tmp_path / "in", tmp_path / "out", tmp_path / "bin"
    src.mkdir()
    bin_dir.mkdir()
    ds = with_embedded_overlay(image())
    ds.PixelData = bytes([0x34, 0x12]) * 64  # 0x1234: the overlay bit (12) set in every pixel
    (src / "a.dcm").write_bytes(encode(ds))
    (bin_dir / "tesseract").write_text("#!/bin/sh\nexit 0\n")  # finds no text
    (bin_dir / "tesseract").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    policy = tmp_path / "p.toml"
    policy.write_text('[pixels]\ndetector = "tesseract"\n')
    assert main(["-q", "deid", str(src), str(out), "--key-file", str(key_file), "-j", "1",
                 "--file-timeout", "0", "--no-progress", "--clean-pixels", "-p", str(policy)]) == 0
    (written,) = out.rglob("*.dcm")
    result = pydicom.dcmread(written)
    pixels = np.frombuffer(result.PixelData, dtype="<u2")
    assert not (pixels >> int(result.BitsStored)).any()  # no overlay bit left
    assert (pixels == 0x0234).all()  # the image itself unchanged
