"""Hostile DICOM inputs by category, deterministic from a seed.

Every case is ``(category, name, bytes)``; names are plain ASCII and unique. The seeds are the
built-in sample datasets (each case gets its own instance, so no two cases share a SOP Instance
UID), mutated at the byte level with a small explicit-VR walker of this module's own (the
production pre-parse validator is not used here: it is what is under test).
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pydicom import dcmwrite
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import FileDataset
from pydicom.tag import Tag
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    RLELossless,
)

from pacsguard.samples import PATIENTS, identifying_dataset

_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR",
             b"UT", b"UV"}
_KINDS = ("CT", "MR", "SR", "US", "SC", "OVERLAY", "CT", "MR")


@dataclass(frozen=True)
class Case:
    category: str
    name: str
    data: bytes


@dataclass(frozen=True)
class Elem:
    offset: int  #: of the tag
    value: int  #: of the value
    tag: int
    vr: bytes
    length: int
    len_at: int  #: offset of the length field
    long: bool
    depth: int


_BASE = [0]  #: instance offset of the category being generated: no SOP UID shared across cases


def seed_dataset(n: int, kind: str | None = None) -> FileDataset:
    n += _BASE[0]
    patient = PATIENTS[n % len(PATIENTS)]
    return identifying_dataset(patient, kind or _KINDS[n % len(_KINDS)], seed=1000 + n,
                               instance=n + 1, size=(16, 16))


def encode(ds: FileDataset, syntax: str | None = None) -> bytes:
    if syntax:
        ds.file_meta.TransferSyntaxUID = syntax
    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


def meta_end(data: bytes) -> int:
    # Group length (0002,0000) UL is the first meta element at 132.
    return 132 + 12 + struct.unpack_from("<I", data, 140)[0]


def walk(data: bytes, start: int, end: int, depth: int = 0) -> Iterator[Elem]:
    """Explicit VR little endian elements in ``data[start:end]``, sequences entered."""
    pos = start
    while pos + 8 <= end:
        group, elem = struct.unpack_from("<HH", data, pos)
        tag = group << 16 | elem
        if group == 0xFFFE:  # item or delimiter
            length = struct.unpack_from("<I", data, pos + 4)[0]
            yield Elem(pos, pos + 8, tag, b"", length, pos + 4, True, depth)
            pos += 8
            if tag == 0xFFFEE000 and length != 0xFFFFFFFF:
                yield from walk(data, pos, min(end, pos + length), depth + 1)
                pos += length
            elif tag == 0xFFFEE000:
                depth += 1
            elif tag == 0xFFFEE00D:
                depth -= 1
            continue
        vr = data[pos + 4:pos + 6]
        if vr in _LONG_VRS:
            length = struct.unpack_from("<I", data, pos + 8)[0]
            yield Elem(pos, pos + 12, tag, vr, length, pos + 8, True, depth)
            pos += 12
        else:
            length = struct.unpack_from("<H", data, pos + 6)[0]
            yield Elem(pos, pos + 8, tag, vr, length, pos + 6, False, depth)
            pos += 8
        if length == 0xFFFFFFFF:
            continue  # contents follow as items
        if vr == b"SQ":
            yield from walk(data, pos, min(end, pos + length), depth + 1)
        pos += length


def elements(data: bytes) -> list[Elem]:
    return list(walk(data, 132, len(data)))


def _put32(data: bytearray, at: int, value: int) -> None:
    struct.pack_into("<I", data, at, value & 0xFFFFFFFF)


# -- categories ---------------------------------------------------------------------------

def byte_flips(rng: random.Random, n: int) -> Iterator[Case]:
    for i in range(n):
        data = bytearray(encode(seed_dataset(i)))
        # Mostly in the header (where structure lives), sometimes anywhere.
        span = min(len(data), 2048 if rng.random() < 0.8 else len(data))
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(128, span)
            data[at] ^= 1 << rng.randrange(8)
        yield Case("byte-flip", f"flip-{i:04d}", bytes(data))


def truncations(rng: random.Random, n: int) -> Iterator[Case]:
    data = encode(seed_dataset(0, "SR"))  # the deepest tree: most boundaries
    cuts = sorted({e.offset for e in elements(data)} | {e.value for e in elements(data)})
    cuts += [c + 1 for c in cuts[::7]] + [133, 140, len(data) - 1]
    picked = sorted(rng.sample(cuts, min(n, len(cuts))))
    for i, cut in enumerate(picked):
        # Each cut of its own instance (distinct SOP UID); same layout, so same boundaries.
        base = encode(seed_dataset(i, "SR"))
        yield Case("truncation", f"cut-{i:04d}-at-{cut}", base[:cut])


_VRS = [b"AE", b"AS", b"CS", b"DA", b"DS", b"FD", b"FL", b"IS", b"LO", b"LT", b"OB", b"OW",
        b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST", b"TM", b"UI", b"UL", b"UN", b"US", b"UT",
        b"XX", b"\x00\x00", b"ox", b"Z9"]


def wrong_vrs_and_lengths(rng: random.Random, n: int) -> Iterator[Case]:
    for i in range(n):
        data = bytearray(encode(seed_dataset(i)))
        elems = [e for e in elements(bytes(data)) if e.vr and e.offset >= meta_end(bytes(data))]
        e = rng.choice(elems)
        how = rng.choice(("vr", "vr", "len-odd", "len-huge", "len-undef", "len-plus",
                          "len-minus", "len-zero"))
        if how == "vr":
            data[e.offset + 4:e.offset + 6] = rng.choice(_VRS)
        else:
            new = {"len-odd": e.length | 1, "len-huge": 0x7FFFFFF0, "len-undef": 0xFFFFFFFF,
                   "len-plus": e.length + rng.randint(1, 64),
                   "len-minus": max(0, e.length - rng.randint(1, 8)), "len-zero": 0}[how]
            if e.long:
                _put32(data, e.len_at, new)
            else:
                struct.pack_into("<H", data, e.len_at, new & 0xFFFF)
        yield Case("vr-length", f"vrlen-{i:04d}-{how}", bytes(data))


def undefined_lengths(rng: random.Random, n: int) -> Iterator[Case]:
    """Undefined length on long-form elements that are not sequences (nor encapsulated pixels)."""
    for i in range(n):
        data = bytearray(encode(seed_dataset(i)))
        elems = [e for e in elements(bytes(data)) if e.long and e.vr not in (b"SQ", b"")
                 and e.offset >= meta_end(bytes(data))]
        if not elems:
            continue
        e = rng.choice(elems)
        _put32(data, e.len_at, 0xFFFFFFFF)
        if rng.random() < 0.5:  # with a delimiter somewhere after it, so a reader may "succeed"
            at = min(len(data) - 8, e.value + rng.randint(0, 64)) & ~1
            data[at:at + 8] = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
        yield Case("undefined-length", f"undef-{i:04d}", bytes(data))
    for i in range(min(n, 6)):  # implicit VR: an undefined-length non-sequence element
        ds = seed_dataset(100 + i, "CT")
        data = bytearray(encode(ds, ImplicitVRLittleEndian))
        body = meta_end(bytes(data))
        at = bytes(data).find(b"\x08\x00\x30\x10", body)  # Study Description
        if at > 0:
            _put32(data, at + 4, 0xFFFFFFFF)
        yield Case("undefined-length", f"undef-implicit-{i:04d}", bytes(data))


def _nested(depth: int, undefined: bool, vr: bytes = b"SQ") -> bytes:
    inner = b"\x08\x00\x00\x01SH\x04\x00ABCD"  # Code Value
    for _ in range(depth):
        if undefined:
            item = b"\xfe\xff\x00\xe0\xff\xff\xff\xff" + inner + b"\xfe\xff\x0d\xe0\x00\x00\x00\x00"
            inner = (b"\x40\x00\x30\xa7" + vr + b"\x00\x00\xff\xff\xff\xff" + item
                     + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00")
        else:
            item = b"\xfe\xff\x00\xe0" + struct.pack("<I", len(inner)) + inner
            inner = b"\x40\x00\x30\xa7" + vr + b"\x00\x00" + struct.pack("<I", len(item)) + item
    return inner


def _splice_before_pixels(data: bytes, blob: bytes, tag_floor: int = 0x0040A730) -> bytes:
    """Insert ``blob`` (encoded elements) into the top-level dataset in tag order."""
    for e in elements(data):
        if e.depth == 0 and e.tag > tag_floor and e.offset >= meta_end(data):
            return data[:e.offset] + blob + data[e.offset:]
    return data + blob


def deep_nesting(rng: random.Random, n: int) -> Iterator[Case]:
    depths = [8, 30, 64, 65, 100, 200, 500, 1000, 3000, 20000]
    for i in range(n):
        depth = depths[i % len(depths)] + rng.randint(0, 3)
        undefined = bool(i % 2)
        vr = b"UN" if i % 5 == 4 else b"SQ"
        data = encode(seed_dataset(200 + i, "CT"))
        yield Case("deep-nesting", f"nest-{i:04d}-d{depth}-{'u' if undefined else 'd'}"
                   f"{vr.decode()}", _splice_before_pixels(data, _nested(depth, undefined, vr)))


def huge_counts(rng: random.Random, n: int) -> Iterator[Case]:
    makers: list[Callable[[int], bytes]] = []

    def many_elements(i: int) -> bytes:  # a private block with a huge number of elements
        count = [60_000, 200_000, 400_000][i % 3]
        blob = b"\x09\x00\x10\x00LO\x04\x00ACME" + b"".join(
            struct.pack("<HHH", 0x0009, 0x1000 + (k % 0xF00), 0)[:4] + b"LO\x00\x00"
            for k in range(min(count, 0xF00)))
        blob += b"\x0b\x00\x10\x00LO\x04\x00ACME" + b"\x0b\x00\x00\x10LO\x00\x00" * count
        return _splice_before_pixels(encode(seed_dataset(i, "CT")), blob, 0x00090000)

    def many_items(i: int) -> bytes:
        count = [100_000, 300_000][i % 2]
        items = b"\xfe\xff\x00\xe0\x00\x00\x00\x00" * count
        blob = b"\x40\x00\x30\xa7SQ\x00\x00" + struct.pack("<I", len(items)) + items
        return _splice_before_pixels(encode(seed_dataset(i, "CT")), blob)

    def many_values(i: int) -> bytes:
        ds = seed_dataset(i, "CT")
        ds.ImageComments = ""
        data = encode(ds)
        value = b"1\\" * 32000 + b"1 "
        blob = b"\x18\x00\x50\x00DS" + struct.pack("<H", 0xFFFE) + value[:0xFFFE]
        return _splice_before_pixels(data, blob, 0x00180049)

    def claimed_length(i: int) -> bytes:
        data = bytearray(encode(seed_dataset(i, "CT")))
        e = next(e for e in elements(bytes(data)) if e.tag == 0x7FE00010)
        _put32(data, e.len_at, [0x7FFFFFFE, 0xFFFFFFF0, 0x10000000][i % 3])
        return bytes(data)

    def many_frames(i: int) -> bytes:
        ds = seed_dataset(i, ["CT", "US", "SC"][i % 3])
        ds.NumberOfFrames = [10**9, 2**31, 100_000, 999_999_999_999][i % 4]
        return encode(ds)

    makers = [many_elements, many_items, many_values, claimed_length, many_frames]
    for i in range(n):
        make = makers[i % len(makers)]
        yield Case("huge-counts", f"huge-{i:04d}-{make.__name__}", make(i))


def _with_meta(data: bytes, meta: bytes) -> bytes:
    return data[:132] + meta + data[meta_end(data):]


def _meta_elem(tag: int, vr: bytes, value: bytes) -> bytes:
    if vr in _LONG_VRS:
        return struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr + b"\0\0" + struct.pack(
            "<I", len(value)) + value
    return struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr + struct.pack("<H", len(value)) + value


def _meta(ts: bytes, group_len: int | None = None, extra: bytes = b"", sop: bytes = b"") -> bytes:
    body = (_meta_elem(0x00020001, b"OB", b"\0\1")
            + _meta_elem(0x00020002, b"UI", b"1.2.840.10008.5.1.4.1.1.2\0")
            + _meta_elem(0x00020003, b"UI", sop or b"1.2.3.4\0")
            + (_meta_elem(0x00020010, b"UI", ts) if ts is not None else b"") + extra)
    glen = len(body) if group_len is None else group_len
    return _meta_elem(0x00020000, b"UL", struct.pack("<I", glen & 0xFFFFFFFF)) + body


_BAD_SYNTAXES = [b"hello world", b"1.2.840.10008.1.2.1\0\0\0\0", b"1.2..3", b"1.2.840.10008.1.2.4.50",
                 b"1.2.840.10008.1.2.5", b"1.2.840.10008.1.2.4.90", b"9.9.9.9", b"\xff\xfe\x00\x01",
                 b"", b"1.2.840.10008.1.2.1.99", b"1.2.840.10008.1.2.2", b"1.2.840.10008.1.2",
                 b"1" * 80, b"1.2.840.10008.1.2.1 ", b"1.2.840.10008.1.2.4.201"]


def bogus_file_meta(rng: random.Random, n: int) -> Iterator[Case]:
    for i in range(n):
        data = encode(seed_dataset(400 + i))
        how = i % 8
        if how < 3:  # a transfer syntax that is not one, or does not match the body
            ts = _BAD_SYNTAXES[rng.randrange(len(_BAD_SYNTAXES))]
            out = _with_meta(data, _meta(ts))
        elif how == 3:  # group length lies
            out = _with_meta(data, _meta(b"1.2.840.10008.1.2.1\0",
                                         group_len=rng.choice([0, 3, 10**6, 0xFFFFFFFF, 40])))
        elif how == 4:  # no transfer syntax at all
            out = _with_meta(data, _meta(None))  # type: ignore[arg-type]
        elif how == 5:  # meta element with a wrong VR / huge length
            extra = b"\x02\x00\x12\x00UI" + struct.pack("<H", 0xFFF0) + b"1.2"
            out = _with_meta(data, _meta(b"1.2.840.10008.1.2.1\0", extra=extra))
        elif how == 6:  # meta in implicit VR
            meta = _meta(b"1.2.840.10008.1.2.1\0")
            imp = b"".join(struct.pack("<HHI", 2, t, len(v)) + v for t, v in (
                (0x10, b"1.2.840.10008.1.2.1\0"), (0x03, b"1.2.3\0")))
            out = _with_meta(data, imp if rng.random() < 0.5 else meta[:12] + imp)
        else:  # a non-group-2 element or a second group length inside the meta
            extra = _meta_elem(0x00080018, b"UI", b"1.2.3.4\0")
            out = _with_meta(data, _meta(b"1.2.840.10008.1.2.1\0", extra=extra))
        yield Case("file-meta", f"meta-{i:04d}-{how}", out)


def _stream_deflate(raw_prefix: bytes, zeros: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    out = [comp.compress(raw_prefix)]
    chunk = b"\0" * (1 << 20)
    left = zeros
    while left > 0:
        out.append(comp.compress(chunk[:min(left, len(chunk))]))
        left -= len(chunk)
    out.append(comp.flush())
    return b"".join(out)


def deflate_bombs(rng: random.Random, n: int, big: bool = False) -> Iterator[Case]:
    for i in range(n):
        ds = seed_dataset(500 + i, "SR")
        data = encode(ds, DeflatedExplicitVRLittleEndian)
        head = data[:meta_end(data)]
        body = zlib.decompress(data[len(head):], -zlib.MAX_WBITS)
        how = i % 6
        if how == 0:  # a huge OB value of zeros at the end
            size = (1 << 30) if big else (80 << 20) + rng.randint(0, 1 << 20)
            blob = body + b"\x09\x00\x10\x00LO\x04\x00ACME\x09\x00\x00\x10OB\0\0" + struct.pack(
                "<I", size)
            out = head + _stream_deflate(blob, size)
        elif how == 1:  # zeros after the dataset: reads as (0000,0000) elements forever
            out = head + _stream_deflate(body, (300 << 20) if big else (40 << 20))
        elif how == 2:  # not a deflate stream
            out = head + bytes(rng.randrange(256) for _ in range(2000))
        elif how == 3:  # cut short
            comp = data[len(head):]
            out = head + comp[:rng.randint(1, max(2, len(comp) - 1))]
        elif how == 4:  # a zlib (not raw deflate) stream
            out = head + zlib.compress(body)
        else:  # a valid deflated file with trailing garbage
            out = data + b"\x00GARBAGE" * 16
        yield Case("deflate", f"deflate-{i:04d}-{how}{'-big' if big else ''}", out)


def broken_encapsulation(rng: random.Random, n: int) -> Iterator[Case]:
    for i in range(n):
        ds = seed_dataset(600 + i, "CT")
        # Encapsulate the native pixels as a fake "JPEG" stream: we only care about structure.
        frag = bytes(ds.PixelData[:200])
        how = i % 9
        bot = b"\xfe\xff\x00\xe0\x00\x00\x00\x00"
        item = b"\xfe\xff\x00\xe0" + struct.pack("<I", len(frag)) + frag
        end = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
        value = {0: bot + item,  # no delimiter
                 1: bot + b"\xfe\xff\x00\xe1" + item[4:] + end,  # wrong item tag
                 2: bot + b"\xfe\xff\x00\xe0" + struct.pack("<I", 10**7) + frag + end,
                 3: b"\xfe\xff\x00\xe0\x08\x00\x00\x00" + struct.pack("<II", 0, 10**6) + item + end,
                 4: item + end,  # no offset table item
                 5: bot + b"\xfe\xff\x00\xe0\xff\xff\xff\xff" + frag + end,
                 6: bot + end,  # no fragment
                 7: frag + end,  # no items at all
                 8: bot + item + end}[how]  # valid structure, garbage codestream
        syntax = JPEGBaseline8Bit if how != 8 or i % 2 else RLELossless
        data = encode(ds)
        ts = str(syntax).encode()
        sop = str(ds.SOPInstanceUID).encode()
        data = bytearray(_with_meta(data, _meta(ts + b"\0" * (len(ts) % 2),
                                                sop=sop + b"\0" * (len(sop) % 2))))
        e = next(e for e in elements(bytes(data)) if e.tag == 0x7FE00010)
        data[e.offset:] = b"\xe0\x7f\x10\x00OB\0\0\xff\xff\xff\xff" + value
        yield Case("encapsulation", f"encap-{i:04d}-{how}", bytes(data))

_GEOMETRY = [("Rows", [0, 1, 65535, 4096]), ("Columns", [0, 3, 65535, 8191]),
             ("BitsAllocated", [0, 1, 7, 32, 64, 255]), ("BitsStored", [0, 17, 64]),
             ("HighBit", [0, 31, 200]), ("SamplesPerPixel", [0, 2, 3, 4, 200]),
             ("NumberOfFrames", ["0", "-1", "2", "abc", "1.5", "65536"]),
             ("PlanarConfiguration", [1, 7]), ("PixelRepresentation", [1, 5]),
             ("PhotometricInterpretation", ["RGB", "PALETTE COLOR", "YBR_FULL_422", "X"])]


def pixel_geometry(rng: random.Random, n: int) -> Iterator[Case]:
    for i in range(n):
        ds = seed_dataset(700 + i, ["CT", "US", "SC", "MR"][i % 4])
        for _ in range(rng.randint(1, 3)):
            key, values = rng.choice(_GEOMETRY)
            value = rng.choice(values)
            if isinstance(value, str):  # raw, so that pydicom does not validate it
                raw = value.encode() + b" " * (len(value) % 2)
                tag = Tag(tag_for_keyword(key))
                ds[tag] = RawDataElement(tag, dictionary_VR(tag), len(raw), raw, 0, False, True)
            else:
                setattr(ds, key, value)
        if rng.random() < 0.3:  # and a pixel length that fits neither
            ds.PixelData = bytes(ds.PixelData)[:rng.randrange(2, len(ds.PixelData), 2)]
        elif rng.random() < 0.2:
            ds.PixelData = bytes(ds.PixelData) + b"\0" * rng.randrange(2, 4096, 2)
        yield Case("pixel-geometry", f"geom-{i:04d}", encode(ds))


_CHARSETS = ["ISO_IR 100", "ISO_IR 192", "ISO 2022 IR 87", "\\ISO 2022 IR 87", "ISO_IR 13",
             "ISO 2022 IR 149", "GB18030", "ISO_IR 144", "NOT A CHARSET", "ISO_IR 6\\ISO_IR 100",
             "ISO 2022 IR 6\\ISO 2022 IR 87\\ISO 2022 IR 13", "ISO_IR 166", "ISO_IR 126"]
_VALUES = [b"\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B",  # ISO 2022 escapes
           b"\x1b$)C\xc8\xab\x1b(B^Jean", b"\x1b(J\x1b$B\x1b(B", b"\x1b\x1b\x1b$",
           "Dupont^Marie".encode("utf-16-le"), "Müller^Jürgen".encode(),  # UTF-16, UTF-8
           b"\xff\xfe\xfd\xc0\x80", b"Dupont^Marie\0hidden^value", b"\x80\x81\x82\x83^\x9f",
           "Łukasz^Żółć".encode(), b"\xe6\x97\xa5\xe6\x9c\xac^\xed\xa0\x80"]


def _replace_top(data: bytes, tag: int, vr: bytes, value: bytes) -> bytes:
    """``data`` with the top-level element ``tag`` replaced by a short-VR element."""
    for e in elements(data):
        if e.tag == tag and e.depth == 0 and e.offset >= meta_end(data):
            new = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr + struct.pack("<H", len(value))
            return data[:e.offset] + new + value + data[e.value + e.length:]
    raise ValueError("no such element")


def charset_abuse(rng: random.Random, n: int) -> Iterator[Case]:
    for i in range(n):
        ds = seed_dataset(800 + i, ["CT", "SR", "MR"][i % 3])
        ds.SpecificCharacterSet = "ISO_IR 100"
        charset = rng.choice(_CHARSETS).encode()
        data = _replace_top(encode(ds), 0x00080005, b"CS", charset + b" " * (len(charset) % 2))
        raw = rng.choice(_VALUES)
        raw = raw + b" " * (len(raw) % 2)
        pad = bytearray(data)
        # Rewrite string values in place, keeping lengths consistent (replace the whole element).
        picks = [e for e in elements(data) if e.vr in (b"PN", b"LO", b"SH", b"LT", b"ST", b"UT")
                 and e.offset >= meta_end(data) and e.depth == 0]
        for e in sorted(rng.sample(picks, min(3, len(picks))), key=lambda e: -e.offset):
            hdr = bytes(pad[e.offset:e.value])
            new = hdr[:8] + struct.pack("<I", len(raw)) if e.long else hdr[:6] + struct.pack("<H", len(raw))
            pad[e.offset:e.value + e.length] = new + raw
        yield Case("charset", f"charset-{i:04d}", bytes(pad))


_PN = ["A^B^C^D^E^F^G^H", "Dupont^Marie=Dupont^Marie=Dupont^Marie=Dupont^Marie=X",
       "====", "^^^^^^^^^^", "Dupont^Marie\\" * 40, "Dupont\0^Marie", "=^=^=", "\\\\\\\\",
       "Dupont^Marie^^^^=^^^^", "D" * 64 + "^" + "M" * 64]


def person_names(rng: random.Random, n: int) -> Iterator[Case]:
    for i in range(n):
        ds = seed_dataset(900 + i, ["CT", "SR"][i % 2])
        patient = PATIENTS[(900 + i) % len(PATIENTS)]
        value = rng.choice(_PN).replace("Dupont^Marie", str(patient.name)).replace(
            "Dupont", str(patient.name).split("^")[0])
        for kw in rng.sample(["PatientName", "ReferringPhysicianName", "OperatorsName",
                              "PerformingPhysicianName", "OtherPatientNames"], 2):
            raw = value.encode("utf-8" if "192" in str(ds.get("SpecificCharacterSet", "")) else
                               "latin-1", "replace")
            raw += b" " * (len(raw) % 2)
            tag = Tag(tag_for_keyword(kw))
            ds[tag] = RawDataElement(tag, "PN", len(raw), raw, 0, False, True)
        yield Case("person-name", f"pn-{i:04d}", encode(ds))


_PREAMBLES = [b"PK\x03\x04" + b"\0" * 124, b"II*\x00" + b"\0" * 124, b"%PDF-1.4\n" + b"\0" * 119,
              b"<html><script>alert(1)</script>".ljust(128, b" "), b"\xff" * 128,
              b"MZ\x90\x00" + b"\0" * 124]


def preamble_polyglots(rng: random.Random, n: int) -> Iterator[Case]:
    for i in range(n):
        ds = seed_dataset(1000 + i)
        data = encode(ds)
        pre = rng.choice(_PREAMBLES)
        if i % 3 == 2:  # the patient's name in the preamble: must not survive
            pre = str(PATIENTS[(1000 + i) % len(PATIENTS)].name).encode().ljust(128, b"\0")
        out = pre + data[128:]
        if i % 5 == 4:  # no preamble at all, body only, with junk after it
            out = data[meta_end(data):] + b"PK\x05\x06" + b"\0" * 18
        yield Case("preamble", f"pre-{i:04d}", out)


CATEGORIES: dict[str, Callable[[random.Random, int], Iterator[Case]]] = {
    "byte-flip": byte_flips,
    "truncation": truncations,
    "vr-length": wrong_vrs_and_lengths,
    "undefined-length": undefined_lengths,
    "deep-nesting": deep_nesting,
    "huge-counts": huge_counts,
    "file-meta": bogus_file_meta,
    "deflate": deflate_bombs,
    "encapsulation": broken_encapsulation,
    "pixel-geometry": pixel_geometry,
    "charset": charset_abuse,
    "person-name": person_names,
    "preamble": preamble_polyglots,
}


def generate(per_category: int | dict[str, int], seed: int = 13) -> Iterator[Case]:
    """Every category's cases, each category from its own seeded generator."""
    for index, (name, make) in enumerate(CATEGORIES.items()):
        _BASE[0] = 10_000 * (index + 1)
        count = per_category if isinstance(per_category, int) else per_category.get(name, 0)
        if count:
            yield from make(random.Random(f"{seed}:{name}"), count)


__all__ = ["CATEGORIES", "Case", "ExplicitVRBigEndian", "generate"]
