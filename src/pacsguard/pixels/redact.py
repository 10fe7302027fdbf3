"""Fill rectangles in decoded frames with a colour that reads as background.

The fill is chosen per photometric interpretation so that the box renders dark:
the frame minimum for MONOCHROME2 (e.g. CT padding, not 0 on signed data), the
maximum for MONOCHROME1, black for RGB, Y=0/Cb=Cr=mid for YBR_FULL, and the palette
index whose LUT colour is darkest for PALETTE COLOR.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset

__all__ = ["Box", "expand", "fill_boxes", "fill_value", "merge"]

Box = tuple[int, int, int, int]  # x0, y0, x1, y1, exclusive ends


def expand(box: Box, margin: int, width: int, height: int) -> Box | None:
    """Grow ``box`` by ``margin`` pixels and clip it to the image; None if empty."""
    x0, y0, x1, y1 = box
    out = (
        max(0, x0 - margin),
        max(0, y0 - margin),
        min(width, x1 + margin),
        min(height, y1 + margin),
    )
    return out if out[2] > out[0] and out[3] > out[1] else None


def merge(boxes: Iterable[Box]) -> list[Box]:
    """Drop exact duplicates and boxes contained in another (order kept)."""
    uniq = list(dict.fromkeys(boxes))
    out = []
    for i, b in enumerate(uniq):
        inside = any(
            j != i and o[0] <= b[0] and o[1] <= b[1] and o[2] >= b[2] and o[3] >= b[3] and (o != b)
            for j, o in enumerate(uniq)
        )
        if not inside:
            out.append(b)
    return out


def fill_value(frame: npt.NDArray[Any], photometric: str, ds: Dataset) -> Any:
    """The value (scalar, or per-sample array) written into redacted boxes of ``frame``."""
    if photometric == "MONOCHROME2":
        return frame.min()
    if photometric == "MONOCHROME1":
        return frame.max()
    if photometric == "RGB":
        return np.zeros(frame.shape[-1], dtype=frame.dtype)
    if photometric == "YBR_FULL":
        mid = 1 << (frame.dtype.itemsize * 8 - 1)
        return np.array([0, mid, mid], dtype=frame.dtype)
    if photometric == "PALETTE COLOR":
        from pydicom.pixels.processing import apply_color_lut

        values = np.unique(frame)
        rgb = apply_color_lut(values, ds).astype(np.float64)
        return values[int(np.argmin(rgb @ np.array([0.299, 0.587, 0.114])))]
    raise ValueError(f"unsupported photometric interpretation {photometric}")


def fill_boxes(frames: npt.NDArray[Any], boxes: Sequence[Box], photometric: str, ds: Dataset) -> int:
    """Fill ``boxes`` in every frame of ``frames`` in place; returns boxes x frames filled."""
    if not boxes:
        return 0
    for i in range(frames.shape[0]):
        value = fill_value(frames[i], photometric, ds)
        for x0, y0, x1, y1 in boxes:
            frames[i, y0:y1, x0:x1] = value
    return len(boxes) * int(frames.shape[0])
