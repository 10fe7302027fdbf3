"""Dummy values (action D) and empty values (action Z), consistent with each VR."""

from __future__ import annotations

from typing import Any

#: Maximum value length per string VR (PS3.5 Table 6.2-1); None means unbounded here.
MAX_LEN: dict[str, int | None] = {
    "AE": 16, "AS": 4, "CS": 16, "DA": 8, "DS": 16, "DT": 26, "IS": 12, "LO": 64, "LT": 10240,
    "PN": 64, "SH": 16, "ST": 1024, "TM": 16, "UC": None, "UI": 64, "UR": None, "UT": None,
}
TEXT_VRS = frozenset({"LO", "LT", "SH", "ST", "UC", "UT"})
NUMBER_VRS = frozenset({"FL", "FD", "SL", "SS", "UL", "US", "SV", "UV"})
BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})

_DUMMY: dict[str, Any] = {
    "AE": "ANONYMOUS", "AS": "000Y", "CS": "ANONYMIZED", "DA": "19000101", "DS": "0",
    "DT": "19000101000000", "IS": "0", "LO": "ANONYMIZED", "LT": "ANONYMIZED", "PN": "ANONYMOUS",
    "SH": "ANONYMIZED", "ST": "ANONYMIZED", "TM": "000000", "UC": "ANONYMIZED",
    "UR": "urn:pacsguard:removed",
    "UT": "ANONYMIZED", "AT": None,
}


def dummy_value(vr: str) -> Any:
    """A non-identifying value of the right VR (numbers 0, binary empty)."""
    if vr in NUMBER_VRS:
        return 0
    if vr in BINARY_VRS:
        return b"\x00\x00\x00\x00"  # even length, non-zero, no meaning
    return _DUMMY.get(vr, "")


def empty_value(vr: str) -> Any:
    """A zero-length value of the right VR."""
    if vr == "SQ":
        return []
    if vr in BINARY_VRS:
        return b""
    if vr in NUMBER_VRS or vr == "AT":
        return None
    return ""


def fit(vr: str, text: str) -> str:
    """Cut ``text`` to the VR's maximum length."""
    limit = MAX_LEN.get(vr)
    return text if limit is None else text[:limit]
