"""Normalised matching of many identifiers at once.

Text and raw bytes are normalised the same way: ASCII letters lowered, every other ASCII
character (``^``, spaces, ``-``, ``.``, ``/``, NUL, ...) turned into a space, bytes >= 0x80 kept.
Identifiers are stored as their normalised words; between words any run of spaces (or none)
matches, so ``ZEBRA^QUENTIN``, ``Zebra Quentin`` and ``zebraquentin`` are one identifier.
All identifiers are compiled into one regular expression shaped as a trie (shared prefixes
are tested once), bounded by non-alphanumerics so ``anna`` does not match inside ``hannah``.

Text cleaning replaces identifiers in place, so it cannot search normalised bytes: it
compiles the same forms (:mod:`pacsguard.discover.forms`) into a literal alternation with
their accent-free spellings (:func:`alternation`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache

__all__ = ["Matcher", "alternation", "fold", "key_of", "norm_bytes", "norm_text", "token_of",
           "variants"]

_TABLE = bytes(
    (c + 32 if 65 <= c <= 90 else c)
    if (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 or c >= 128)
    else 32
    for c in range(256)
)
_ALNUM = rb"a-z0-9\x80-\xff"


# A DT value glues date and time (20211102083512): cut after the date so the date matches.
_DATETIME = re.compile(
    rb"(?<![0-9])((?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]))(?=[0-9]{2})"
)


def norm_bytes(data: bytes) -> bytes:
    """Normalise raw bytes (see the module docstring)."""
    return _DATETIME.sub(rb"\1 ", data.translate(_TABLE))


def norm_text(text: str) -> bytes:
    """Normalise decoded text: accents stripped, case folded, then :func:`norm_bytes`."""
    if not text.isascii():
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        ).casefold()
    return _DATETIME.sub(rb"\1 ", text.encode("utf-8", "ignore").translate(_TABLE))


def fold(text: str) -> str:
    """Accent-free lower case, for matching text in place (the cleaner's patterns)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def alternation(forms: Iterable[str]) -> str:
    """A regex alternation of literal ``forms`` and their :func:`fold` spellings, longest
    first: text cleaning substitutes with it, in the text as written (offsets kept)."""
    alts: set[str] = set()
    for w in forms:
        alts.add(re.escape(w))
        alts.add(re.escape(fold(w)))
    return "|".join(sorted(alts, key=len, reverse=True))


def token_of(normalised: bytes) -> bytes:
    """The stored form of an identifier: its words joined by one space."""
    return b" ".join(normalised.split())


def key_of(normalised: bytes) -> bytes:
    """The identity of a match: its characters without any space."""
    return b"".join(normalised.split())


def variants(text: str) -> set[bytes]:
    """Every normalised form ``text`` may take on disk (accent-stripped, UTF-8, Latin-1)."""
    forms = {token_of(norm_text(text))}
    if not text.isascii():
        for cased in (text, text.casefold(), text.upper()):
            for enc in ("utf-8", "latin-1", "utf-16-le"):
                try:
                    forms.add(token_of(norm_bytes(cased.encode(enc))))
                except UnicodeEncodeError:
                    continue
    forms.discard(b"")
    return forms


_MEMO_BYTES = 4096  #: longer values are searched every time (rarely repeated)
_MEMO_SIZE = 8192


class _Trie:
    """A compiled trie regex and what it found in values already searched: the files of a
    series repeat most of their values, and a patient's files share one trie."""

    __slots__ = ("hits", "pattern")

    def __init__(self, pattern: re.Pattern[bytes]) -> None:
        self.pattern = pattern
        self.hits: dict[bytes, tuple[tuple[int, bytes], ...]] = {}

    def find(self, normalised: bytes) -> tuple[tuple[int, bytes], ...]:
        found = self.hits.get(normalised)
        if found is None:
            found = tuple((m.start(), key_of(m.group())) for m in self.pattern.finditer(normalised))
            if len(normalised) <= _MEMO_BYTES:
                if len(self.hits) >= _MEMO_SIZE:
                    self.hits.clear()
                self.hits[normalised] = found
        return found


@lru_cache(maxsize=64)
def _compile(words: frozenset[bytes]) -> _Trie:
    """The trie regex for ``words``, remembered: a series' files share their words."""
    return _Trie(re.compile(
        rb"(?<![" + _ALNUM + rb"])(?:" + _trie_regex(sorted(words)) + rb")(?![" + _ALNUM + rb"])"))


_NORMALISED: dict[bytes, bytes] = {}


def _norm_memo(data: bytes) -> bytes:
    """:func:`norm_bytes` of a short value, remembered (values repeat across a series)."""
    if len(data) > _MEMO_BYTES:
        return norm_bytes(data)
    found = _NORMALISED.get(data)
    if found is None:
        if len(_NORMALISED) >= _MEMO_SIZE:
            _NORMALISED.clear()
        found = _NORMALISED[data] = norm_bytes(data)
    return found


class _Node(dict[int, "_Node"]):
    end: bool = False


def _trie_regex(tokens: Iterable[bytes]) -> bytes:
    root = _Node()
    for tok in tokens:
        node = root
        for c in tok:
            node = node.setdefault(c, _Node())
        node.end = True
    return _emit(root)


def _emit(node: _Node) -> bytes:
    # Iterative-safe depth: tokens are capped in length by the index builder.
    alts = []
    for c in sorted(node):
        head = b" *" if c == 32 else re.escape(bytes([c]))
        alts.append(head + _emit(node[c]))
    if not alts:
        return b""
    body = alts[0] if len(alts) == 1 else b"(?:" + b"|".join(alts) + b")"
    if node.end:
        return b"(?:" + body + b")?"
    return body


_NUMBER_RUN = re.compile(rb"(?<![" + _ALNUM + rb"])[0-9]+(?: [0-9]+)+(?![" + _ALNUM + rb"])")
_UID_TOKEN = re.compile(rb"[0-9]+(?: [0-9]+){2,}")
_MAX_UID_GROUPS = 40  # a UID has at most 64 characters: 32 components


class Matcher:
    """Find stored identifiers in normalised bytes; each hit is reported by its key.

    UIDs (all-digit tokens of three components or more) are not put in the trie: they are
    found by looking up every run of digit groups in a set. Each file has UIDs of its own,
    so this keeps the compiled trie the same for all the files of a patient (the leak guard
    compiles it once per patient, not once per file).
    """

    def __init__(self, tokens: Iterable[bytes]) -> None:
        #: keys of identifiers left out on purpose (set by the index that builds the matcher)
        self.excluded: frozenset[bytes] = frozenset()
        toks = sorted({t for t in tokens if t})
        self.size = len(toks)
        self._uids = frozenset(t for t in toks if _UID_TOKEN.fullmatch(t))
        #: the first digit group of every UID: a run of numbers starting otherwise is skipped
        self._heads = frozenset(t.split(b" ", 1)[0] for t in self._uids)
        words = frozenset(t for t in toks if t not in self._uids)
        self._trie = _compile(words) if words else None

    def finditer(self, normalised: bytes) -> Iterator[tuple[int, bytes]]:
        """Yield ``(offset, key)`` for every identifier found in already normalised bytes."""
        if self._trie is not None:
            yield from self._trie.find(normalised)
        if self._uids:
            yield from self._uid_hits(normalised)

    def _uid_hits(self, normalised: bytes) -> Iterator[tuple[int, bytes]]:
        # Values run together once normalised (UID\\UID, "UID 3"): try every stretch of
        # whole groups, longest first, so a UID is found inside a longer run of numbers.
        for m in _NUMBER_RUN.finditer(normalised):
            groups = m.group().split(b" ")
            offsets = [m.start()]
            for g in groups[:-1]:
                offsets.append(offsets[-1] + len(g) + 1)
            i = 0
            while i < len(groups) - 2:
                if groups[i] not in self._heads:
                    i += 1
                    continue
                for j in range(min(len(groups), i + _MAX_UID_GROUPS), i + 2, -1):
                    candidate = b" ".join(groups[i:j])
                    if candidate in self._uids:
                        yield offsets[i], key_of(candidate)
                        i = j - 1
                        break
                i += 1

    def keys_in_text(self, text: str) -> list[bytes]:
        return [k for _, k in self.finditer(norm_text(text))]

    def keys_in_bytes(self, data: bytes) -> list[bytes]:
        return [k for _, k in self.finditer(_norm_memo(data))]
