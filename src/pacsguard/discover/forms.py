"""The shapes an identifier takes inside text: one definition for cleaning and for searching.

Text cleaning (Clean Descriptors, Clean Structured Content) replaces what these patterns
find; verify and the leak guard index the same shapes in the originals' free text, so what
cleaning must remove is exactly what the search calls a leak when it remains.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["EMAIL", "LONG_NUMBER", "MIXED_ID", "PHONE", "identifier_forms", "is_phone"]

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Phone numbers: digit groups with separators, at least 8 digits in all (see is_phone).
PHONE = re.compile(r"(?<![\w.,])(?:\+|00)?\(?\d{1,4}\)?(?:[\s./-]?\(?\d{1,4}\)?){2,7}(?![\w])")
# ID-like: 6+ digit runs, or tokens mixing letters and 4+ digits.
LONG_NUMBER = re.compile(r"(?<![\w.])\d{6,}(?![\w.])")
MIXED_ID = re.compile(r"(?<![\w])(?=[A-Za-z-]*\d)(?=(?:[^\W_]*\d){4})[A-Za-z0-9][A-Za-z0-9-]{4,}(?![\w])")


_DATE = re.compile(r"(?:19|20)\d\d([-/.]?)\d\d\1\d\d|\d\d?([-/.])\d\d?\2(?:19|20)\d\d")


def is_phone(text: str) -> bool:
    """A PHONE match that is a telephone number: 8+ digits, not a list of decimals."""
    return sum(c.isdigit() for c in text) >= 8 and not ("." in text and " " in text)


def identifier_forms(text: str) -> Iterator[tuple[str, str]]:
    """``(kind, match)`` for every e-mail, phone, ID-like token and long number in ``text``.

    Dates are left out: cleaning shifts them (or keeps them under Full Dates), and the
    original dates are indexed from the date attributes.
    """
    for m in EMAIL.finditer(text):
        yield "email", m.group(0)
    found = [("phone", m.group(0)) for m in PHONE.finditer(text)
             if is_phone(m.group(0)) and not m.group(0).isdigit()]
    found += [("id", m.group(0)) for m in MIXED_ID.finditer(text)]
    found += [("id", m.group(0)) for m in LONG_NUMBER.finditer(text)]
    for kind, value in found:
        if not _DATE.fullmatch(value.strip()):
            yield kind, value
