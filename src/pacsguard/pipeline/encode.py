"""Serialise a de-identified dataset, and name its output from pseudonymised values only."""

from __future__ import annotations

import io

from pydicom import dcmwrite
from pydicom.dataset import Dataset

from pacsguard.deid.engine import DeidResult
from pacsguard.errors import FailClosed

__all__ = ["encode", "output_name"]


def encode(ds: Dataset) -> bytes:
    """The whole output file, in memory: the leak guard searches exactly what is written."""
    _decode_if_reencoded(ds)
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


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
