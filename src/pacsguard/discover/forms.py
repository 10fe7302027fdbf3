"""The forms an identifier takes in text: one definition for cleaning, searching and OCR.

A date, an ID or a person's name is written many ways. This module is the one place that
says which: text cleaning (:mod:`pacsguard.deid.text`) replaces these forms, verify and the
leak guard index them (normalised by :mod:`pacsguard.discover.matcher`), and the pixel
classifier (:mod:`pacsguard.pixels.classify`) looks for them in the lines OCR reads. Each
user keeps the forms its own matching can tell apart from ordinary text (see
:class:`DateForm`). The patterns of identifier-shaped text (e-mails, phones, ID-like tokens)
are here too: what cleaning must remove is exactly what the search calls a leak.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import NamedTuple

from pacsguard.discover.matcher import fold

__all__ = ["EMAIL", "ENGLISH_MONTHS", "LONG_NUMBER", "MIXED_ID", "MONTH_NUMBERS", "PHONE",
           "STOP_WORDS", "DateForm", "date_forms", "id_forms", "identifier_forms", "is_name_word",
           "is_phone", "name_forms", "parse_date", "value_parts"]

# --- dates -------------------------------------------------------------------------------

#: Month names as written: the English abbreviation, the English name, then French names
#: and other abbreviations (with and without accents).
_MONTH_NAMES: tuple[tuple[str, ...], ...] = (
    ("jan", "january", "janvier", "janv"),
    ("feb", "february", "fevrier", "février", "fev", "févr"),
    ("mar", "march", "mars"),
    ("apr", "april", "avril", "avr"),
    ("may", "may", "mai"),
    ("jun", "june", "juin"),
    ("jul", "july", "juillet", "juil"),
    ("aug", "august", "août", "aout"),
    ("sep", "september", "sept", "septembre"),
    ("oct", "october", "octobre"),
    ("nov", "november", "novembre"),
    ("dec", "december", "décembre", "decembre", "déc"),
)
#: Lower-case month name -> month number (1-12), for reading dates written in text.
MONTH_NUMBERS: dict[str, int] = {n: i for i, names in enumerate(_MONTH_NAMES, 1) for n in names}
#: English month names, capitalised (January ... December), for writing dates.
ENGLISH_MONTHS: tuple[str, ...] = tuple(names[1].capitalize() for names in _MONTH_NAMES)
_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")


class DateForm(NamedTuple):
    """One written form of a date, and what it is made of (each user keeps what its
    matching can tell from other text: a two-digit year or an unpadded number is short)."""

    text: str
    full_year: bool  #: the year has four digits
    padded: bool  #: the day (and the month, when a number) has two digits
    named: bool  #: the month is written as a word


def parse_date(value: str) -> dt.date | None:
    """The date a ``YYYYMMDD`` string denotes, or None."""
    m = _DATE.fullmatch(value)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def date_forms(day: dt.date) -> list[DateForm]:
    """Every written form of ``day``: ISO (``YYYYMMDD``, ``YYYY-MM-DD``, ``/``, ``.``),
    day first and month first with ``/``, ``.``, ``-``, padded or not, with four- and two-digit
    years, and with the month's name (English and French) in day-month-year, month-day-year
    and year-month-day order. In order: the same text is listed once."""
    y, yy = f"{day.year:04d}", f"{day.year % 100:02d}"
    mm, dd, m, d = f"{day.month:02d}", f"{day.day:02d}", str(day.month), str(day.day)
    forms = [DateForm(f"{y}{sep}{mm}{sep}{dd}", True, True, False) for sep in ("", "-", "/", ".")]
    for a, b in ((dd, mm), (mm, dd), (d, m), (m, d)):
        padded = len(a) == len(b) == 2
        for sep in "/.-":
            forms.append(DateForm(f"{a}{sep}{b}{sep}{y}", True, padded, False))
            forms.append(DateForm(f"{a}{sep}{b}{sep}{yy}", False, padded, False))
    for name in dict.fromkeys(_MONTH_NAMES[day.month - 1]):
        for text, padded in ((f"{d} {name} {y}", d == dd), (f"{dd} {name} {y}", True),
                             (f"{name} {d} {y}", d == dd), (f"{name} {dd} {y}", True),
                             (f"{y} {name} {dd}", True)):
            forms.append(DateForm(text, True, padded, True))
    return list(dict.fromkeys(forms))  # a repeated text comes with the same flags


# --- IDs and names -----------------------------------------------------------------------

def id_forms(value: str) -> list[str]:
    """An ID as written, without its separators, and its digits alone (four or more).

    Text cleaning replaces all three. The index needs only the ID (its normalisation makes
    separators optional) and leaves the digits alone out: across a tree, four digits are
    anyone's. The pixel classifier drops separators itself (:func:`value_parts`)."""
    forms = [value]
    compact = re.sub(r"[^0-9A-Za-z]", "", value)
    if len(compact) >= 3:
        forms.append(compact)
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 4:
        forms.append(digits)
    return list(dict.fromkeys(forms))


