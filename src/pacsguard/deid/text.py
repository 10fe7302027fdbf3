"""Free-text cleaning for Clean Descriptors and Clean Structured Content.

Replacement tokens (documented in the README):

==============  ===========================================================
``[NAME]``      a name part of the patient or of staff named in the file
``[ID]``        the patient's IDs, accession numbers, long ID-like numbers
``[DOB]``       the patient's birth date, in any common format
``[DATE]``      any other date, when dates are not shifted
``[PHONE]``     telephone numbers
``[EMAIL]``     e-mail addresses
``[ADDRESS]``   the patient's address
``[INSTITUTION]`` the institution's name or address (unless Retain Institution Identity)
==============  ===========================================================

With Retain Longitudinal Temporal Information with Modified Dates, other dates in text are
shifted by the patient's offset and written in the same form instead of being replaced.
"""

from __future__ import annotations

import re

from pacsguard.deid.dates import shift_text_dates
from pacsguard.deid.identifiers import FileIdentifiers
from pacsguard.discover.forms import (
    EMAIL,
    LONG_NUMBER,
    MIXED_ID,
    PHONE,
    date_forms,
    id_forms,
    is_phone,
    parse_date,
)
from pacsguard.discover.matcher import alternation, fold


def _birth_date_forms(value: str) -> list[str]:
    day = parse_date(value)
    return [value] if day is None else [f.text for f in date_forms(day)]


_REMEMBERED = 4096  #: cleaned texts a cleaner keeps


class TextCleaner:
    """Cleans free text of one file's identifiers and of generic PHI patterns."""

    def __init__(self, ids: FileIdentifiers, shift_days: int | None) -> None:
        self._shift = shift_days
        rules: list[tuple[re.Pattern[str], str]] = []
        if ids.emails:
            rules.append((re.compile(alternation(ids.emails), re.I), "[EMAIL]"))
        if ids.addresses:
            rules.append((re.compile(alternation(ids.addresses), re.I), "[ADDRESS]"))
        if ids.institutions:
            rules.append((re.compile(alternation(ids.institutions), re.I), "[INSTITUTION]"))
        if ids.birth_dates:
            forms = [f for d in ids.birth_dates for f in _birth_date_forms(d)]
            rules.append((re.compile(rf"(?<![\d]){alternation(forms)}(?![\d])", re.I), "[DOB]"))
        ids_forms = {f for v in ids.ids for f in id_forms(v)}
        if ids_forms:
            pattern = rf"(?<![0-9A-Za-z]){alternation(ids_forms)}(?![0-9A-Za-z])"
            rules.append((re.compile(pattern, re.I), "[ID]"))
        if ids.full_names:
            rules.append((re.compile(rf"(?<!\w){alternation(ids.full_names)}(?!\w)", re.I), "[NAME]"))
        if ids.names:
            rules.append((re.compile(rf"(?<!\w)(?:{alternation(ids.names)})(?!\w)", re.I), "[NAME]"))
        self._rules = rules
        self._done: dict[str, str] = {}  #: the files of a series repeat their texts

    def clean(self, text: str) -> str:
        """Return ``text`` with every identifier and PHI pattern replaced."""
        if not text or not text.strip():
            return text
        found = self._done.get(text)
        if found is None:
            if len(self._done) >= _REMEMBERED:
                self._done.clear()
            found = self._done[text] = self._clean(text)
        return found

    def _clean(self, text: str) -> str:
        out = text
        for pattern, token in self._rules:
            out = pattern.sub(token, out)
            if out.isascii():
                continue
            folded = fold(out)
            if len(folded) == len(out):  # also catch accent-free spellings at the same places
                spans = [m.span() for m in pattern.finditer(folded)]
                for start, end in reversed(spans):
                    out = out[:start] + token + out[end:]
        out = EMAIL.sub("[EMAIL]", out)
        stash: list[str] = []

        def shield(value: str) -> str:  # keep shifted dates away from the number patterns
            stash.append(value)
            return f"\x00{len(stash) - 1}\x00"

        out = shift_text_dates(out.replace("\x00", ""), self._shift, wrap=shield)
        out = PHONE.sub(_phone_or_keep, out)
        out = MIXED_ID.sub(_id_unless_token, out)
        out = LONG_NUMBER.sub("[ID]", out)
        return re.sub(r"\x00(\d+)\x00", lambda m: stash[int(m.group(1))], out)


def _phone_or_keep(m: re.Match[str]) -> str:
    text = m.group(0)
    if not is_phone(text):
        return text  # too short, or a list of decimals ("1.25 0.625 5.0")
    return "[ID]" if text.isdigit() else "[PHONE]"


def _id_unless_token(m: re.Match[str]) -> str:
    return m.group(0) if m.group(0).startswith("[") else "[ID]"
