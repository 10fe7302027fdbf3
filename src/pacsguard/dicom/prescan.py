"""Validate a DICOM file's structure on its raw bytes, before pydicom parses it.

pydicom trusts lengths, counts and geometry: a lie costs memory, time, a RecursionError or an
exception deep in the writer. :func:`prescan` walks the element structure the way pydicom will
(same implicit/explicit guesses), without building values, and raises a
:class:`~pacsguard.errors.FileRejected` with a precise reason code for the first defect or
exceeded :class:`~pacsguard.limits.Limits`. The reader (:mod:`pacsguard.dicom.reader`) calls it
for ``deid``, ``scan`` and ``verify`` alike. Reasons name tags, never values.
"""

from __future__ import annotations

import mmap
import re
import struct
import zlib
from dataclasses import dataclass, field

from pydicom.datadict import dictionary_VR
from pydicom.uid import UID

from pacsguard.dicom.tags import (
    BITS_ALLOCATED,
    BITS_STORED,
    COLUMNS,
    DOUBLE_FLOAT_PIXEL_DATA,
    FLOAT_PIXEL_DATA,
    HIGH_BIT,
    ITEM,
    ITEM_DELIMITATION_ITEM,
    NUMBER_OF_FRAMES,
    PIXEL_DATA,
    ROWS,
    SAMPLES_PER_PIXEL,
    SEQUENCE_DELIMITATION_ITEM,
    TRANSFER_SYNTAX_UID,
    UNDEFINED_LENGTH,
)
from pacsguard.errors import CorruptDicom, LimitExceeded
from pacsguard.limits import DEFAULT_LIMITS, Limits

__all__ = ["Prescan", "prescan"]

Buffer = bytes | bytearray | mmap.mmap  #: no memoryview: an mmap must stay closable

_UNDEF = UNDEFINED_LENGTH
_ITEM, _ITEM_END, _SEQ_END = ITEM, ITEM_DELIMITATION_ITEM, SEQUENCE_DELIMITATION_ITEM
#: the pixel data tags, with the Bits Allocated a float form requires (0: any)
_PIXEL_TAGS = {FLOAT_PIXEL_DATA: 32, DOUBLE_FLOAT_PIXEL_DATA: 64, PIXEL_DATA: 0}
_VRS = frozenset(b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV "
                 b"TM UC UI UL UN UR US UT UV".split())
_LONG = frozenset(b"OB OD OF OL OV OW SQ SV UC UN UR UT UV".split())
_WIDTH = {b"US": 2, b"SS": 2, b"UL": 4, b"SL": 4, b"FL": 4, b"AT": 4, b"FD": 8, b"SV": 8,
          b"UV": 8, b"OF": 4, b"OL": 4, b"OD": 8, b"OV": 8}
_UID_TEXT = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")
_IMPLICIT, _EXPLICIT_BE, _DEFLATED = "1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"
_NATIVE = frozenset({_IMPLICIT, "1.2.840.10008.1.2.1", _EXPLICIT_BE, _DEFLATED})
#: (0028,xxxx) image attributes read for the geometry check
_GEOMETRY = {SAMPLES_PER_PIXEL: "spp", ROWS: "rows", COLUMNS: "cols", BITS_ALLOCATED: "bits",
             BITS_STORED: "stored", HIGH_BIT: "high"}
_FRAMES = NUMBER_OF_FRAMES
_INFLATE_CHUNK = 1 << 20


@dataclass
class Prescan:
    """What the walk learnt (for callers that want it)."""

    transfer_syntax: str | None = None
    inflated_size: int = 0
    elements: int = 0
    geometry: dict[str, int] = field(default_factory=dict)
    frames: int | None = None
    truncated: bool = False  #: the file ends early (only when truncation is tolerated)
    #: where the top-level Pixel Data element lies in the file: its header, value, end
    #: (delimiter included) and end; the streaming path copies it byte for byte (None if
    #: deflated or absent)
    pixel_span: tuple[int, int, int, int] | None = None
    #: every top-level pixel data tag (float forms included)
    pixel_tags: frozenset[int] = frozenset()


