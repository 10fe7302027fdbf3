"""Decide whether an OCR'd text line is this patient's identifier, a PHI pattern, or other.

Matching is done on a *canonical* form that absorbs the usual OCR confusions:
letters O/Q/D vs digit 0, I/L/|/! vs 1, S vs 5, B vs 8, Z vs 2, and separators
(``^ * ~ , . - / :`` and spaces, since ``DOE^JOHN`` reads as ``DOE*JOHN`` or
``DOE~JOHN``) are dropped. Each identifier then matches approximately (Sellers'
edit-distance substring search: 0 edits up to 4 characters, 1 up to 8, 2 beyond).
Dates among the identifiers (``YYYYMMDD``) also match their usual printed forms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Classification", "IdentifierMatcher", "canonical", "classify", "is_phi_pattern"]

Classification = Literal["identifier", "phi-pattern", "other"]

_CONFUSE = str.maketrans(
    {
        "O": "0",
        "Q": "0",
        "D": "0",
        "I": "1",
        "L": "1",
        "|": "1",
        "!": "1",
        "S": "5",
        "B": "8",
        "Z": "2",
    }
)
_DROP = re.compile(r"[^0-9A-Z]")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def canonical(text: str) -> str:
    """Upper-case, map look-alike characters together, keep only letters and digits."""
    return _DROP.sub("", text.upper().translate(_CONFUSE))


def _allowed_edits(n: int) -> int:
    return 0 if n <= 4 else 1 if n <= 8 else 2


def _approx_in(needle: str, hay: str, k: int) -> bool:
    """True when ``needle`` occurs in ``hay`` with at most ``k`` edits (Sellers 1980)."""
    if not needle:
        return False
    if k == 0:
        return needle in hay
    if len(hay) + k < len(needle):
        return False
    prev = list(range(len(needle) + 1))
    for ch in hay:
        cur = [0]
        for j, nc in enumerate(needle, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (nc != ch)))
        if cur[-1] <= k:
            return True
        prev = cur
    return False


def _date_variants(value: str) -> list[str]:
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", value)
    if not m:
        return []
    y, mo, d = m.groups()
    if not (1 <= int(mo) <= 12 and 1 <= int(d) <= 31):
        return []
    mon = _MONTHS[int(mo) - 1]
    out = [
        y + mo + d,
        d + mo + y,
        mo + d + y,
        d + mo + y[2:],
        mo + d + y[2:],
        d + mon + y,
        mon + d + y,
        y + mon + d,
    ]
    if d.startswith("0"):  # 3-MAR-1987 style
        out += [d[1:] + mon + y, mon + d[1:] + y]
    return out


def _tokens(identifier: str) -> list[str]:
    parts = [p for p in re.split(r"[\^\s,=]+", identifier.strip()) if p]
    return [identifier, *parts] if len(parts) > 1 else [identifier]


@dataclass(frozen=True)
class IdentifierMatcher:
    """Canonical needles built once from a file's identifying strings."""

    needles: tuple[str, ...]
    short: frozenset[str]  # 2-character tokens: whole-word matches only

    @classmethod
    def build(cls, identifiers: Iterable[str]) -> IdentifierMatcher:
        needles: set[str] = set()
        short: set[str] = set()
        for ident in identifiers:
            raw = str(ident).strip()
            if not raw:
                continue
            variants = [*_tokens(raw), *_date_variants(re.sub(r"[-/.]", "", raw))]
            for v in variants:
                c = canonical(v)
                if len(c) >= 3:
                    needles.add(c)
                elif len(c) == 2:
                    short.add(c)
        return cls(tuple(sorted(needles, key=len, reverse=True)), frozenset(short))

    def matches(self, text: str) -> bool:
        hay = canonical(text)
        if not hay:
            return False
        for needle in self.needles:
            if _approx_in(needle, hay, _allowed_edits(len(needle))):
                return True
        if self.short:
            words = {canonical(w) for w in re.split(r"[\s\^*~,.:;/]+", text)}
            return bool(words & self.short)
        return False


_MON = r"(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*"
_PHI_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"\b\d{1,2}\s?[-/.]\s?\d{1,2}\s?[-/.]\s?\d{2,4}\b",  # 14/03/1987, 3-14-87
        r"\b(?:19|20)\d{2}\s?[-/.]?\s?[01]\d\s?[-/.]?\s?[0-3]\d\b",  # 1987-03-14, 19870314
        rf"\b\d{{1,2}}[-\s.]?{_MON}[-\s.,]*\d{{2,4}}\b",  # 14-Mar-1987
        rf"\b{_MON}[-\s.]?\d{{1,2}},?[-\s.]?\d{{2,4}}\b",  # Mar 14, 1987
        r"\d{6,}",  # long numbers: MRNs, accession numbers, phone numbers
        r"\b[A-Z]{1,4}[-_]?\d{4,}\b",  # PID001234, AC-123456
        r"\b(?:NAME|PATIENT|PAT|DOB|D\.O\.B|BIRTH|BORN|MRN|ACC|ACCESSION|HOSP|HOSPITAL|CLINIC|"
        r"INSTITUTION|PHYSICIAN|REFERRING|DR|SSN|ID|PID|IPP|NHS)\b",  # labels next to values
        r"\b[A-Z][A-Z'-]+\s?[\^*~]\s?[A-Z][A-Z'-]+",  # DOE^JOHN as OCR reads it
        r"\b[A-Z][A-Z'-]{1,},\s?[A-Z][A-Z'-]+\b",  # DOE, JOHN
    )
)


def is_phi_pattern(text: str) -> bool:
    """True when ``text`` looks like a date, an ID, a name label or a DICOM-style name."""
    upper = text.upper()
    return any(p.search(upper) for p in _PHI_PATTERNS)


def classify(text: str, matcher: IdentifierMatcher) -> Classification:
    """Classify one OCR'd line; identifier wins over pattern."""
    if matcher.matches(text):
        return "identifier"
    if is_phi_pattern(text):
        return "phi-pattern"
    return "other"


def build_matcher(identifiers: Sequence[str]) -> IdentifierMatcher:
    """Shorthand for :meth:`IdentifierMatcher.build`."""
    return IdentifierMatcher.build(identifiers)
