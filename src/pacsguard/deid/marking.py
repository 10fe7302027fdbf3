"""Mark a de-identified dataset as PS3.15 asks, and clean its file meta information."""

from __future__ import annotations

from collections.abc import Callable

from pydicom.dataset import Dataset

from pacsguard import __version__
from pacsguard.dicom.identity import (
    PACSGUARD_IMPLEMENTATION_CLASS_UID,
    PACSGUARD_IMPLEMENTATION_VERSION_NAME,
)
from pacsguard.dicom.tags import (
    CODE_MEANING,
    CODE_VALUE,
    CODING_SCHEME_DESIGNATOR,
    DEIDENTIFICATION_METHOD,
    DEIDENTIFICATION_METHOD_CODE_SEQUENCE,
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION_NAME,
    LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED,
    MEDIA_STORAGE_SOP_CLASS_UID,
    MEDIA_STORAGE_SOP_INSTANCE_UID,
    PATIENT_IDENTITY_REMOVED,
    PRIVATE_INFORMATION,
    PRIVATE_INFORMATION_CREATOR_UID,
    RECEIVING_APPLICATION_ENTITY_TITLE,
    SENDING_APPLICATION_ENTITY_TITLE,
    SOP_CLASS_UID,
    SOP_INSTANCE_UID,
    SOURCE_APPLICATION_ENTITY_TITLE,
)
from pacsguard.profile.options import BASIC_PROFILE_CODE, OPTION_CODES, Option
from pacsguard.profile.policy import Policy

# File meta elements that can carry identifying values; removed.
_META_REMOVE = (SOURCE_APPLICATION_ENTITY_TITLE, SENDING_APPLICATION_ENTITY_TITLE,
                RECEIVING_APPLICATION_ENTITY_TITLE, PRIVATE_INFORMATION_CREATOR_UID,
                PRIVATE_INFORMATION)


def mark(ds: Dataset, policy: Policy, *, pixels_cleaned: bool = False) -> None:
    """Set Patient Identity Removed, De-identification Method (and its code sequence) and
    Longitudinal Temporal Information Modified."""
    options = set(policy.options)
    if not pixels_cleaned:
        options.discard(Option.CLEAN_PIXEL_DATA)
    ordered = [o for o in Option if o in options]
    ds.add_new(PATIENT_IDENTITY_REMOVED, "CS", "YES")
    methods = [f"pacsguard {__version__}", "DICOM PS3.15 E.1 Basic Profile"]
    methods += [o.value for o in ordered]
    ds.add_new(DEIDENTIFICATION_METHOD, "LO", methods)
    items = []
    for value, meaning in [BASIC_PROFILE_CODE] + [OPTION_CODES[o] for o in ordered]:
        item = Dataset()
        item.add_new(CODE_VALUE, "SH", value)
        item.add_new(CODING_SCHEME_DESIGNATOR, "SH", "DCM")
        item.add_new(CODE_MEANING, "LO", meaning)
        items.append(item)
    ds.add_new(DEIDENTIFICATION_METHOD_CODE_SEQUENCE, "SQ", items)
    if Option.RETAIN_LONGITUDINAL_FULL_DATES in options:
        temporal = "UNMODIFIED"
    elif Option.RETAIN_LONGITUDINAL_MODIFIED_DATES in options:
        temporal = "MODIFIED"
    else:
        temporal = "REMOVED"
    ds.add_new(LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED, "CS", temporal)


def clean_file_meta(meta: Dataset, ds: Dataset, *, retain_uids: bool,
                    uid_map: Callable[[str], str]) -> None:
    """Point the file meta at the new SOP Instance UID and name pacsguard as implementation."""
    for tag in _META_REMOVE:
        if tag in meta:
            del meta[tag]
    sop_uid = ds.get(SOP_INSTANCE_UID)
    if sop_uid is not None and sop_uid.value:
        meta.add_new(MEDIA_STORAGE_SOP_INSTANCE_UID, "UI", str(sop_uid.value))
    elif MEDIA_STORAGE_SOP_INSTANCE_UID in meta and not retain_uids:
        meta[MEDIA_STORAGE_SOP_INSTANCE_UID].value = uid_map(
            str(meta[MEDIA_STORAGE_SOP_INSTANCE_UID].value))
    sop_class = ds.get(SOP_CLASS_UID)
    if sop_class is not None and sop_class.value:
        meta.add_new(MEDIA_STORAGE_SOP_CLASS_UID, "UI", str(sop_class.value))
    meta.add_new(IMPLEMENTATION_CLASS_UID, "UI", PACSGUARD_IMPLEMENTATION_CLASS_UID)
    meta.add_new(IMPLEMENTATION_VERSION_NAME, "SH", PACSGUARD_IMPLEMENTATION_VERSION_NAME)
