"""Date shifting: DA and DT values, and dates written inside free text.

Shifts are whole days, so times of day (TM) stay as they are and every interval between
two events of a patient is kept exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

from pacsguard.discover.forms import ENGLISH_MONTHS, MONTH_NUMBERS

_DA = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def shift_da(value: str, days: int) -> str | None:
    """Shift a DA value (``YYYYMMDD``, or a ``A-B`` range); None when it is not a date."""
    value = value.strip()
    if "-" in value:
        parts = value.split("-")
        shifted = [shift_da(p, days) if p else "" for p in parts]
        if len(parts) != 2 or any(s is None for s in shifted):
            return None
        return "-".join(s or "" for s in shifted)
    m = _DA.match(value)
    if not m:
        return None
    try:
        d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return (d + timedelta(days=days)).strftime("%Y%m%d")


def shift_dt(value: str, days: int) -> str | None:
    """Shift a DT value (``YYYY[MM[DD[HH...]]][&ZZXX]``); the time part is kept."""
    value = value.strip()
    if len(value) < 8 or not value[:8].isdigit():
        return None if len(value) < 4 or not value[:4].isdigit() else _shift_partial(value, days)
    head = shift_da(value[:8], days)
    return None if head is None else head + value[8:]


def _shift_partial(value: str, days: int) -> str:
    # A DT with only a year (or year+month): shifting by days cannot be exact; move the
    # year by the whole-year part of the shift, conservatively rounded away from zero.
    years = (abs(days) + 364) // 365 * (1 if days >= 0 else -1)
    return f"{int(value[:4]) + years:04d}" + value[4:]


# --- dates inside text -----------------------------------------------------------------

_MONTH_NAMES = "|".join(sorted((re.escape(m) for m in MONTH_NUMBERS), key=len, reverse=True))

#: Numeric and month-name dates found in free text (named groups y, m, d, sep, mon).
TEXT_DATE = re.compile(
    r"(?<![\w.])(?:"
    r"(?P<iso_y>(?:19|20)\d{2})(?P<iso_s>[-/.]?)(?P<iso_m>0[1-9]|1[0-2])(?P=iso_s)"
    r"(?P<iso_d>0[1-9]|[12]\d|3[01])"
    r"|(?P<eu_d>[0-3]?\d)(?P<eu_s>[/.-])(?P<eu_m>[01]?\d)(?P=eu_s)(?P<eu_y>(?:19|20)\d{2})"
    rf"|(?P<nd_d>[0-3]?\d)(?:st|nd|rd|th|er)?\s+(?P<nd_mon>{_MONTH_NAMES})\.?,?\s+(?P<nd_y>(?:19|20)\d{{2}})"
    rf"|(?P<md_mon>{_MONTH_NAMES})\.?\s+(?P<md_d>[0-3]?\d)(?:st|nd|rd|th)?,?\s+(?P<md_y>(?:19|20)\d{{2}})"
    r")(?![\w])",
    re.IGNORECASE,
)


def parse_text_date(m: re.Match[str]) -> tuple[date, str] | None:
    """The date a :data:`TEXT_DATE` match denotes, and which form matched."""
    g = m.groupdict()
    try:
        if g["iso_y"]:
            return date(int(g["iso_y"]), int(g["iso_m"]), int(g["iso_d"])), "iso"
        if g["eu_y"]:
            d, mo = int(g["eu_d"]), int(g["eu_m"])
            if mo > 12 and d <= 12:  # only MM/DD/YYYY reads it
                return date(int(g["eu_y"]), d, mo), "us"
            return date(int(g["eu_y"]), mo, d), "eu"
        if g["nd_y"]:
            return date(int(g["nd_y"]), MONTH_NUMBERS[g["nd_mon"].lower()], int(g["nd_d"])), "named"
        if g["md_y"]:
            return date(int(g["md_y"]), MONTH_NUMBERS[g["md_mon"].lower()], int(g["md_d"])), "named"
    except (ValueError, KeyError):
        return None
    return None


def format_like(m: re.Match[str], d: date, form: str) -> str:
    """Write ``d`` in the form the original text used."""
    g = m.groupdict()
    if form == "iso":
        s = g["iso_s"] or ""
        return f"{d.year:04d}{s}{d.month:02d}{s}{d.day:02d}"
    if form in ("eu", "us"):
        s = g["eu_s"]
        a, b = (d.day, d.month) if form == "eu" else (d.month, d.day)
        return f"{a:02d}{s}{b:02d}{s}{d.year:04d}"
    return f"{d.day} {ENGLISH_MONTHS[d.month - 1]} {d.year}"


def shift_text_dates(
    text: str, days: int | None, token: str = "[DATE]", wrap: Callable[[str], str] | None = None
) -> str:
    """Shift every date written in ``text`` by ``days``; with None, replace it by ``token``.

    ``wrap`` post-processes each replacement (the text cleaner uses it to shield new dates
    from the phone and ID patterns that run afterwards).
    """

    def repl(m: re.Match[str]) -> str:
        parsed = parse_text_date(m)
        if parsed is None or days is None:
            out = token
        else:
            d, form = parsed
            out = format_like(m, d + timedelta(days=days), form)
        return wrap(out) if wrap else out

    return TEXT_DATE.sub(repl, text)
