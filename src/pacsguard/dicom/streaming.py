"""When a file's Pixel Data can stay in the file: the streaming read's rules.

``deid`` rewrites headers; a file that needs no pixel work keeps its Pixel Data exactly as it
was. When the element is stored the way pydicom would write it back, the pipeline parses only
the header, writes the new one, and the kernel copies the pixel bytes from input to output
(:class:`PixelTail`). The output is then byte for byte what the full path writes. Anything
these rules do not recognise keeps the full path, with a reason code the summary counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from pacsguard.dicom.prescan import Buffer, Prescan
from pacsguard.dicom.tags import PIXEL_DATA

__all__ = ["FULL_PATH_REASONS", "PixelTail", "refusal", "tail_of"]

_IMPLICIT_LE = "1.2.840.10008.1.2"
_DEFLATED = "1.2.840.10008.1.2.1.99"
_EXPLICIT_BE = "1.2.840.10008.1.2.2"
_DELIMITER = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"  #: what pydicom writes after encapsulated data

#: Why a file took the full path: code -> what it means (the summary counts them).
FULL_PATH_REASONS = {
    "no-pixel-data": "no Pixel Data to leave in the file",
    "pixel-work": "the pixels need work (burned-in text, overlays in the pixel data)",
    "not-a-file": "the instance was given as bytes or a dataset, not a file",
    "no-transfer-syntax": "no Transfer Syntax UID in the file meta",
    "deflate": "Deflated Explicit VR Little Endian",
    "big-endian": "Explicit VR Big Endian",
    "float-pixel-data": "Float or Double Float Pixel Data",
    "after-pixel-data": "elements after the Pixel Data",
    "pixel-encoding": "the Pixel Data's header is not stored as pydicom writes it",
    "body-encoding": "the dataset is not encoded as its transfer syntax says",
}


@dataclass(frozen=True)
class PixelTail:
    """The Pixel Data element's bytes, header to end, left in the input file: ``[start, end)``
    (``end`` is the end of the file). ``size`` and ``mtime_ns`` are the file's when it was
    read, so that a file changed since is never half copied. ``around``: its bytes outside
    the value (header, delimiter), which the leak guard searches as it would in a whole file."""

    start: int
    end: int
    size: int
    mtime_ns: int
    around: bytes = b""

    @property
    def length(self) -> int:
        return self.end - self.start


def refusal(data: Buffer, found: Prescan) -> str:
    """Why ``data`` (a whole file, prescanned as ``found``) must take the full path; empty
    when its Pixel Data can be copied as it is."""
    syntax = found.transfer_syntax
    if found.pixel_span is None:
        if syntax == _DEFLATED:
            return "deflate"
        return "no-pixel-data"
    if syntax is None:
        return "no-transfer-syntax"
    if syntax == _EXPLICIT_BE:
        return "big-endian"
    if found.pixel_tags != {PIXEL_DATA}:
        return "float-pixel-data"
    start, value, value_end, end = found.pixel_span
    if end != len(data):
        return "after-pixel-data"
    if (value_end - value) % 2:
        return "pixel-encoding"  # pydicom pads an odd value to even
    implicit = syntax == _IMPLICIT_LE  # a body encoded otherwise: the reader's check
    head = bytes(data[start:start + 12])
    if implicit:
        if head[4:8] == b"\xff\xff\xff\xff":
            return "pixel-encoding"
    elif head[4:6] not in (b"OB", b"OW") or head[6:8] != b"\x00\x00":
        return "pixel-encoding"  # pydicom writes the reserved bytes as zeros
    elif head[8:12] == b"\xff\xff\xff\xff" and bytes(data[end - 8:end]) != _DELIMITER:
        return "pixel-encoding"  # the delimiter's length, which pydicom writes as zero
    return ""


def tail_of(data: Buffer, found: Prescan, size: int, mtime_ns: int) -> PixelTail:
    """The tail of a file :func:`refusal` accepted."""
    assert found.pixel_span is not None
    start, value, value_end, end = found.pixel_span
    return PixelTail(start, end, size, mtime_ns,
                     bytes(data[start:value]) + bytes(data[value_end:end]))