class _Truncated(Exception):
    """The walk reached the end of the file inside an element (caught in :func:`prescan`)."""


def _tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _reject(code: str, detail: str) -> CorruptDicom:
    return CorruptDicom(code, detail)


class _Walker:
    def __init__(self, data: Buffer, limits: Limits, *, big: bool = False,
                 tolerate_truncation: bool = False) -> None:
        self.tolerate = tolerate_truncation
        self.data = data
        self.size = len(data)
        self.limits = limits
        self.fmt_tag = ">HH" if big else "<HH"
        self.u16, self.u32 = (">H", ">I") if big else ("<H", "<I")
        self.total = 0
        self.top: dict[int, tuple[int, int]] = {}  #: top-level tag -> (value offset, length)
        self.pixel: tuple[int, int, int] | None = None  #: (tag, value offset, length) at top level
        self.pixel_span: tuple[int, int, int, int] | None = None  #: see Prescan
        self.pixel_tags: set[int] = set()
        self.fragments = 0
        self.bot = b""

    # -- helpers --------------------------------------------------------------------------
    def _short(self, pos: int, need: int, limit: int, what: str) -> None:
        """Raise if ``need`` bytes at ``pos`` run past ``limit`` (EOF: truncated)."""
        if pos + need <= limit:
            return
        if limit < self.size:
            raise _reject("bad-length", f"{what} runs past the end of its item or sequence")
        if need > self.limits.max_file_bytes:  # no acceptable file holds it: a lie, not a cut
            raise _reject("bad-length", f"{what} claims more bytes than any file may hold")
        if self.tolerate:
            raise _Truncated
        raise _reject("truncated", f"the file ends inside {what}")

    def _count(self, n: int) -> None:
        self.total += 1
        if n > self.limits.max_elements or self.total > self.limits.max_total_elements:
            raise LimitExceeded("too-many-elements", "more elements than the limits allow "
                             f"({self.limits.max_elements} per dataset, "
                             f"{self.limits.max_total_elements} per file)")

    def _looks_explicit(self, pos: int) -> bool:
        vr = self.data[pos + 4:pos + 6]
        return len(vr) == 2 and 0x40 < vr[0] < 0x5B and 0x40 < vr[1] < 0x5B

    # -- structure ------------------------------------------------------------------------
    def dataset(self, pos: int, end: int | None, limit: int, depth: int, implicit: bool,
                top: bool, stop_group: int | None = None) -> int:
        """Walk one dataset from ``pos``; ``end`` None: until an item delimiter. Returns the
        position after it. ``stop_group``: stop before the first tag of another group (meta)."""
        if pos + 6 <= (end if end is not None else limit) and self.data[pos:pos + 4] not in (
                b"\xfe\xff\x0d\xe0", b"\xff\xfe\xe0\x0d"):  # an empty item: nothing to guess
            # pydicom's guess: an explicit dataset may hold implicit items, the top level may
            # be either whatever the transfer syntax says.
            found_implicit = not self._looks_explicit(pos)
            if top or (not implicit and found_implicit):
                implicit = found_implicit
        count = 0
        while True:
            if end is not None and pos >= end:
                return pos
            if end is None and pos >= limit:
                self._short(pos, 8, limit, "an item without its delimiter")
            self._short(pos, 8, limit if end is None else end, "an element header")
            group, elem = struct.unpack_from(self.fmt_tag, self.data, pos)
            tag = group << 16 | elem
            if stop_group is not None and group != stop_group:
                return pos
            if group == 2 and stop_group is None and top:
                raise _reject("bad-file-meta", "a file meta element after the dataset began")
            if group == 0xFFFE:
                if tag == _ITEM_END and end is None:
                    return pos + 8
                raise _reject("bad-structure", f"an item tag {_tag(tag)} where an element belongs")
            vr: bytes | None
            if implicit:
                length = struct.unpack_from(self.u32, self.data, pos + 4)[0]
                hdr, vr = 8, _dict_vr(tag)
            else:
                vr = bytes(self.data[pos + 4:pos + 6])
                if vr not in _VRS:
                    raise _reject("bad-vr", f"element {_tag(tag)} has an invalid VR")
                if group == 2 and vr != (_dict_vr(tag) or vr):  # the writer sets these itself
                    raise _reject("bad-vr", f"element {_tag(tag)} has the wrong VR")
                if vr in _LONG:
                    self._short(pos, 12, limit if end is None else end, "an element header")
                    length, hdr = struct.unpack_from(self.u32, self.data, pos + 8)[0], 12
                else:
                    length, hdr = struct.unpack_from(self.u16, self.data, pos + 6)[0], 8
            count += 1
            self._count(count)
            vpos = pos + hdr
            bound = limit if end is None else end
            if length == _UNDEF:
                if tag == PIXEL_DATA and vr in (b"OB", b"OW", None):
                    start, pos = pos, self.encapsulated(vpos, bound, top)
                    if top:
                        self.pixel_span = (start, vpos, pos - 8, pos)
                        self.pixel_tags.add(tag)
                elif vr in (b"SQ", b"UN", None):
                    pos = self.sequence(vpos, None, bound, depth + 1, implicit or vr == b"UN")
                else:
                    raise _reject("bad-length", f"element {_tag(tag)} has an undefined length, "
                                  "which its VR does not allow")
                continue
            if vpos + length > bound:  # (the message is built only when it is needed)
                self._short(vpos, length, bound, f"element {_tag(tag)}")
            if vr == b"SQ":
                self.sequence(vpos, vpos + length, vpos + length, depth + 1, implicit)
            elif vr == b"UN" and _dict_vr(tag) == b"SQ":
                # pydicom turns a UN whose tag is a known sequence into one (implicit VR inside)
                self.sequence(vpos, vpos + length, vpos + length, depth + 1, True)
            elif vr is not None and vr in _WIDTH and length % _WIDTH[vr]:
                raise _reject("bad-length", f"element {_tag(tag)}: length {length} is not a "
                              f"multiple of its VR's {_WIDTH[vr]} bytes")
            if top:
                self.top[tag] = (vpos, length)
                if tag in _PIXEL_TAGS:
                    self.pixel = (tag, vpos, length)
                    self.pixel_tags.add(tag)
                    if tag == PIXEL_DATA:
                        self.pixel_span = (pos, vpos, vpos + length, vpos + length)
            pos = vpos + length

    def sequence(self, pos: int, end: int | None, limit: int, depth: int, implicit: bool) -> int:
        if depth > self.limits.max_depth:
            raise LimitExceeded("nesting-too-deep", f"sequences nest deeper than {self.limits.max_depth}")
        items = 0
        while True:
            if end is not None and pos >= end:
                return pos
            self._short(pos, 8, limit, "a sequence item header")
            group, elem = struct.unpack_from(self.fmt_tag, self.data, pos)
            tag = group << 16 | elem
            length = struct.unpack_from(self.u32, self.data, pos + 4)[0]
            if tag == _SEQ_END and end is None:
                return pos + 8
            if tag != _ITEM:
                raise _reject("bad-structure", "a sequence holds something other than items")
            items += 1
            self._count(items)
            if length == _UNDEF:
                pos = self.dataset(pos + 8, None, limit, depth, implicit, False)
            else:
                self._short(pos + 8, length, limit, "a sequence item")
                pos = self.dataset(pos + 8, pos + 8 + length, pos + 8 + length, depth, implicit,
                                   False)

    def encapsulated(self, pos: int, limit: int, top: bool) -> int:
        start, first = pos, True
        while True:
            self._short(pos, 8, limit, "encapsulated pixel data")
            group, elem = struct.unpack_from(self.fmt_tag, self.data, pos)
            tag = group << 16 | elem
            length = struct.unpack_from(self.u32, self.data, pos + 4)[0]
            if tag == _SEQ_END:
                break
            if tag != _ITEM or length == _UNDEF:
                raise _reject("bad-encapsulation", "encapsulated pixel data holds something "
                              "other than defined-length items")
            self._short(pos + 8, length, limit, "a pixel data fragment")
            if first:
                if length % 4:
                    raise _reject("bad-encapsulation", "the basic offset table is not a list of "
                                  "32-bit offsets")
                if top:
                    self.bot = bytes(self.data[pos + 8:pos + 8 + length])
                first = False
            elif top:
                self.fragments += 1
            self._count(1)
            pos += 8 + length
        if top:
            if first or not self.fragments:
                raise _reject("bad-encapsulation", "encapsulated pixel data without a fragment")
            self.pixel = (PIXEL_DATA, start, _UNDEF)
            self.top[PIXEL_DATA] = (start, _UNDEF)
        return pos + 8


