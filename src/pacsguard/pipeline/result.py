"""What the pipeline gives back for one instance: an outcome, and the bytes to store."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from pacsguard.dicom.payload import Payload
from pacsguard.errors import FileRejected
from pacsguard.outcome import Outcome

__all__ = ["InstanceResult"]


@dataclass(frozen=True)
class InstanceResult:
    """One instance's outcome. ``payload`` and ``name`` are set only when it is WRITTEN.

    ``identity`` and ``patient_name`` are the original patient's, filled in only when the
    caller asked for a linkage table; they never reach a log, a report or a file name.
    """

    outcome: Outcome
    handle: str = ""  #: the caller's opaque handle, echoed back; nothing is derived from it
    reason: str = ""  #: a stable reason code (README), empty when written
    detail: str = ""  #: one sentence naming tags and codes, never a value
    #: the de-identified file: a header, and the input's pixel data when it is streamed
    payload: Payload | None = field(default=None, repr=False)
    name: str = ""  #: its relative output name: pseudonyms and new UIDs only
    pseudonym: str = ""
    sop_instance_uid: str = ""  #: the de-identified SOP Instance UID (deliveries key on it)
    sop_class_uid: str = ""  #: as written in the file meta (a forwarder proposes it)
    transfer_syntax: str = ""  #: the written file's transfer syntax
    bytes_in: int = 0
    pixels_cleaned: bool = False
    pixel_result: Any = field(default=None, repr=False)  #: thumbnails for the review gallery
    identity: str = field(default="", repr=False)
    patient_name: str = field(default="", repr=False)
    #: why the instance took the full path rather than the streaming one (see
    #: :data:`pacsguard.dicom.streaming.FULL_PATH_REASONS`); empty when streamed
    full_path: str = ""

    @property
    def data(self) -> bytes | None:
        """The whole de-identified file in memory (a streamed one's pixel data is read from
        its input file now); a sink writes :attr:`payload` instead."""
        return self.payload.read() if self.payload is not None else None

    @property
    def written(self) -> bool:
        return self.outcome is Outcome.WRITTEN

    @classmethod
    def rejected(cls, exc: FileRejected, handle: str = "", bytes_in: int = 0) -> InstanceResult:
        """The outcome an exception carries, with its reason code and detail."""
        return cls(exc.outcome, handle, exc.code, exc.detail, bytes_in=bytes_in)

    def without_data(self) -> InstanceResult:
        """The same result without the file's bytes (what crosses a process boundary once
        the bytes are staged)."""
        return replace(self, payload=None)
