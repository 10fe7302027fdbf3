"""Every plausible reading of a stored text value, whatever its Specific Character Set says.

A hostile or broken file can declare one character set and store another (UTF-8 or UTF-16
bytes under a single-byte set, ISO 2022 escapes, junk after a NUL). Whoever reads the file
later may decode it differently from us, so an identifier is looked for under each reading
a viewer might use: the declared set, Latin-1, UTF-8, UTF-16, and the plain ASCII left once
escape sequences and control bytes are stripped. A value that the declared set cannot decode
at all is *unreliable*: de-identification refuses to guess (``charset-undecodable``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from functools import lru_cache

from pydicom import charset, config

__all__ = ["Readings", "declared_encodings", "readings"]

# ISO 2022 escape sequences (ESC, intermediates, final byte), then any other control byte.
_ESCAPE = re.compile(rb"\x1b[\x20-\x2f]*[\x30-\x7e]?")
_CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f-\xff]+")
# PN component and group delimiters, and the multi-value delimiter: never decoded as text.
_DELIMITERS = {0x5C, 0x3D, 0x5E}


@lru_cache(maxsize=256)
def declared_encodings(terms: tuple[str, ...]) -> tuple[str, ...] | None:
    """Python codecs for the Specific Character Set ``terms``; None when a term is unknown."""
    if not terms or not any(t.strip() for t in terms):
        return ("iso8859",)  # ISO-IR 6 (default repertoire): ASCII, read as Latin-1
    try:
        with config.strict_reading():
            return tuple(charset.convert_encodings([t.strip() for t in terms]))
    except (LookupError, ValueError):
        return None


class Readings:
    """The distinct readings of one value, and whether the declared set could read it."""

    __slots__ = ("reliable", "texts")

    def __init__(self, texts: list[str], reliable: bool) -> None:
        self.texts = texts
        self.reliable = reliable


def readings(raw: bytes, terms: Sequence[str]) -> Readings:
    """Every plausible text ``raw`` holds (padding stripped), the declared reading first."""
    stored, raw = raw, raw.rstrip(b" \x00")
    if not raw:
        return Readings([], True)
    if raw.isascii() and b"\x1b" not in raw and b"\x00" not in raw:
        return Readings([raw.decode("ascii")], True)  # the common case: one reading
    texts: list[str] = []
    encodings = declared_encodings(tuple(terms))
    reliable = encodings is not None
    if encodings is not None:
        try:
            with config.strict_reading():
                texts.append(charset.decode_bytes(raw, list(encodings), _DELIMITERS))
        except (UnicodeError, LookupError, ValueError):
            reliable = False
    texts.append(raw.decode("latin-1"))
    with contextlib.suppress(UnicodeDecodeError):
        texts.append(raw.decode("utf-8"))
    if len(raw) >= 4 and raw.count(0) * 3 >= len(raw):  # NUL-interleaved: UTF-16 text
        for codec in ("utf-16-le", "utf-16-be"):
            texts.append(stored[: len(stored) // 2 * 2].decode(codec, "replace"))
    bare = _ESCAPE.sub(b"", raw)
    texts.append(_CONTROL.sub(b" ", bare).decode("ascii"))
    if b"\x00" in bare:  # UTF-16 text read byte by byte: drop the NULs rather than split
        texts.append(_CONTROL.sub(b" ", bare.replace(b"\x00", b"")).decode("ascii"))
    seen: dict[str, None] = {}
    for text in texts:
        cleaned = text.replace("\x00", " ").strip()
        if cleaned:
            seen.setdefault(cleaned)
    return Readings(list(seen), reliable)
