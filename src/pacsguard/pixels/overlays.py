"""Overlay planes (groups 6000-601E): remove them, or erase text from their bitmaps.

Clean Graphics of PS3.15: overlays often carry annotations with names or dates.
By default every repeating group 60xx is deleted. When the policy keeps overlays, each
plane's bitmap (60xx,3000) is rendered, run through the same detector and classifier as
the pixels, and the bits inside selected text boxes, region-rule rectangles and the
boxes redacted in the image are cleared; free text (60xx,0022) Overlay Description and
(60xx,1500) Overlay Label is deleted. Overlays stored in unused high bits of Pixel Data
(retired) vanish when the pixels are decoded and written back, because decoding masks
bits above Bits Stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from pacsguard.dicom.tags import (
    OVERLAY_DATA,
    OVERLAY_DESCRIPTION,
    OVERLAY_LABEL,
    OVERLAY_ORIGIN,
    in_group,
    is_overlay_group,
)
from pacsguard.pixels.redact import Box, expand

__all__ = ["clean_overlays", "overlay_groups", "remove_overlays"]

SelectBoxes = Callable[[npt.NDArray[np.uint8]], list[Box]]


def _tags(ds: Dataset) -> list[BaseTag]:
    return list(ds.keys())


def overlay_groups(ds: Dataset) -> list[int]:
    """The overlay groups (even, 6000-601E) present in ``ds``."""
    return sorted({t.group for t in _tags(ds) if is_overlay_group(t.group)})


def remove_overlays(ds: Dataset) -> int:
    """Delete every element of every overlay group; returns the number of groups removed."""
    groups = overlay_groups(ds)
    for tag in [t for t in _tags(ds) if t.group in groups]:
        del ds[tag]
    return len(groups)


def clean_overlays(ds: Dataset, image_boxes: Sequence[Box], select: SelectBoxes, margin: int) -> int:
    """Erase text from every overlay bitmap; returns the number of boxes cleared.

    ``image_boxes`` are in image pixel coordinates (already with margin); ``select``
    takes an overlay frame rendered as RGB and returns the boxes to clear in it.
    An overlay that cannot be decoded is removed instead of kept.
    """
    from pydicom.pixels.utils import pack_bits

    cleared = 0
    for group in overlay_groups(ds):
        for tag in (in_group(OVERLAY_DESCRIPTION, group), in_group(OVERLAY_LABEL, group)):
            if tag in ds:
                del ds[tag]
        data_tag = in_group(OVERLAY_DATA, group)
        if data_tag not in ds:
            continue
        try:
            arr = np.asarray(ds.overlay_array(group))
        except Exception:  # unreadable bitmap: drop the whole plane, fail closed
            for tag in [t for t in _tags(ds) if t.group == group]:
                del ds[tag]
            continue
        planes = arr if arr.ndim == 3 else arr[np.newaxis]
        planes = planes.astype(np.uint8, copy=True)
        origin = ds.get(in_group(OVERLAY_ORIGIN, group))
        oy, ox = (int(origin.value[0]) - 1, int(origin.value[1]) - 1) if origin else (0, 0)
        h, w = planes.shape[1:]
        for plane in planes:
            boxes: list[Box] = []
            for x0, y0, x1, y1 in image_boxes:  # image coords -> overlay coords
                b = expand((x0 - ox, y0 - oy, x1 - ox, y1 - oy), 0, w, h)
                if b is not None:
                    boxes.append(b)
            rgb = np.repeat((plane * 255)[:, :, np.newaxis], 3, axis=2)
            for box in select(rgb):
                b = expand(box, margin, w, h)
                if b is not None:
                    boxes.append(b)
            for x0, y0, x1, y1 in boxes:
                plane[y0:y1, x0:x1] = 0
            cleared += len(boxes)
        ds[data_tag].value = pack_bits(planes.reshape(-1))
    return cleared