def _dict_vr(tag: int) -> bytes | None:
    if tag >> 16 & 1 or tag & 0xFFFF == 0:
        return None if tag & 0xFFFF else b"UL"  # private: unknown; group length: UL
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        return None
    return vr.encode() if len(vr) == 2 else None  # "US or SS": ambiguous, no width check


def _syntax(walker: _Walker) -> str | None:
    found = walker.top.get(TRANSFER_SYNTAX_UID)
    if found is None:
        return None
    raw = bytes(walker.data[found[0]:found[0] + found[1]])
    text = raw.rstrip(b"\0 ").decode("ascii", "replace")
    if not text or len(text) > 64 or not _UID_TEXT.fullmatch(text):
        raise _reject("bad-transfer-syntax", "the Transfer Syntax UID is not a UID")
    if not UID(text).is_transfer_syntax:
        raise _reject("bad-transfer-syntax", "the Transfer Syntax UID is not one pacsguard knows")
    return text


def _inflate(data: bytes, limits: Limits, file_size: int) -> bytes:
    """Inflate incrementally, never past the limit (a deflate bomb stops at the cap)."""
    cap = min(limits.max_inflated_bytes, max(file_size, 1) * limits.max_inflate_ratio)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    out: list[bytes] = []
    total = 0
    pending = data
    try:
        while not inflater.eof:
            chunk = inflater.decompress(pending, _INFLATE_CHUNK)
            pending = inflater.unconsumed_tail
            if not chunk and not pending:
                break
            total += len(chunk)
            if total > cap:
                raise LimitExceeded("deflate-bomb", f"the deflated dataset inflates past the limit "
                                 f"({limits.max_inflate_ratio}x the file, "
                                 f"{limits.max_inflated_mb} MB at most)")
            out.append(chunk)
    except zlib.error as exc:
        raise _reject("bad-deflate", "the deflated dataset is not a valid deflate stream") from exc
    if not inflater.eof:
        raise _reject("truncated", "the deflated dataset ends before its stream does")
    return b"".join(out)


