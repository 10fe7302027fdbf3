"""The index of identifying values found in the originals.

Indexed: the value of every attribute the PS3.15 Basic Profile removes, blanks or replaces
(at any depth, everything inside a removed sequence included), private values the
knowledge base does not call safe, every PersonName with each of its parts, IDs, dates
(in the written forms of :func:`pacsguard.discover.forms.date_forms` that have a four-digit
year) and UIDs (registry UIDs excepted). Short tokens and a
stop-list of common words are left out so that ordinary words raise no false alarm.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from pydicom.dataset import Dataset
from pydicom.valuerep import PersonName

from pacsguard.dicom.tags import (
    MANUFACTURER,
    MANUFACTURER_MODEL_NAME,
    SPECIFIC_CHARACTER_SET,
)
from pacsguard.discover.categories import TEXT_VRS, categorize, is_well_known_uid, keyword
from pacsguard.discover.charsets import readings
from pacsguard.discover.elements import Element, fmt_tag, text_values, walk
from pacsguard.discover.forms import date_forms, identifier_forms, name_forms, parse_date
from pacsguard.discover.judge import Source
from pacsguard.discover.matcher import Matcher, key_of, norm_text, token_of, variants
from pacsguard.discover.vocabulary import is_vocabulary
from pacsguard.profile import disposition

__all__ = ["DEFAULT_MIN_LENGTH", "DEFAULT_STOPLIST", "ElementMemo", "IdentInfo", "IdentifierIndex",
           "charset_terms",
           "element_texts", "parse_da", "printable_runs", "source_label"]

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

_VALUE_VRS = frozenset({"AE", "LO", "SH", "PN", "UC", "UR", "LT", "ST", "UT", "UN", "OB", "CS"})
#: Manufacturer, Manufacturer's Model Name: kept by every profile, so never identifiers.
_DEVICE_TAGS = frozenset({MANUFACTURER, MANUFACTURER_MODEL_NAME})
#: Categories whose single words are identifiers even when they are words of the standard.
_STRONG_WORDS = frozenset({"id", "date", "uid", "contact"})
_UID_FORM = re.compile(r"[0-9]+(?:\.[0-9]+){2,}")


@dataclass
class IdentInfo:
    """What an indexed identifier is (the value is only ever shown with ``--show-values``).

    ``sources`` says where it came from; :func:`pacsguard.discover.judge.identifies` decides
    per output, under the options that output declares, whether any of them makes it an
    identifier. A *weak* identifier (one word of a longer person name) identifies only in the
    files of the patients it came from (``patients``): "soft" of Dr. Soft Haze is a leak in her
    patient's report, not in another patient's "US CHEST WALL/SOFT TISSUE".
    """

    category: str
    value: str
    source: str  #: keyword or tag pattern of the first attribute it came from
    sources: set[Source] = field(default_factory=set)
    weak: bool = False
    patients: set[str] = field(default_factory=set)

    def absorb(self, other: IdentInfo) -> None:
        self.sources |= other.sources
        self.weak = self.weak and other.weak
        self.patients = set() if not self.weak else self.patients | other.patients


@lru_cache(maxsize=256)
def _date_tokens(day: dt.date) -> tuple[bytes, ...]:
    """The normalised forms of ``day`` that are indexed, remembered: every file of a study
    repeats its dates. Two-digit years are left out: "5/1/24" normalises to 5 1 24, numbers
    any text may hold."""
    return tuple(dict.fromkeys(tok for form in date_forms(day) if form.full_year
                               for tok in variants(form.text)))


def parse_da(text: str) -> dt.date | None:
    """The date at the start of a DA or DT value, or None."""
    return parse_date(text.strip()[:8])


_Put = tuple[bytes, bytes, str, str, Source, str, bool]
_Effect = tuple[tuple[_Put, ...], frozenset[bytes]]
_MEMO_BYTES = 4096  #: longer values are rarely repeated: not remembered


class ElementMemo:
    """What indexing an element added, by its tag and stored bytes: a bounded map (the
    oldest half is dropped when full). Only for one index configuration and patient label;
    the leak guard keeps one per process."""

    def __init__(self, size: int = 8192) -> None:
        self.size = size
        self._map: dict[tuple[object, ...], _Effect] = {}

    def get(self, key: tuple[object, ...]) -> _Effect | None:
        return self._map.get(key)

    def put(self, key: tuple[object, ...], effect: _Effect) -> None:
        if len(self._map) >= self.size:
            for old in list(self._map)[: self.size // 2]:
                del self._map[old]
        self._map[key] = effect


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
    #: words of the originals' manufacturer and model names: the profile keeps them, so a
    #: value made only of them ("TOSHIBA" of "TOSHIBA_MEC") is no identifier
    device: set[bytes] = field(default_factory=set)
    _tokens: set[bytes] = field(default_factory=set)
    _matcher: Matcher | None = None
    #: what was already indexed: a series repeats the same values in every file
    _seen: set[tuple[str, str, Source, str]] = field(default_factory=set)
    #: every _put, in order, while an element's effect is recorded for an ElementMemo
    _record: list[_Put] | None = None

    def _first(self, how: str, value: str, src: Source, patient: str) -> bool:
        key = (how, value, src, patient)
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

    def shed(self) -> IdentifierIndex:
        """Drop the bookkeeping of what was seen (before the index is sent to another
        process) and return the index."""
        self._seen = set()
        return self

    def lookup(self, key: bytes) -> IdentInfo | None:
        """What the identifier ``key`` is, or None (unknown, or a device name)."""
        return None if key in self.matcher.excluded else self.info.get(key)

    def merge(self, other: IdentifierIndex) -> None:
        """Add what another index (a worker's) holds."""
        self._tokens |= other._tokens
        self.device |= other.device
        for key, value in other.info.items():
            mine = self.info.get(key)
            if mine is None:
                self.info[key] = value
            else:
                mine.absorb(value)
        self._matcher = None

    # -- building -----------------------------------------------------------------------

    def _put(self, tok: bytes, key: bytes, category: str, value: str, src: Source,
             patient: str, weak: bool) -> None:
        if self._record is not None:
            self._record.append((tok, key, category, value, src, patient, weak))
        info = self.info.get(key)
        if info is None:
            self.info[key] = IdentInfo(category, value, source_label(src), {src}, weak,
                                       {patient} if weak else set())
        else:
            info.sources.add(src)
            if not weak:
                info.weak, info.patients = False, set()
            elif info.weak:
                info.patients.add(patient)
        if tok not in self._tokens:
            self._tokens.add(tok)
            self._matcher = None

    def add(self, value: str, category: str, src: Source, patient: str = "",
            *, weak: bool = False) -> None:
        """Index ``value`` (every normalised variant of it) unless it cannot identify anyone:
        too short, a stop word, a placeholder, a number too short for an ID, a UID of the
        DICOM registry, or (as a single word) DICOM vocabulary."""
        if not self._first("value", value, src, patient):
            return
        stripped = value.strip()
        if _UID_FORM.fullmatch(stripped) and is_well_known_uid(stripped):
            return  # a SOP Class UID in a private tag is vocabulary, not an identifier
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
            if (not weak and b" " not in tok and category not in _STRONG_WORDS
                    and is_vocabulary(key)):
                continue  # "DEFAULT", "Observer": words of the standard, not of a person
            self._put(tok, key, category, value, src, patient, weak)

    def add_forms(self, value: str, src: Source, patient: str = "") -> None:
        """Index what has an identifier's form inside ``value`` (IDs, e-mails, phones), by
        the patterns text cleaning replaces."""
        part = src._replace(part=True)
        for kind, found in identifier_forms(value):
            self.add(found, "contact" if kind in ("email", "phone") else "id", part, patient)

    def add_text(self, value: str, category: str, src: Source, patient: str = "") -> None:
        """Index a free-text value by its identifier-like parts, plus whole when short."""
        if not self._first("text", value, src, patient):
            return
        forms = variants(value) if value.strip() else set()
        tok = token_of(next(iter(forms))) if forms else b""
        if tok and len(tok) <= 48 and category != "free-text":
            self.add(value, category, src, patient)
        self.add_forms(value, src, patient)

    def add_name(self, value: str, category: str, src: Source, patient: str = "") -> None:
        """Index a PersonName whole and by the whole spellings of each component group
        (:func:`pacsguard.discover.forms.name_forms`: strong), and by each word of a group of
        several words (weak: see :class:`IdentInfo`)."""
        if not self._first("name", value, src, patient):
            return
        self.add(value, category, src, patient)
        pn = PersonName(value)
        for group in (pn.alphabetic, pn.ideographic, pn.phonetic):
            if not group:
                continue
            self.add(group, category, src, patient)
            whole, words = name_forms(group)
            for spelling in whole:
                self.add(spelling, category, src, patient)
            if len(words) > 1:  # each word alone is weak
                for word in words:
                    self.add(word, category, src, patient, weak=True)

    def add_date(self, value: str, src: Source, patient: str = "") -> None:
        if not self._first("date", value, src, patient):
            return
        for part in value.split("-"):
            day = parse_da(part)
            if day is None:
                continue
            canonical = f"{day.year:04d}{day.month:02d}{day.day:02d}"
            if canonical in self.stoplist:
                continue
            for tok in _date_tokens(day):
                self._put(tok, key_of(tok), "date", canonical, src, patient, False)

    def add_uid(self, uid: str, src: Source, patient: str = "") -> None:
        uid = uid.strip().rstrip("\x00")
        if not _UID_FORM.fullmatch(uid) or is_well_known_uid(uid):
            return  # "0", "1.2": not a UID that could single anything out
        tok = token_of(norm_text(uid))
        self._put(tok, key_of(tok), "uid", uid, src, patient, False)

    def add_element(self, el: Element, terms: Sequence[str] = (), patient: str = "",
                    memo: ElementMemo | None = None) -> None:
        """Index one element of an original, if it holds identifying data.

        ``terms`` is the dataset's Specific Character Set: text is read from the stored
        bytes under every plausible decoding (:mod:`pacsguard.discover.charsets`).
        ``memo``: what elements of the same tag and stored bytes added before (the files of
        a series repeat most of their values); replayed rather than worked out again.
        """
        if memo is not None and el.raw is not None and len(el.raw) <= _MEMO_BYTES:
            key = (el.tag, el.vr, el.creator, el.under_removed, el.raw, tuple(terms), patient)
            effect = memo.get(key)
            if effect is None:
                scratch = IdentifierIndex(self.min_length, self.stoplist)
                scratch._record = []
                scratch.add_element(el, terms, patient)
                effect = (tuple(scratch._record), frozenset(scratch.device))
                memo.put(key, effect)
            for args in effect[0]:
                self._put(*args)
            self.device |= effect[1]
            return
        vr = el.vr
        if vr == "SQ":
            return
        if el.tag in _DEVICE_TAGS and el.creator is None:
            self.device.update(w for v in element_texts(el, terms) for t in variants(v)
                               for w in t.split())
            return
        category = categorize(el.tag, vr, el.under_removed)
        if category is None:
            return  # decided from the tag alone: the value is never decoded
        src = Source(el.tag, el.creator or "", category, vr, False)
        disp = None
        if el.creator is not None:
            disp = disposition(el.tag >> 16, el.creator, el.tag & 0xFF) if el.creator else None
            if disp == "k":
                return  # the knowledge base calls it safe to keep
            if disp == "o":
                category = "date"
        if category not in ("date", "uid") and (
                vr not in _VALUE_VRS or (vr == "CS" and el.creator is None)):
            return  # numbers, binary data, codes of public attributes: never decoded
        values = element_texts(el, terms)
        if not values and el.raw and vr in ("UN", "OB") and el.creator is not None:
            values = printable_runs(el.raw)
        if category == "date":
            if vr in ("DA", "DT") or el.creator is not None:
                for v in values:
                    self.add_date(v, src, patient)
            return  # a time of day alone (TM) singles nobody out
        if category == "uid":
            for v in values:
                self.add_uid(v, src, patient)
            return
        if vr not in _VALUE_VRS:
            return
        if vr == "CS" and el.creator is None:
            return  # coded values of public attributes: terms, not identifiers
        if el.creator is not None and disp is None and vr != "PN":
            for v in values:  # a private tag nobody knows: only what has an identifier's form
                self.add_forms(v, src, patient)
            return
        for v in values:
            if vr == "PN":
                self.add_name(v, category, src, patient)
            elif category == "free-text" or len(v) > 64:
                self.add_text(v, category, src, patient)
            else:
                self.add(v, category, src, patient)

    def add_dataset(self, ds: Dataset, patient: str = "",
                    elements: Iterable[Element] | None = None,
                    memo: ElementMemo | None = None) -> None:
        """Index every element of ``ds`` at any depth, and its file meta when present."""
        meta = getattr(ds, "file_meta", None)
        if meta is not None:
            for el in walk(meta):
                self.add_element(el, (), patient, memo)
        terms = charset_terms(ds)
        for el in elements if elements is not None else walk(ds):
            self.add_element(el, terms, patient, memo)

    # -- searching ----------------------------------------------------------------------

    def _device_only(self, tok: bytes) -> bool:
        """A value made only of words of the originals' manufacturer and model names, and no
        person's name ("TOSHIBA" as an institution, where the Manufacturer is TOSHIBA_MEC)."""
        if not self.device or not all(w in self.device for w in tok.split()):
            return False
        info = self.info.get(key_of(tok))
        return info is not None and info.category != "name"

    @property
    def matcher(self) -> Matcher:
        if self._matcher is None:
            device = {t for t in self._tokens if self._device_only(t)}
            self._matcher = Matcher(self._tokens - device)
            self._matcher.excluded = frozenset(key_of(t) for t in device)
        return self._matcher


def source_label(src: Source) -> str:
    """``PatientName (0010,0010)``, or the private creator and tag."""
    tag = fmt_tag(src.tag)
    if src.creator:
        return f'{tag} of "{src.creator}"'
    kw = keyword(src.tag)
    return f"{kw} {tag}" if kw else tag


def charset_terms(ds: Dataset) -> tuple[str, ...]:
    """The Specific Character Set terms of ``ds`` as stored (never decoded by pydicom)."""
    item = ds.get_item(SPECIFIC_CHARACTER_SET)
    if item is None or item.value is None:
        return ()
    raw = item.value
    if isinstance(raw, bytes):
        return tuple(t.strip() for t in raw.decode("latin-1").split("\\"))
    if isinstance(raw, str):
        return tuple(t.strip() for t in raw.split("\\"))
    return tuple(str(t).strip() for t in raw)


def element_texts(el: Element, terms: Sequence[str]) -> list[str]:
    """Every value of a text element under every plausible reading of its bytes."""
    if el.raw is not None and el.vr in TEXT_VRS:
        out: list[str] = []
        for text in readings(el.raw, terms).texts:
            out.extend(v for v in (p.strip(" \x00") for p in text.split("\\")) if v)
        return list(dict.fromkeys(out))
    return text_values(el.elem) if el.elem is not None else []


def printable_runs(raw: bytes) -> list[str]:
    """Text runs in raw bytes (UN elements whose VR was lost): NUL/backslash-separated."""
    text = raw.decode("latin-1")
    parts = re.split(r"[\x00\\]+", text)
    return [p.strip() for p in parts if p.strip() and p.strip().isprintable()]
