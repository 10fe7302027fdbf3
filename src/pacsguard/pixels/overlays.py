"""Overlay planes (groups 6000-601E): removed whole.

Clean Graphics of PS3.15: overlays often carry annotations with names or dates, and no
bitmap cleaner is trusted with them, so every repeating group 60xx is deleted. Overlays
stored in unused high bits of Pixel Data (retired) vanish when the pixels are decoded and
written back, because decoding masks bits above Bits Stored.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from pacsguard.dicom.tags import is_overlay_group

__all__ = ["overlay_groups", "remove_overlays"]


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