_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)
#: Words with their digits too: a name stored as ``DOE2^JOHN`` is looked for as ``DOE2`` (the
#: index always did) as well as ``DOE`` (text cleaning always did).
_ALNUM_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)

#: Words too common to treat as a name part on their own.
STOP_WORDS = frozenset({
    "dr", "mr", "mrs", "ms", "md", "phd", "jr", "sr", "de", "la", "le", "du", "van", "von", "der",
    "den", "del", "da", "di", "el", "al", "bin", "ben", "st", "ii", "iii", "and", "the",
})


def name_forms(value: str) -> tuple[list[str], list[str]]:
    """A PersonName's whole spellings and its words.

    Whole: per component group (``=``), the components joined, given name before family
    name, as stored, and the family name with the first given name in either order (the
    ``Marie DUPONT`` of ``DUPONT^Marie^Claire``). Words: every word of the components, in
    order (:func:`is_name_word` says which stand for the person alone). Case and accents are
    the matchers' business.
    """
    whole: list[str] = []
    words: list[str] = []
    for group in value.split("="):
        parts = [p.strip() for p in group.split("^") if p.strip()]
        if not parts:
            continue
        whole.append(" ".join(parts))
        if len(parts) >= 2:
            whole.append(" ".join(parts[1:2] + parts[:1]))  # Given Family
            whole.append(group.strip("^"))
            given = _WORD.findall(parts[1])
            if given:
                whole += [f"{parts[0]} {given[0]}", f"{given[0]} {parts[0]}"]
        for part in parts:
            words.extend(_WORD.findall(part))
            words.extend(_ALNUM_WORD.findall(part))
    return list(dict.fromkeys(whole)), list(dict.fromkeys(words))


def is_name_word(word: str) -> bool:
    """Whether one word of a name stands for the person: two letters or more, not a
    particle or title (:data:`STOP_WORDS`)."""
    return len(word) >= 2 and fold(word) not in STOP_WORDS


def value_parts(value: str) -> list[str]:
    """A value of no known kind, and its parts split at ``^``, spaces, commas and ``=``."""
    parts = [p for p in re.split(r"[\^\s,=]+", value.strip()) if p]
    return [value, *parts] if len(parts) > 1 else [value]


# --- identifier-shaped text ----------------------------------------------------------------

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Phone numbers: digit groups with separators, at least 8 digits in all (see is_phone).
PHONE = re.compile(r"(?<![\w.,])(?:\+|00)?\(?\d{1,4}\)?(?:[\s./-]?\(?\d{1,4}\)?){2,7}(?![\w])")
# ID-like: 6+ digit runs, or tokens mixing letters and 4+ digits.
LONG_NUMBER = re.compile(r"(?<![\w.])\d{6,}(?![\w.])")
MIXED_ID = re.compile(r"(?<![\w])(?=[A-Za-z-]*\d)(?=(?:[^\W_]*\d){4})[A-Za-z0-9][A-Za-z0-9-]{4,}(?![\w])")


_NUMERIC_DATE = re.compile(r"(?:19|20)\d\d([-/.]?)\d\d\1\d\d|\d\d?([-/.])\d\d?\2(?:19|20)\d\d")


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
        if not _NUMERIC_DATE.fullmatch(value.strip()):
            yield kind, value
