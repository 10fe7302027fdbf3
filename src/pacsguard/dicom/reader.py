"""Read one DICOM file, or refuse it with a reason code: the one reader of pacsguard.

The rules, first match wins (the codes are the README's, under "Fail closed"):

1. no ``DICM`` prefix, and the bytes do not start as a dataset does: ``not-dicom``;
2. larger than the limits allow: ``too-large``, before the rest of the file is read;
3. structure and limits checked on the raw bytes (:mod:`pacsguard.dicom.prescan`): its codes;
4. pydicom still refuses it: ``not-dicom`` if it says so, else ``parse-error``; a file that
   cannot be read is ``unreadable``;
5. cut short (the raw bytes, pydicom's end-of-file warnings, a last element shorter than its
   length, image attributes without pixel data): ``truncated``;
6. an empty dataset, or a whole one with no SOP Class UID that is no DICOMDIR either:
   ``not-dicom``.

``deid`` reads with :func:`read_dicom` (or :func:`parse_dicom` for bytes): rule 5 refuses the
file. ``scan`` and ``verify`` read with :func:`read_dicom_file` (or :func:`parse_dicom_file`):
a file cut short is kept with what it holds, flagged ``damaged`` (a cut file still holds
identifiers; unless it holds nothing), together with its raw bytes and where its bulk data
lies. Every reason names
tags or sizes, never a value.
"""

from __future__ import annotations

import io
import mmap
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from pydicom import dcmread
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.tag import BaseTag
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, MediaStorageDirectoryStorage

from pacsguard.dicom.prescan import Buffer, prescan
from pacsguard.dicom.settings import pydicom_scope
from pacsguard.dicom.streaming import PixelTail, refusal, tail_of
from pacsguard.dicom.tags import (
    COLUMNS,
    DIRECTORY_RECORD_SEQUENCE,
    OFFSET_OF_THE_FIRST_DIRECTORY_RECORD_OF_THE_ROOT_DIRECTORY_ENTITY,
    PIXEL_DATA_TAGS,
    ROWS,
    SOP_CLASS_UID,
    UNDEFINED_LENGTH,
    is_bulk,
)
from pacsguard.errors import CorruptDicom, LimitExceeded, NotDicom
from pacsguard.limits import DEFAULT_LIMITS, Limits

__all__ = ["DicomFile", "is_dicomdir", "parse_dicom", "parse_dicom_file", "read_dicom",
           "read_dicom_file", "read_dicom_split"]

_PREFIX_END = 132  #: 128-byte preamble, then ``DICM``


@dataclass
class DicomFile:
    """One parsed file with its raw bytes (scan and verify search both)."""

    path: Path
    data: bytes
    ds: FileDataset
    #: byte ranges of top-level pixel and overlay data (taken before any conversion)
    bulk: list[tuple[int, int]] = field(default_factory=list)
    #: why the file is damaged though parsed (cut short), else None
    damaged: str | None = None

    @property
    def file_meta(self) -> Dataset:
        meta = getattr(self.ds, "file_meta", None)
        return meta if meta is not None else Dataset()

    @property
    def has_preamble(self) -> bool:
        return self.data[128:_PREFIX_END] == b"DICM"


def read_dicom(path: Path, limits: Limits = DEFAULT_LIMITS) -> FileDataset:
    """Parse ``path`` completely enough to de-identify it, or raise :class:`NotDicom` or
    :class:`CorruptDicom` (rules 1-6 above). The raw bytes are mapped, not read, for the
    prescan: pixel pages stay in the page cache for pydicom's own read."""
    try:
        with path.open("rb") as fh:
            _check_head(fh.read(_PREFIX_END))
            _check_size(os.fstat(fh.fileno()).st_size, limits)
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                fh.seek(0)
                ds, _ = _parse(data, fh, limits, tolerate_truncation=False)
    except (NotDicom, CorruptDicom):
        raise
    except OSError as exc:
        raise _unreadable(exc) from exc
    _add_meta(ds)
    return ds


