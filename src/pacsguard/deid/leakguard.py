"""The last check before a file is written: does any of the patient's own identifiers remain?

A file that still carries one is quarantined (``residual-identifier``), never written. The
check reads decoded values at every depth, and the raw bytes of binary and unknown-VR
elements (pixel data excepted), against the patient's names, IDs, birth date, phones and
e-mail addresses collected before masking. Attributes the policy explicitly keeps are skipped:
the user asked for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydicom.dataset import Dataset

from pacsguard.deid.identifiers import FileIdentifiers, fold
from pacsguard.profile.actions import Action
from pacsguard.profile.policy import Policy

_PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009, 0x7FE00001, 0x7FE00002})
_MARK_TAGS = frozenset({0x00120063, 0x00120064})  # our own De-identification Method
# Code Sequence Macro attributes hold terminology ("Test", "Finding"): names are not looked
# for there (a patient called Test is common in test data); IDs and e-mails still are.
_CODE_TAGS = frozenset({0x00080100, 0x00080102, 0x00080103, 0x00080104, 0x00080105, 0x00080106,
                        0x00080107, 0x0008010B, 0x0008010D, 0x0008010F, 0x00080117, 0x00080118,
                        0x00080119, 0x00080120, 0x00080121, 0x00080122})


_CODE_SUFFIXES = tuple(f"({t >> 16:04X},{t & 0xFFFF:04X})" for t in _CODE_TAGS)


class LeakGuard:
    """Compiled matchers for one file's identifiers."""

    def __init__(self, ids: FileIdentifiers, policy: Policy, *, pseudonym: str) -> None:
        words = {fold(n) for n in ids.names if len(n) >= 4}
        strong = {fold(v) for v in ids.ids if len(v) >= 4}
        compact = {re.sub(r"[^0-9a-z]", "", s) for s in strong}
        strong |= {s for s in compact if len(s) >= 5}
        strong |= {fold(e) for e in ids.emails}
        strong |= {re.sub(r"\D", "", p) for p in ids.phones if len(re.sub(r"\D", "", p)) >= 8}
        strong.discard(fold(pseudonym))
        self._dob = {d for d in ids.birth_dates if len(d) == 8}
        alternation = "|".join(map(re.escape, sorted(words, key=len, reverse=True)))
        self._word = re.compile(rf"(?<![a-z])(?:{alternation})(?![a-z])") if words else None
        self._strong = sorted(strong, key=len, reverse=True)
        self._kept = frozenset(t for t, a in policy.overrides.items() if a is Action.K)
        self._dates_shifted = policy.shifts_dates

    def find(self, ds: Dataset) -> str | None:
        """The location (tag path) of the first remaining identifier, or None."""
        for path, vr, text in self._texts(ds, ""):
            folded = fold(text)
            is_code = path.endswith(_CODE_SUFFIXES)
            if self._word is not None and not is_code and self._word.search(folded):
                return path
            compact = re.sub(r"[^0-9a-z@.]", "", folded)
            if any(s in folded or s in compact for s in self._strong):
                return path
            if self._dob and not (vr in ("DA", "DT") and self._dates_shifted) and any(
                    d in text for d in self._dob):
                return path
        return None

    def _texts(self, ds: Dataset, prefix: str, codec: str = "") -> Iterator[tuple[str, str, str]]:
        codec = codec or _codec(ds)
        for key in ds.keys():
            tag = int(key)
            if tag in _PIXEL_TAGS or tag in self._kept or tag in _MARK_TAGS:
                continue
            path = f"{prefix}({tag >> 16:04X},{tag & 0xFFFF:04X})"
            elem = ds.get_item(key)
            if elem.VR == "SQ" or (elem.is_raw and elem.VR is None and tag % 2 == 0 and
                                   isinstance(ds[key].value, list)):
                for i, item in enumerate(ds[key].value or []):
                    yield from self._texts(item, f"{path}[{i}]/", codec)
                continue
            value = elem.value
            if value is None:
                continue
            # Raw (never decoded) values are read as bytes in the dataset's character set.
            text = value.decode(codec, "replace") if isinstance(value, bytes) else str(value)
            yield path, str(elem.VR), text


def _codec(ds: Dataset) -> str:
    elem = ds.get(0x00080005)
    value = "" if elem is None else str(elem.value if elem.value is not None else "")
    return "utf-8" if "192" in value else "latin-1"
