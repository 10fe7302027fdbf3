"""Serialise a de-identified dataset, and name its output from pseudonymised values only."""

from __future__ import annotations

import io
import struct

from pydicom import dcmwrite
from pydicom.charset import default_encoding
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, validate_file_meta
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element, write_dataset, write_file_meta_info
from pydicom.multival import MultiValue
from pydicom.tag import tag_in_exception
from pydicom.uid import UID
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

from pacsguard.deid.engine import DeidResult
from pacsguard.dicom.tags import is_bulk
from pacsguard.errors import FailClosed

__all__ = ["Bulk", "encode", "output_name"]

_LONG = frozenset(str(vr) for vr in EXPLICIT_VR_LENGTH_32)
#: VRs whose str values pydicom writes as their characters, with their padding byte
_PADDING = {**dict.fromkeys(("AE", "AS", "CS", "DA", "DT", "TM", "UR", "LO", "LT", "SH", "ST",
                             "UC", "UT"), b" "), "UI": b"\x00"}
Bulk = list[tuple[int, int]]  #: (start, end) of top-level pixel and overlay values
_UNDEFINED = 0xFFFFFFFF


def encode(ds: Dataset) -> tuple[bytes, Bulk | None]:
    """The whole output file, in memory: the leak guard searches exactly what is written;
    and where its top-level pixel and overlay values lie in it (what verify's reader would
    find), or None when only a parse of the bytes can tell.

    The bytes are pydicom's (``dcmwrite`` in the file format); a dataset in a little-endian,
    undeflated public syntax is written by :func:`_write_file`, which gives the same bytes
    faster: it writes the raw (kept, never decoded) elements itself."""
    _decode_if_reencoded(ds)
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if (meta is None or not isinstance(syntax, UID) or not syntax.is_transfer_syntax
            or syntax.is_private or syntax.is_deflated or not syntax.is_little_endian
            or any(t >> 16 in (0, 2) for t in ds._dict)):
        buffer = io.BytesIO()
        dcmwrite(buffer, ds, enforce_file_format=True)
        return buffer.getvalue(), None
    return _write_file(ds, syntax)


def _write_file(ds: Dataset, syntax: UID) -> tuple[bytes, Bulk | None]:
    """``dcmwrite(fp, ds, enforce_file_format=True)`` for the syntaxes :func:`encode` lets
    through; the pipeline owns ``ds``, so its file meta is updated rather than copied."""
    meta = ds.file_meta
    ds_class, meta_class = ds.get("SOPClassUID"), meta.get("MediaStorageSOPClassUID")
    if meta_class is None or (ds_class and ds_class != meta_class):
        meta.MediaStorageSOPClassUID = ds_class
    ds_uid, meta_uid = ds.get("SOPInstanceUID"), meta.get("MediaStorageSOPInstanceUID")
    if meta_uid is None or (ds_uid and ds_uid != meta_uid):
        meta.MediaStorageSOPInstanceUID = ds_uid
    validate_file_meta(meta, enforce_standard=True)
    preamble = getattr(ds, "preamble", None) or b"\x00" * 128
    if len(preamble) != 128:
        raise ValueError("the preamble must be 128 bytes long")
    if "PixelData" in ds:  # PS3.5 A.4: encapsulated pixel data has an undefined length
        ds["PixelData"].is_undefined_length = syntax.is_compressed
    fp = DicomBytesIO()
    fp.is_implicit_VR, fp.is_little_endian = syntax.is_implicit_VR, True
    fp.write(preamble)
    fp.write(b"DICM")
    write_file_meta_info(fp, meta, enforce_standard=True)
    bulk = _write_body(fp, ds)
    return fp.getvalue(), bulk


