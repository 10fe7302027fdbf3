"""The index of identifying values found in the originals.

Indexed: the value of every attribute the PS3.15 Basic Profile removes, blanks or replaces
(at any depth, everything inside a removed sequence included), private values the
knowledge base does not call safe, every PersonName with each of its parts, IDs, dates
(in the usual written forms) and UIDs (registry UIDs excepted). Short tokens and a
stop-list of common words are left out so that ordinary words raise no false alarm.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from pydicom.dataset import Dataset
from pydicom.valuerep import PersonName

from pacsguard.discover.categories import TEXT_VRS, categorize, is_well_known_uid
from pacsguard.discover.elements import Element, raw_text_values, text_encoding, text_values, walk
from pacsguard.discover.matcher import Matcher, key_of, token_of, variants
from pacsguard.profile import disposition

__all__ = ["DEFAULT_MIN_LENGTH", "DEFAULT_STOPLIST", "IdentInfo", "IdentifierIndex", "date_forms",
           "parse_da", "printable_runs"]

DEFAULT_MIN_LENGTH = 4
#: Longest identifier kept whole (normalised bytes); longer text is indexed by its parts.
_MAX_TOKEN = 96

_STOPWORDS = """
    anonymous anonymized anonymised anonymize removed redacted deidentified deid unknown none
    null empty patient patients test phantom doctor physician hospital clinic clinique radiology
    department imaging center centre medical medicine university institute general male female
    other head chest body brain abdomen pelvis spine knee neck left right both series study image
    images localizer scout axial sagittal coronal original primary secondary derived contrast
    routine protocol name family given dicom report result results normal with without
    19000101 00000000 00010101 19700101 18000101 99999999 11111111 12345678 000000 0000 1111 9999