def prescan(data: Buffer, limits: Limits = DEFAULT_LIMITS, *,
            tolerate_truncation: bool = False) -> Prescan:
    """Raise :class:`~pacsguard.errors.FileRejected` (a precise code) if ``data`` is malformed or
    exceeds ``limits``; return what was learnt otherwise. ``tolerate_truncation``: a file cut
    short is walked as far as it goes and flagged (``scan`` inventories what it holds)."""
    size = len(data)
    if size > limits.max_file_bytes:
        raise LimitExceeded("too-large", f"the file is larger than {limits.max_file_mb} MB")
    pos = 132 if size >= 132 and data[128:132] == b"DICM" else 0
    meta = _Walker(data, limits)
    if size >= pos + 6 and data[pos:pos + 2] == b"\x02\x00":
        try:
            pos = meta.dataset(pos, size, size, 0, not meta._looks_explicit(pos), True,
                               stop_group=2)
        except CorruptDicom as exc:
            if exc.code == "truncated":
                raise
            raise _reject("bad-file-meta", f"file meta: {exc.detail}") from exc
    syntax = _syntax(meta)
    result = Prescan(transfer_syntax=syntax)
    body: Buffer = data
    if syntax == _DEFLATED:
        body = _inflate(bytes(data[pos:]), limits, size)
        result.inflated_size, pos = len(body), 0
    walker = _Walker(body, limits, big=syntax == _EXPLICIT_BE,
                     tolerate_truncation=tolerate_truncation)
    try:
        if pos < len(body):
            walker.dataset(pos, len(body), len(body), 0, syntax == _IMPLICIT, True)
    except _Truncated:
        result.truncated = True
    result.elements = walker.total
    if not result.truncated:
        _check_pixels(walker, syntax, limits, result)
        result.pixel_tags = frozenset(walker.pixel_tags)
        if body is data:
            result.pixel_span = walker.pixel_span
    return result


