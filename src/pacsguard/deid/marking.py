"""Mark a de-identified dataset as PS3.15 asks, and clean its file meta information."""

from __future__ import annotations

from collections.abc import Callable

from pydicom.dataset import Dataset

from pacsguard import __version__
from pacsguard.profile.options import BASIC_PROFILE_CODE, OPTION_CODES, Option
from pacsguard.profile.policy import Policy

#: pacsguard's Implementation Class UID: a 2.25 UID derived from a fixed UUID
#: (a3c5e1d2-7b4f-4c1e-9a8d-5f6e7a8b9c0d).
IMPLEMENTATION_CLASS_UID = "2.25.217691626012310118759664023222258211853"
IMPLEMENTATION_VERSION_NAME = "PACSGUARD_" + __version__.replace(".", "")[:6]

# File meta elements that can carry identifying values; removed.
_META_REMOVE = (0x00020016, 0x00020017, 0x00020018, 0x00020100, 0x00020102)


def mark(ds: Dataset, policy: Policy, *, pixels_cleaned: bool = False) -> None:
    """Set Patient Identity Removed, De-identification Method (and its code sequence) and
    Longitudinal Temporal Information Modified."""
    options = set(policy.options)
    if not pixels_cleaned:
        options.discard(Option.CLEAN_PIXEL_DATA)
    ordered = [o for o in Option if o in options]
    ds.add_new(0x00120062, "CS", "YES")  # Patient Identity Removed
    methods = [f"pacsguard {__version__}", "DICOM PS3.15 E.1 Basic Profile"]
    methods += [o.value for o in ordered]
    ds.add_new(0x00120063, "LO", methods)  # De-identification Method
    items = []
    for value, meaning in [BASIC_PROFILE_CODE] + [OPTION_CODES[o] for o in ordered]:
        item = Dataset()
        item.add_new(0x00080100, "SH", value)  # Code Value
        item.add_new(0x00080102, "SH", "DCM")  # Coding Scheme Designator
        item.add_new(0x00080104, "LO", meaning)  # Code Meaning
        items.append(item)
    ds.add_new(0x00120064, "SQ", items)  # De-identification Method Code Sequence
    if Option.RETAIN_LONGITUDINAL_FULL_DATES in options:
        temporal = "UNMODIFIED"
    elif Option.RETAIN_LONGITUDINAL_MODIFIED_DATES in options:
        temporal = "MODIFIED"
    else:
        temporal = "REMOVED"
    ds.add_new(0x00280303, "CS", temporal)  # Longitudinal Temporal Information Modified


def clean_file_meta(meta: Dataset, ds: Dataset, *, retain_uids: bool,
                    uid_map: Callable[[str], str]) -> None:
    """Point the file meta at the new SOP Instance UID and name pacsguard as implementation."""
    for tag in _META_REMOVE:
        if tag in meta:
            del meta[tag]
    sop_uid = ds.get(0x00080018)
    if sop_uid is not None and sop_uid.value:
        meta.add_new(0x00020003, "UI", str(sop_uid.value))
    elif 0x00020003 in meta and not retain_uids:
        meta[0x00020003].value = uid_map(str(meta[0x00020003].value))
    sop_class = ds.get(0x00080016)
    if sop_class is not None and sop_class.value:
        meta.add_new(0x00020002, "UI", str(sop_class.value))
    meta.add_new(0x00020012, "UI", IMPLEMENTATION_CLASS_UID)
    meta.add_new(0x00020013, "SH", IMPLEMENTATION_VERSION_NAME)