"""
DEFAULT_STOPLIST = frozenset(_STOPWORDS.split())

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS_LONG = ("january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december")
_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})")
_VALUE_VRS = frozenset({"AE", "LO", "SH", "PN", "UC", "UR", "LT", "ST", "UT", "UN", "OB", "CS"})


@dataclass(frozen=True)
class IdentInfo:
    """What an indexed identifier is (the value is only ever shown with ``--show-values``)."""

    category: str
    value: str
    source: str  #: keyword or tag pattern of the first attribute it came from


def date_forms(day: dt.date) -> list[str]:
    """The written forms of ``day`` that count as the same date."""
    y, m, d = day.year, day.month, day.day
    forms = [
        f"{y:04d}{m:02d}{d:02d}",
        f"{y:04d}-{m:02d}-{d:02d}",  # YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD
        f"{d:02d}/{m:02d}/{y:04d}",  # DD/MM/YYYY, DD.MM.YYYY, DD-MM-YYYY normalise alike
        f"{m:02d}/{d:02d}/{y:04d}",  # MM/DD/YYYY
        f"{d}/{m}/{y:04d}",
        f"{m}/{d}/{y:04d}",
        f"{d} {_MONTHS[m - 1]} {y}",
        f"{d} {_MONTHS_LONG[m - 1]} {y}",
        f"{_MONTHS[m - 1]} {d} {y}",
        f"{_MONTHS_LONG[m - 1]} {d} {y}",
    ]
    return list(dict.fromkeys(forms))


def parse_da(text: str) -> dt.date | None:
    """The date at the start of a DA or DT value, or None."""
    m = _DATE_RE.match(text.strip())
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


@dataclass
class IdentifierIndex:
    """Identifying values of a set of originals, ready to be searched for.

    Parameters
    ----------
    min_length
        Identifiers with fewer alphanumeric characters are not indexed.
    stoplist
        Normalised words (no spaces) never indexed on their own.
    """

    min_length: int = DEFAULT_MIN_LENGTH
    stoplist: frozenset[str] = DEFAULT_STOPLIST
    info: dict[bytes, IdentInfo] = field(default_factory=dict)
    _tokens: set[bytes] = field(default_factory=set)
    _matcher: Matcher | None = None
    #: (how, category, value) already indexed: a series repeats the same values in every file
    _seen: set[tuple[str, str, str]] = field(default_factory=set)

    def _first(self, how: str, category: str, value: str) -> bool:
        key = (how, category, value)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def __len__(self) -> int:
        return len(self.info)

    @property
    def tokens(self) -> set[bytes]:
        """The normalised identifiers the matcher is built from."""
        return self._tokens

    def merge(self, tokens: set[bytes], info: dict[bytes, IdentInfo]) -> None:
        """Add what another index (a worker's) holds; the first description of a key wins."""
        self._tokens |= tokens
        for key, value in info.items():
            self.info.setdefault(key, value)
        self._matcher = None

    # -- building -----------------------------------------------------------------------

    def add(self, value: str, category: str, source: str) -> None:
        """Index ``value`` (every normalised variant of it) unless too short or a stop word."""
        if not self._first("value", category, value):
            return
        for tok in variants(value):
            if len(tok) > _MAX_TOKEN:
                continue
            key = key_of(tok)
            if len(key) < self.min_length or key.decode("latin-1") in self.stoplist:
                continue
            if len(set(key)) == 1:  # 0000, xxxx: placeholders, not identifiers
                continue
            if category not in ("id", "date", "uid") and key.isdigit() and len(key) < 6:
                continue  # short numbers in text are counts and sizes, not identifiers
            self._tokens.add(tok)
            self.info.setdefault(key, IdentInfo(category, value, source))
            self._matcher = None

    def add_text(self, value: str, category: str, source: str) -> None:
        """Index a free-text value by its identifier-like parts, plus whole when short."""
        if not self._first("text", category, value):
            return
        tok = token_of(variants(value).pop()) if value.strip() else b""
        if tok and len(tok) <= 48 and category != "free-text":
            self.add(value, category, source)
        for word in re.split(r"[\s,;:()\[\]\"']+", value):
            if any(c.isdigit() for c in word) and any(c.isalpha() for c in word):
                self.add(word, "id", source)

    def add_name(self, value: str, category: str, source: str) -> None:
        """Index a PersonName whole and by each component group and component."""
        if not self._first("name", category, value):
            return
        self.add(value, category, source)
        pn = PersonName(value)
        for group in (pn.alphabetic, pn.ideographic, pn.phonetic):
            if not group:
                continue
            self.add(group, category, source)
            for comp in group.split("^"):
                if comp.strip():
                    self.add(comp, category, source)
                    for word in comp.split():
                        self.add(word, category, source)

    def add_date(self, value: str, source: str) -> None:
        if not self._first("date", "date", value):
            return
        for part in value.split("-"):
            day = parse_da(part)
            if day is None:
                continue
            canonical = f"{day.year:04d}{day.month:02d}{day.day:02d}"
            for form in date_forms(day):
                for tok in variants(form):
                    key = key_of(tok)
                    if canonical in self.stoplist:
                        continue
                    self._tokens.add(tok)
                    self.info.setdefault(key, IdentInfo("date", canonical, source))
            self._matcher = None

    def add_uid(self, uid: str, source: str) -> None:
        uid = uid.strip().rstrip("\x00")
        if not uid or is_well_known_uid(uid):
            return
        tok = token_of(variants(uid).pop())
        self._tokens.add(tok)
        self.info.setdefault(key_of(tok), IdentInfo("uid", uid, source))
        self._matcher = None

    def add_element(self, el: Element, encoding: str | None = None) -> None:
        """Index one element of an original, if it holds identifying data.

        ``encoding`` (``latin-1`` or ``utf-8``) says the dataset's text is stored in an
        ASCII-compatible character set, so text values are read from their bytes directly.
        """
        vr = el.vr
        if vr == "SQ":
            return
        category = categorize(el.tag, vr, el.under_removed)
        if category is None:
            return  # decided from the tag alone: the value is never decoded
        source = el.pattern
        if el.creator is not None:
            disp = disposition(el.tag >> 16, el.creator, el.tag & 0xFF) if el.creator else None
            if disp == "k":
                return  # the knowledge base calls it safe to keep
            if disp == "o":
                category = "date"
        if encoding and el.raw is not None and vr in TEXT_VRS:
            values = raw_text_values(el.raw, encoding)
        else:
            values = text_values(el.elem) if el.elem is not None else []
        if not values and el.raw and vr in ("UN", "OB") and el.creator is not None:
            values = printable_runs(el.raw)
        if category == "date":
            if vr in ("DA", "DT") or el.creator is not None:
                for v in values:
                    self.add_date(v, source)
            return
        if category == "uid":
            for v in values:
                self.add_uid(v, source)
            return
        if vr not in _VALUE_VRS:
            return
        if vr == "CS" and el.creator is None:
            return  # coded values of public attributes: terms, not identifiers
        for v in values:
            if vr == "PN":
                self.add_name(v, category, source)
            elif category == "free-text" or len(v) > 64:
                self.add_text(v, category, source)
            else:
                self.add(v, category, source)

    def add_dataset(self, ds: Dataset) -> None:
        """Index every element of ``ds`` at any depth, and its file meta when present."""
        meta = getattr(ds, "file_meta", None)
        if meta is not None:
            for el in walk(meta):
                self.add_element(el, "latin-1")
        encoding = text_encoding(ds)
        for el in walk(ds):
            self.add_element(el, encoding)

    # -- searching ----------------------------------------------------------------------

    @property
    def matcher(self) -> Matcher:
        if self._matcher is None:
            self._matcher = Matcher(self._tokens)
        return self._matcher


def printable_runs(raw: bytes) -> list[str]:
    """Text runs in raw bytes (UN elements whose VR was lost): NUL/backslash-separated."""
    text = raw.decode("latin-1")
    parts = re.split(r"[\x00\\]+", text)
    return [p.strip() for p in parts if p.strip() and p.strip().isprintable()]
