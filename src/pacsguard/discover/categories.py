"""Which kind of personal data an attribute holds (shared by scan and verify)."""

from __future__ import annotations

from functools import lru_cache

from pydicom.datadict import keyword_for_tag

from pacsguard.dicom.tags import (
    PRIVATE_INFORMATION,
    RECEIVING_APPLICATION_ENTITY_TITLE,
    SENDING_APPLICATION_ENTITY_TITLE,
    SOURCE_APPLICATION_ENTITY_TITLE,
)
from pacsguard.profile import rule_for

__all__ = ["CATEGORIES", "NUMERIC_VRS", "TEXT_VRS", "categorize", "is_well_known_uid", "keyword",
           "removed_by_profile"]

#: Category names, in report order.
CATEGORIES = (
    "name",
    "id",
    "date",
    "contact",
    "institution-staff",
    "free-text",
    "uid",
    "private",
    "other",
)

TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "TM", "UC",
                      "UI", "UR", "UT"})
NUMERIC_VRS = frozenset({"DS", "IS", "FL", "FD", "SL", "SS", "UL", "US", "SV", "UV", "AT",
                         "US or SS"})

_NESTED_VALUE_VRS = frozenset({"PN", "DA", "DT", "UI", "LT", "ST", "UT", "UC"})
_STAFF_WORDS = ("Physician", "Operator", "Performing", "Reading", "Requesting", "Referring",
                "Responsible", "Verifying", "Author", "Reviewer", "Scheduled", "Consulting",
                "Interpretation")
_INSTITUTION_WORDS = ("Institution", "Department", "StationName", "Organization", "Manufacturer",
                      "DeviceSerial", "StationAE", "Service")
_CONTACT_WORDS = ("Address", "Telephone", "Telecom", "Phone", "EMail", "ElectronicMail",
                  "Country", "Region", "Residence")
_FREE_TEXT_WORDS = ("Comment", "Description", "Text", "Remark", "Note", "History", "Reason",
                    "Finding", "Impression", "Additional", "Label", "Allergies", "Occupation",
                    "Interpretation")


def keyword(tag: int) -> str:
    return str(keyword_for_tag(tag) or "")


def is_well_known_uid(uid: str) -> bool:
    """UIDs of the DICOM registry (SOP classes, transfer syntaxes, ...): never identifying."""
    return uid.startswith("1.2.840.10008.")


@lru_cache(maxsize=16384)
def removed_by_profile(tag: int) -> bool:
    """True when the Basic Profile removes, blanks or replaces ``tag`` (so also all it nests)."""
    rule = rule_for(tag)
    return rule is not None and any(a in rule.basic for a in "XZDU")


@lru_cache(maxsize=16384)
def categorize(tag: int, vr: str, under_removed: bool = False) -> str | None:
    """The category of a value at ``tag`` (any depth), or None when it is not personal data.

    ``under_removed`` says that an enclosing sequence is removed by the profile, so its
    content counts as removed even when the table does not list the attribute itself.
    """
    group = tag >> 16
    if group % 2 == 1:
        if (tag & 0xFFFF) < 0x1000:
            return None  # private creator: a vendor name, not personal data
        return {"PN": "name", "DA": "date", "DT": "date", "UI": "uid", "LT": "free-text",
                "ST": "free-text", "UT": "free-text"}.get(vr, "private")
    if group in (0x0002, 0x0004):
        # File meta: the sending/receiving AE titles name stations; the rest is technical.
        if tag in (SOURCE_APPLICATION_ENTITY_TITLE, SENDING_APPLICATION_ENTITY_TITLE,
                   RECEIVING_APPLICATION_ENTITY_TITLE):
            return "institution-staff"
        return "private" if tag == PRIVATE_INFORMATION else None
    rule = rule_for(tag)
    kw = keyword(tag)
    if vr == "UI":
        if rule is not None and "U" in rule.basic:
            return "uid"
        return "uid" if rule is None and under_removed else None
    if vr in ("DA", "DT"):
        return "date"
    if rule is None and (not under_removed or vr not in _NESTED_VALUE_VRS):
        # Not in the profile: only person names are personal by themselves. Inside a removed
        # sequence (SR content), codes are terminology; names, dates, UIDs and text are not.
        return "name" if vr == "PN" else None
    if rule is not None and not any(a in rule.basic for a in "XZDU") and not under_removed:
        return None
    if vr == "TM":
        return "date"
    if vr == "PN":
        return "institution-staff" if any(w in kw for w in _STAFF_WORDS) else "name"
    if any(w in kw for w in _INSTITUTION_WORDS):
        return "institution-staff"
    if any(w in kw for w in _CONTACT_WORDS):
        return "contact"
    if vr in ("LT", "ST", "UT") or any(w in kw for w in _FREE_TEXT_WORDS):
        return "free-text"
    if kw.endswith(("ID", "IDs", "Number", "Numbers", "Identifier", "Issuer")) or "IssuerOf" in kw:
        return "id"
    if vr in ("AE", "SH", "LO", "UC"):
        return "other"
    if vr in NUMERIC_VRS or vr in ("SQ", "OB", "OW", "UN", "CS", "AS"):
        return None if vr in ("SQ", "OB", "OW") else "other"
    return "other"