def _write_body(fp: DicomBytesIO, ds: Dataset) -> Bulk | None:
    """pydicom's ``write_dataset``, with raw elements written directly: a raw element is
    its tag, VR, length and stored bytes, which is all pydicom writes for it too. Returns
    where bulk values were written (None: pydicom's loop wrote everything)."""
    implicit = fp.is_implicit_VR
    if (implicit, True) != ds.original_encoding or (
            ds.original_character_set != ds._character_set):
        write_dataset(fp, ds)  # every element re-encoded: pydicom's own loop
        return None
    encoding = ds.get("SpecificCharacterSet", default_encoding)
    write, pack = fp.write, struct.pack
    bulk: Bulk = []
    for tag in sorted(ds.keys()):
        if tag.element == 0 and tag.group > 6:
            continue  # retired group lengths are not written (PS3.5 7.2)
        item: DataElement | RawDataElement = ds.get_item(tag)
        value = item.value
        if is_bulk(tag):
            bulk.append(_bulk_range(fp, item, implicit, encoding))
            continue
        if isinstance(item, RawDataElement) and type(value) is bytes and item.length != _UNDEFINED:
            size = len(value)
            if implicit:
                write(pack("<HHL", tag.group, tag.element, size))
                write(value)
                continue
            vr = item.VR
            if vr in _LONG:
                write(pack("<HH2sHL", tag.group, tag.element, vr.encode(), 0, size))
                write(value)
                continue
            if vr is not None and len(vr) == 2 and size <= 0xFFFF:
                write(pack("<HH2sH", tag.group, tag.element, vr.encode(), size))
                write(value)
                continue
        elif isinstance(item, DataElement):
            text = _text_value(item)
            if text is not None:
                vr = item.VR
                if implicit:
                    write(pack("<HHL", tag.group, tag.element, len(text)))
                    write(text)
                    continue
                if vr in _LONG:
                    write(pack("<HH2sHL", tag.group, tag.element, vr.encode(), 0, len(text)))
                    write(text)
                    continue
                if len(text) <= 0xFFFF:
                    write(pack("<HH2sH", tag.group, tag.element, vr.encode(), len(text)))
                    write(text)
                    continue
        with tag_in_exception(tag):
            write_data_element(fp, item, encoding)
    return bulk


def _text_value(elem: DataElement) -> bytes | None:
    """The bytes pydicom writes for a string or text value that is ASCII (the same in every
    character set DICOM allows), or None to let pydicom write it."""
    padding = _PADDING.get(elem.VR)
    if padding is None or elem.is_undefined_length:
        return None
    value = elem.value
    if value is None or value == "":
        return b""
    if type(value) is str or type(value) is UID:
        text = value
    elif isinstance(value, MultiValue | list | tuple) and all(type(v) is str for v in value):
        if not value:
            return b""
        text = "\\".join(value)
    else:
        return None
    if not text.isascii():
        return None
    data = text.encode("ascii")
    return data + padding if len(data) % 2 else data


def _bulk_range(fp: DicomBytesIO, item: DataElement | RawDataElement, implicit: bool,
                encoding: object) -> tuple[int, int]:
    """Write a pixel or overlay data element (pydicom's writer) and return where its value
    lies: after the header, before the delimiter of an undefined length."""
    start = fp.tell()
    with tag_in_exception(item.tag):
        write_data_element(fp, item, encoding)  # type: ignore[arg-type]
    end = fp.tell()
    undefined = (item.length if isinstance(item, RawDataElement)
                 else 0xFFFFFFFF * item.is_undefined_length) == _UNDEFINED
    header = 8 if implicit or str(item.VR) not in _LONG else 12
    return start + header, end - 8 if undefined else end


def _decode_if_reencoded(ds: Dataset) -> None:
    """Kept elements stay raw (byte-exact); that only works if the output keeps the input's
    VR encoding. When pixel work changed the transfer syntax (or the file's own encoding did
    not match its declared one), decode everything so pydicom re-encodes it."""
    original = getattr(ds, "original_encoding", None)
    syntax = getattr(ds.file_meta, "TransferSyntaxUID", None)
    if not original or syntax is None:
        return
    mismatch = (original[0], original[1]) != (syntax.is_implicit_VR, syntax.is_little_endian)
    # pydicom reads a file whose body is implicit VR despite an explicit transfer syntax
    # (it warns and goes on): its raw elements then carry no VR to write.
    if not mismatch and not syntax.is_implicit_VR:
        mismatch = any(getattr(ds.get_item(t), "VR", "") is None for t in ds.keys())
    if mismatch:
        for _ in ds.iterall():
            pass  # iterating converts every raw element, at every depth


def output_name(result: DeidResult) -> str:
    """``PSEUDONYM/STUDY-UID/SERIES-UID/SOP-UID.dcm``: only pseudonymised values, so an
    input path (which often holds a name) never reaches the output tree."""
    if not result.sop_uid:
        raise FailClosed("missing-sop-instance-uid", "no SOP Instance UID: cannot name the output")
    study = result.study_uid or "unknown-study"
    series = result.series_uid or "unknown-series"
    for part in (result.pseudonym, study, series, result.sop_uid):
        if "/" in part or part.startswith(".") or "\\" in part:
            raise FailClosed("unsafe-output-name", "a pseudonymized value is not a safe file name")
    return f"{result.pseudonym}/{study}/{series}/{result.sop_uid}.dcm"
