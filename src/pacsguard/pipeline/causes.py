"""Which unexpected exceptions are the input's fault, not a bug: a precise reason code."""

from __future__ import annotations

__all__ = ["known_cause"]


def known_cause(exc: BaseException) -> tuple[str, str] | None:
    """A precise reason for an exception whose cause is the input, not a bug: where it was
    raised says so (pydicom's character set codecs fail on text the declared set cannot hold,
    with IndexError, LookupError or UnicodeError alike)."""
    if isinstance(exc, MemoryError):
        return "too-large", "the file needs more memory than is available"
    if isinstance(exc, RecursionError):
        return "nesting-too-deep", "the file nests deeper than can be processed"
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return None
    code = tb.tb_frame.f_code
    where = code.co_filename.replace("\\", "/")
    if where.endswith("pydicom/charset.py") or code.co_name in ("_encode_personname",
                                                                 "_decode_personname"):
        return "charset-undecodable", "a text value does not fit its declared Specific Character Set"
    return None
