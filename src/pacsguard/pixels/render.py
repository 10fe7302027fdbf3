"""Turn one decoded frame into an 8-bit RGB picture for OCR and thumbnails.

Grey data is stretched min..max per frame (burned-in text is usually drawn at or near
the extreme value, so it stays the brightest thing), MONOCHROME1 is inverted,
YBR_FULL is converted to RGB and PALETTE COLOR goes through the file's colour LUT.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset

__all__ = ["png_thumbnail", "to_display"]

U8 = npt.NDArray[np.uint8]


def _stretch(arr: npt.NDArray[Any]) -> U8:
    lo = float(arr.min())
    hi = float(arr.max())
    if hi <= lo:
        return np.zeros(arr.shape, dtype=np.uint8)
    scaled = (arr.astype(np.float32) - lo) * (255.0 / (hi - lo))
    out: U8 = np.clip(scaled + 0.5, 0, 255).astype(np.uint8)
    return out


def to_display(frame: npt.NDArray[Any], photometric: str, ds: Dataset) -> U8:
    """Return ``frame`` as a ``(rows, columns, 3)`` uint8 RGB array."""
    if photometric in ("MONOCHROME1", "MONOCHROME2"):
        grey = _stretch(frame)
        if photometric == "MONOCHROME1":
            grey = 255 - grey
        return np.repeat(grey[:, :, np.newaxis], 3, axis=2)
    if photometric == "PALETTE COLOR":
        from pydicom.pixels.processing import apply_color_lut

        rgb = apply_color_lut(frame, ds)
        bits = 16 if rgb.dtype.itemsize > 1 else 8
        return (rgb >> (bits - 8)).astype(np.uint8) if bits > 8 else rgb.astype(np.uint8)
    if photometric == "YBR_FULL":
        from pydicom.pixels.processing import convert_color_space

        if frame.dtype.itemsize == 1:
            rgb8 = convert_color_space(frame.copy(), "YBR_FULL", "RGB")  # may work in place
            return np.asarray(rgb8, dtype=np.uint8)
        return _stretch(frame)  # 16-bit YBR is exotic: a stretch is enough to read text
    if frame.dtype.itemsize == 1:
        return np.asarray(frame, dtype=np.uint8)
    return _stretch(frame)


def png_thumbnail(rgb: U8, max_side: int = 256) -> bytes:
    """A small PNG of ``rgb`` (aspect ratio kept), for the review gallery."""
    from PIL import Image

    img = Image.fromarray(rgb)
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
