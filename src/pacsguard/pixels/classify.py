"""Decide whether an OCR'd text line is this patient's identifier, a PHI pattern, or other.

Matching is done on a *canonical* form that absorbs the usual OCR confusions:
letters O/Q/D vs digit 0, I/L/|/! vs 1, S vs 5, B vs 8, Z vs 2, and separators
(``^ * ~ , . - / :`` and spaces, since ``DOE^JOHN`` reads as ``DOE*JOHN`` or
``DOE~JOHN``) are dropped. Each identifier then matches approximately (Sellers'
edit-distance substring search, in Myers' bit-vector form: 0 edits up to 4 characters,
1 up to 8, 2 beyond), and a read of five characters or more matches when it lies inside
a longer identifier (a line the detector cut short).
The strings looked for (a name's parts, a date's printed forms) come from
:mod:`pacsguard.discover.forms`, as text cleaning's and verify's do.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pacsguard.discover.forms import MONTH_NUMBERS, date_forms, parse_date, value_parts
from pacsguard.discover.matcher import fold

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


def canonical(text: str) -> str:
    """Accent-free upper case, look-alike characters mapped together, only letters and
    digits kept."""
    if not text.isascii():
        text = fold(text)
    return _DROP.sub("", text.upper().translate(_CONFUSE))


def _allowed_edits(n: int) -> int:
    return 0 if n <= 4 else 1 if n <= 8 else 2


def _approx_in(needle: str, hay: str, k: int) -> bool:
    """True when ``needle`` occurs in ``hay`` with at most ``k`` edits.

    Myers' bit-vector form (1999) of Sellers' substring search: one column of the edit
    matrix per character of ``hay``, held as two bit masks over ``needle``.
    """
    m = len(needle)
    if not m:
        return False
    if k == 0:
        return needle in hay
    if len(hay) + k < m:
        return False
    if k >= m:
        return True
    peq: dict[str, int] = {}
    for i, ch in enumerate(needle):
        peq[ch] = peq.get(ch, 0) | (1 << i)
    full = (1 << m) - 1
    top = 1 << (m - 1)
    pv, mv, score = full, 0, m
    for ch in hay:
        eq = peq.get(ch, 0)
        xv = eq | mv
        xh = ((((eq & pv) + pv) & full) ^ pv) | eq
        ph = mv | (~(xh | pv) & full)
        mh = pv & xh
        if ph & top:
            score += 1
        elif mh & top:
            score -= 1
        # Substring search: the first row stays 0 (a match may start anywhere), so
        # nothing is shifted in at the bottom.
        ph = (ph << 1) & full
        mh = (mh << 1) & full
        pv = mh | (~(xv | ph) & full)
        mv = ph & xv
        if score <= k:
            return True
    return False


def _forms(identifier: str) -> list[str]:
    """What to look for of one identifier: the value and its parts, and a date's written forms
    (:mod:`pacsguard.discover.forms`) with a two-digit day: ``5 JAN 2024`` is one edit from
    ``05 JAN 2024``, which the tolerant match finds already, and ``5/1/2024`` (``512024``)
    lies within one edit of too many other numbers."""
    forms = value_parts(identifier)
    day = parse_date(re.sub(r"[-/.]", "", identifier))
    if day is not None:
        forms += [f.text for f in date_forms(day) if f.padded]
    return forms


def _counted(needles: Iterable[str]) -> tuple[tuple[tuple[str, int], ...], ...]:
    return tuple(tuple(Counter(n).items()) for n in needles)


@dataclass(frozen=True)
class IdentifierMatcher:
    """Canonical needles built once from a file's identifying strings."""

    needles: tuple[str, ...]
    short: frozenset[str]  # 2-character tokens: whole-word matches only
    #: each needle's characters, counted: a cheap test run before the edit-distance search
    counts: tuple[tuple[tuple[str, int], ...], ...] = field(compare=False)

    @classmethod
    def build(cls, identifiers: Iterable[str]) -> IdentifierMatcher:
        needles: set[str] = set()
        short: set[str] = set()
        for ident in identifiers:
            raw = str(ident).strip()
            if not raw:
                continue
            for v in _forms(raw):
                c = canonical(v)
                if len(c) >= 3:
                    needles.add(c)
                elif len(c) == 2:
                    short.add(c)
        ordered = tuple(sorted(needles, key=len, reverse=True))
        return cls(ordered, frozenset(short), _counted(ordered))

    def matches(self, text: str) -> bool:
        hay = canonical(text)
        if not hay:
            return False
        have = Counter(hay)
        for needle, counts in zip(self.needles, self.counts, strict=True):
            k = _allowed_edits(len(needle))
            # k edits leave at least len - k of the needle's characters in the hay
            if (sum(min(n, have[c]) for c, n in counts) >= len(needle) - k
                    and _approx_in(needle, hay, k)):
                return True
        # A line the detector cut short reads as the start or the middle of an identifier
        # ("ACC442" of "ACC442734"): five characters or more inside a longer needle count.
        if len(hay) >= 5:
            k = 0 if len(hay) <= 7 else 1
            if any(len(n) > len(hay) and _approx_in(hay, n, k) for n in self.needles):
                return True
        if self.short:
            words = {canonical(w) for w in re.split(r"[\s\^*~,.:;/]+", text)}
            return bool(words & self.short)
        return False

    def shortfall(self, text: str) -> int:
        """Characters a cut-short read lacks: the longest identifier that holds ``text``
        (five characters or more) minus its length; 0 when ``text`` holds a whole one."""
        hay = canonical(text)
        if len(hay) < 5 or any(_approx_in(n, hay, _allowed_edits(len(n))) for n in self.needles):
            return 0
        k = 0 if len(hay) <= 7 else 1
        return max((len(n) - len(hay) for n in self.needles if len(n) > len(hay) and _approx_in(hay, n, k)),
                   default=0)


# Month names (English, French) as OCR reads them: upper case, with or without accents.
_MON = "(?:" + "|".join(sorted({n.upper() for m in MONTH_NUMBERS for n in (m, fold(m))},
                               key=len, reverse=True)) + ")[A-Z]*"
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