def _int_value(walker: _Walker, tag: int) -> int | None:
    found = walker.top.get(tag)
    if found is None or found[1] < 2:
        return None
    return int(struct.unpack_from(walker.u16, walker.data, found[0])[0])


def _frames(walker: _Walker, limits: Limits) -> int | None:
    found = walker.top.get(_FRAMES)
    if found is None or found[1] == 0:
        return None
    text = bytes(walker.data[found[0]:found[0] + found[1]]).strip(b"\0 ")
    if not text:
        return None
    if not re.fullmatch(rb"[+]?[0-9]{1,12}", text) or int(text) < 1:
        raise _reject("pixel-geometry", "Number of Frames is not a positive whole number")
    frames = int(text)
    if frames > limits.max_frames:
        raise LimitExceeded("too-many-frames", f"more than {limits.max_frames} frames")
    return frames


def _check_pixels(walker: _Walker, syntax: str | None, limits: Limits, result: Prescan) -> None:
    frames = _frames(walker, limits)
    result.frames = frames
    if walker.pixel is None:
        return
    tag, _, length = walker.pixel
    geo = {name: _int_value(walker, t) for t, name in _GEOMETRY.items()}
    result.geometry = {k: v for k, v in geo.items() if v is not None}
    encapsulated = length == _UNDEF
    native = syntax is None or syntax in _NATIVE
    if encapsulated and native:
        raise _reject("bad-transfer-syntax", "encapsulated pixel data under a native transfer syntax")
    if not encapsulated and not native and tag == PIXEL_DATA:
        raise _reject("bad-transfer-syntax", "native pixel data under a compressed transfer syntax")
    rows, cols, bits = geo["rows"], geo["cols"], geo["bits"]
    spp = geo["spp"] if geo["spp"] is not None else 1
    if rows is None or cols is None or bits is None:
        raise _reject("pixel-geometry", "pixel data without Rows, Columns or Bits Allocated")
    if not rows or not cols or spp not in (1, 3, 4) or bits not in (1, 8, 16, 32, 64):
        raise _reject("pixel-geometry", "Rows, Columns, Samples per Pixel or Bits Allocated "
                      "cannot describe an image")
    if _PIXEL_TAGS[tag] and bits != _PIXEL_TAGS[tag]:
        raise _reject("pixel-geometry", "Bits Allocated does not match the float pixel data")
    stored, high = geo["stored"], geo["high"]
    if (stored is not None and not 0 < stored <= bits) or (high is not None and high >= bits):
        raise _reject("pixel-geometry", "Bits Stored or High Bit do not fit Bits Allocated")
    nbits = rows * cols * spp * (frames or 1) * bits
    expected = (nbits + 7) // 8
    if expected > limits.max_pixel_bytes:
        raise LimitExceeded("too-large", f"the image would take more than {limits.max_pixel_mb} MB "
                         "decoded")
    if encapsulated:
        if frames and frames > 1 and walker.fragments < frames and len(walker.bot) // 4 != frames:
            raise _reject("bad-encapsulation", "fewer fragments than frames, and no offset table "
                          "to split them")
        return
    if length not in (expected, expected + 1):  # + 1: padded to even
        what = "shorter" if length < expected else "longer"
        raise _reject("pixel-geometry", f"pixel data is {what} than Rows x Columns x Samples x "
                      "Frames x Bits Allocated says")
