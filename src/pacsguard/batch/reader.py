"""Read one input file as DICOM, strictly: a file that is not DICOM, or is truncated or
corrupt, raises :class:`~pacsguard.errors.NotDicom` or :class:`~pacsguard.errors.CorruptDicom`
with a reason that names no value."""

from __future__ import annotations

import io
import logging
import mmap
import os
import warnings
from pathlib import Path
from typing import BinaryIO

from pydicom import config, dcmread
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from pacsguard.errors import CorruptDicom, LimitExceeded, NotDicom
from pacsguard.limits import DEFAULT_LIMITS, Limits
from pacsguard.prescan import prescan

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
PIXEL_DATA = 0x7FE00010
_UNDEFINED = 0xFFFFFFFF


def quiet_pydicom() -> None:
    """Tolerant decoding, and no pydicom warnings: they quote element values (identifiers)."""
    config.settings.reading_validation_mode = config.IGNORE
    config.settings.writing_validation_mode = config.IGNORE
    warnings.filterwarnings("ignore", module=r"pydicom(\..*)?")
    logging.getLogger("pydicom").setLevel(logging.CRITICAL)


def _looks_like_dataset(head: bytes) -> bool:
    # A dataset without preamble (old ACR-NEMA style) starts with a low even group tag.
    return len(head) >= 8 and head[1] == 0 and head[0] % 2 == 0 and head[0] <= 0x10 and head[3] == 0


def read_dicom(path: Path, limits: Limits = DEFAULT_LIMITS) -> FileDataset:
    """Parse ``path`` completely enough to de-identify it, or raise. The structure is
    validated on the raw bytes first (:func:`~pacsguard.prescan.prescan`), so pydicom never
    sees a length, count or geometry it would trust to its cost."""
    try:
        with path.open("rb") as fh:
            has_prefix = _dicom_head(fh.read(132))
            size = os.fstat(fh.fileno()).st_size
            _check_size(size, limits)  # before mapping anything
            # Mapped, not read: the walk touches headers only, and pixel pages stay in the
            # page cache.
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _parse(fh, data, has_prefix, limits)
    except (NotDicom, CorruptDicom):
        raise
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise CorruptDicom("unreadable", f"cannot read the file ({why})") from exc


def read_dicom_bytes(data: bytes, limits: Limits = DEFAULT_LIMITS) -> FileDataset:
    """:func:`read_dicom` for an instance already in memory (received over the network)."""
    has_prefix = _dicom_head(data[:132])
    _check_size(len(data), limits)
    return _parse(io.BytesIO(data), data, has_prefix, limits)


def _dicom_head(head: bytes) -> bool:
    """Whether the file has the DICM prefix; NotDicom when it is not DICOM at all."""
    has_prefix = head[128:132] == b"DICM"
    if not has_prefix and not _looks_like_dataset(head):
        raise NotDicom("not-dicom", "no DICOM preamble and not a DICOM dataset")
    return has_prefix


def _check_size(size: int, limits: Limits) -> None:
    if size > limits.max_file_bytes:
        raise LimitExceeded("too-large", f"the file is larger than {limits.max_file_mb} MB")


def _parse(fh: BinaryIO, data: bytes | mmap.mmap, has_prefix: bool, limits: Limits) -> FileDataset:
    try:
        prescan(data, limits)
        fh.seek(0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = dcmread(fh, force=not has_prefix)
    except (NotDicom, CorruptDicom, OSError):
        raise
    except InvalidDicomError as exc:
        raise NotDicom("not-dicom", "not a DICOM file") from exc
    except Exception as exc:  # pydicom raises many types on malformed input
        raise CorruptDicom("parse-error", f"DICOM parse error ({type(exc).__name__})") from exc
    for w in caught:
        text = str(w.message)
        if "End of file" in text or "delimiter" in text or "truncated" in text.lower():
            raise CorruptDicom("truncated", "the file ends before its data does")
    _check_complete(ds)
    _add_meta(ds)  # no file meta, or one without a Transfer Syntax: say what pydicom read
    if len(ds) == 0 or (0x00080016 not in ds and 0x00041200 not in ds):
        raise NotDicom("not-dicom", "no SOP Class UID: not a DICOM composite object")
    return ds


def _check_complete(ds: FileDataset) -> None:
    keys = list(ds.keys())
    if not keys:
        raise NotDicom("not-dicom", "empty dataset")
    last = ds.get_item(keys[-1])
    length = getattr(last, "length", None)
    value = getattr(last, "value", None)
    if isinstance(value, bytes) and length not in (None, _UNDEFINED) and len(value) < length:
        raise CorruptDicom("truncated", f"element ({keys[-1].group:04X},{keys[-1].element:04X}) is cut short")
    if (0x00280010 in ds and 0x00280011 in ds) and PIXEL_DATA not in ds and not any(
            t in ds for t in (0x7FE00008, 0x7FE00009)):
        raise CorruptDicom("truncated", "image attributes present but no pixel data")
    # Pixel data against its geometry: checked by prescan, on the raw bytes.


def _add_meta(ds: FileDataset) -> None:
    meta = ds.file_meta if getattr(ds, "file_meta", None) is not None else FileMetaDataset()
    if "TransferSyntaxUID" not in meta:
        implicit = ds.original_encoding[0] if ds.original_encoding else True
        meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    ds.file_meta = meta


def is_dicomdir(ds: FileDataset) -> bool:
    meta_class = getattr(ds.file_meta, "MediaStorageSOPClassUID", "") if ds.file_meta else ""
    return str(meta_class) == MEDIA_STORAGE_DIRECTORY or 0x00041220 in ds
