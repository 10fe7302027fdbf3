"""What becomes of one input instance: the five outcomes every path reports."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Outcome"]


class Outcome(StrEnum):
    """What became of one input instance; the values are what journals and reports say."""

    WRITTEN = "written"  #: de-identified and stored
    QUARANTINED = "quarantined"  #: refused with a reason: never written, not even in part
    SKIPPED = "skipped"  #: not a DICOM composite instance (or a DICOMDIR): nothing to do
    FAILED = "failed"  #: could not be read or stored (I/O): a rerun retries it
    DUPLICATE = "duplicate"  #: another input has the same SOP Instance UID and won