def read_dicom_split(path: Path, limits: Limits = DEFAULT_LIMITS,
                     ) -> tuple[FileDataset, PixelTail | None, str]:
    """:func:`read_dicom`, leaving the Pixel Data in the file when it can be copied as it is
    (:mod:`pacsguard.dicom.streaming`): the dataset then stops before it, and the tail says
    where its bytes lie. Otherwise the whole dataset, no tail, and the reason code why."""
    try:
        with path.open("rb") as fh:
            _check_head(fh.read(_PREFIX_END))
            st = os.fstat(fh.fileno())
            _check_size(st.st_size, limits)
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                fh.seek(0)
                ds, _, tail, why = _parse_split(data, fh, limits, st)
    except (NotDicom, CorruptDicom):
        raise
    except OSError as exc:
        raise _unreadable(exc) from exc
    _add_meta(ds)
    return ds, tail, why


def parse_dicom(data: bytes, limits: Limits = DEFAULT_LIMITS) -> FileDataset:
    """:func:`read_dicom` for a file already in memory (received rather than read)."""
    ds, _ = _parse(data, io.BytesIO(data), limits, tolerate_truncation=False)
    _add_meta(ds)
    return ds


def read_dicom_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> DicomFile:
    """Read ``path`` with its raw bytes; raise as :func:`read_dicom`, except that a file cut
    short is returned ``damaged``."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_PREFIX_END)
            _check_head(head)
            _check_size(os.fstat(fh.fileno()).st_size, limits)
            data = head + fh.read()
    except (NotDicom, CorruptDicom):
        raise
    except OSError as exc:
        raise _unreadable(exc) from exc
    return parse_dicom_file(data, path, limits)


def parse_dicom_file(data: bytes, path: Path, limits: Limits = DEFAULT_LIMITS) -> DicomFile:
    """:func:`read_dicom_file` for bytes in memory (``path`` only names them)."""
    ds, damaged = _parse(data, io.BytesIO(data), limits, tolerate_truncation=True)
    return DicomFile(path=path, data=data, ds=ds, bulk=_bulk_ranges(ds), damaged=damaged)


def is_dicomdir(ds: Dataset) -> bool:
    """A DICOMDIR (media directory): it names files, so it is never copied as it is."""
    meta = getattr(ds, "file_meta", None)
    meta_class = getattr(meta, "MediaStorageSOPClassUID", "") if meta is not None else ""
    return str(meta_class) == MediaStorageDirectoryStorage or DIRECTORY_RECORD_SEQUENCE in ds


# -- the rules ------------------------------------------------------------------------------
def _check_head(head: bytes) -> None:  # rule 1
    if head[128:_PREFIX_END] != b"DICM" and not _looks_like_dataset(head):
        raise NotDicom("not-dicom", "no DICOM preamble and not a DICOM dataset")


def _looks_like_dataset(head: bytes) -> bool:
    # A dataset without preamble (old ACR-NEMA style) starts with a low even group tag.
    return len(head) >= 8 and head[1] == 0 and head[0] % 2 == 0 and head[0] <= 0x10 and head[3] == 0


def _check_size(size: int, limits: Limits) -> None:  # rule 2
    if size > limits.max_file_bytes:
        raise LimitExceeded("too-large", f"the file is larger than {limits.max_file_mb} MB")


def _unreadable(exc: OSError) -> CorruptDicom:
    return CorruptDicom("unreadable", f"cannot read the file ({exc.strerror or type(exc).__name__})")


def _parse(data: Buffer, stream: BinaryIO, limits: Limits, *,
           tolerate_truncation: bool) -> tuple[FileDataset, str | None]:
    """Rules 1 and 3-6 on ``data`` (``stream`` reads the same bytes from the start): the
    dataset, and why it is cut short (only when ``tolerate_truncation``, else it raises)."""
    ds, cut, _, _ = _parse_split(data, stream, limits, None,
                                 tolerate_truncation=tolerate_truncation)
    return ds, cut


def _parse_split(data: Buffer, stream: BinaryIO, limits: Limits, st: os.stat_result | None, *,
                 tolerate_truncation: bool = False,
                 ) -> tuple[FileDataset, str | None, PixelTail | None, str]:
    """:func:`_parse`; with ``st`` (the file's), the pixel data stays in the file if it can."""
    _check_head(bytes(data[:_PREFIX_END]))
    has_prefix = data[128:_PREFIX_END] == b"DICM"
    tail: PixelTail | None = None
    why = "not-a-file"
    try:
        found = prescan(data, limits, tolerate_truncation=tolerate_truncation)  # rule 3
        if st is not None:
            why = refusal(data, found)
            if not why:
                tail = tail_of(data, found, st.st_size, st.st_mtime_ns)
        with pydicom_scope(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # recorded, to be read below; never shown
            ds = dcmread(stream, force=not has_prefix, stop_before_pixels=tail is not None)
            if tail is not None and not _stopped_at(ds, stream, tail, found.transfer_syntax):
                # read as a whole after all: the same bytes the full path would write
                tail, why = None, "body-encoding"
                stream.seek(0)
                ds = dcmread(stream, force=not has_prefix)
    except (NotDicom, CorruptDicom):
        raise
    except InvalidDicomError as exc:  # rule 4
        raise NotDicom("not-dicom", "not a DICOM file") from exc
    except OSError as exc:
        raise _unreadable(exc) from exc
    except Exception as exc:  # pydicom raises many types on malformed input
        raise CorruptDicom("parse-error", f"DICOM parse error ({type(exc).__name__})") from exc
    keys = list(ds.keys())
    cut = "the file ends before its data does" if found.truncated or any(
        _is_cut_warning(str(w.message)) for w in caught) else _cut_short(ds, keys, tail is None)
    if cut and (not tolerate_truncation or not keys):  # rule 5; kept only if it holds something
        raise CorruptDicom("truncated", cut)
    if not keys:  # rule 6
        raise NotDicom("not-dicom", "empty dataset")
    if not cut and SOP_CLASS_UID not in ds and not is_dicomdir(ds) and \
            OFFSET_OF_THE_FIRST_DIRECTORY_RECORD_OF_THE_ROOT_DIRECTORY_ENTITY not in ds:  # rule 6
        raise NotDicom("not-dicom", "no SOP Class UID: not a DICOM composite object")
    return ds, cut, tail, why


def _stopped_at(ds: FileDataset, stream: BinaryIO, tail: PixelTail, syntax: str | None) -> bool:
    """pydicom stopped right before the Pixel Data, having read the body as its transfer
    syntax says (else the full path re-encodes every element, the pixel data's included)."""
    if stream.tell() != tail.start or not ds.original_encoding:
        return False
    implicit = syntax == ImplicitVRLittleEndian
    return ds.original_encoding == (implicit, True) and (implicit or all(
        ds.get_item(t).VR is not None for t in ds.keys()))


def _is_cut_warning(text: str) -> bool:
    """pydicom's warning that the file ends inside an element or a sequence."""
    return "End of file" in text or "delimiter" in text or "truncated" in text.lower()


def _cut_short(ds: Dataset, keys: list[BaseTag], whole: bool = True) -> str | None:
    """Why a parsed dataset is incomplete (pydicom reads a short last value silently)."""
    if not keys:
        return None
    item = ds.get_item(keys[-1])
    length = getattr(item, "length", None)
    value = getattr(item, "value", None)
    if isinstance(value, bytes) and length not in (None, UNDEFINED_LENGTH) and len(value) < length:
        return f"element ({keys[-1].group:04X},{keys[-1].element:04X}) is cut short"
    if whole and ROWS in ds and COLUMNS in ds and not any(t in ds for t in PIXEL_DATA_TAGS):
        return "image attributes present but no pixel data"
    return None  # pixel data against its geometry: checked by prescan, on the raw bytes


def _add_meta(ds: FileDataset) -> None:
    """No file meta, or one without a Transfer Syntax: say what pydicom read (the writer and
    the pixel codecs need it)."""
    meta = ds.file_meta if getattr(ds, "file_meta", None) is not None else FileMetaDataset()
    if "TransferSyntaxUID" not in meta:
        implicit = ds.original_encoding[0] if ds.original_encoding else True
        meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    ds.file_meta = meta


def _bulk_ranges(ds: Dataset) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for tag in list(ds.keys()):
        if not is_bulk(int(tag)):
            continue
        item = ds.get_item(tag)
        if isinstance(item, RawDataElement) and item.value is not None:
            ranges.append((item.value_tell, item.value_tell + len(item.value)))
    return sorted(ranges)
