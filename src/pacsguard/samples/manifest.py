"""What a sample writer wrote: files, kinds, and the identifiers planted in them.

The manifest is the ground truth the engine's tests and the leak verifier are
checked against. It holds identifiers in clear (the data is synthetic), so it
is written *beside* the sample tree, never inside it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["FileEntry", "Manifest", "PatientEntry"]


@dataclass
class FileEntry:
    """One written file.

    ``path`` is relative to the tree root, with ``/`` separators. ``kind`` is a
    builder kind (``CT``, ``SR`` ...), ``DICOMDIR`` or ``non-dicom``.
    ``variant`` is ``""`` for a plain Explicit VR Little Endian file, else one
    of ``implicit-vr``, ``deflated``, ``truncated``, ``dicomdir-member``.
    ``planted`` lists the identifier strings in the content (as in
    :attr:`PatientEntry.identifiers`), ``places`` the tag paths holding them
    (``meta:`` prefix for file meta, ``(gggg,eeee)[i].`` for nesting) and
    ``path_planted`` the identifiers visible in the path (``_`` read as space).
    """

    path: str
    kind: str
    patient: int | None
    study: int | None
    variant: str = ""
    transfer_syntax: str | None = None
    sop_instance_uid: str | None = None
    planted: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    path_planted: list[str] = field(default_factory=list)


@dataclass
class PatientEntry:
    """One patient of the tree and every identifier of theirs, by category.

    Categories: ``names``, ``ids``, ``dates``, ``phones``, ``addresses``,
    ``emails``, ``accession_numbers``, ``institutions``, ``uids`` (every
    study, series, SOP instance and frame-of-reference UID written).
    ``study_dates`` are ISO dates, one per study, in study order.
    """

    index: int
    patient_id: str
    study_dates: list[str]
    identifiers: dict[str, list[str]]


@dataclass
class Manifest:
    """Everything a sample writer wrote. ``layout`` is ``demo-tree`` or ``ct-series``."""

    layout: str
    seed: int
    patients: list[PatientEntry] = field(default_factory=list)
    files: list[FileEntry] = field(default_factory=list)

    def to_json(self) -> str:
        """Stable, pretty JSON (sorted keys) so equal manifests give equal text."""
        return json.dumps(asdict(self), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        raw: dict[str, Any] = json.loads(text)
        return cls(
            layout=raw["layout"],
            seed=raw["seed"],
            patients=[PatientEntry(**p) for p in raw["patients"]],
            files=[FileEntry(**f) for f in raw["files"]],
        )

    def all_identifiers(self, patient: int) -> list[str]:
        """Every identifier string of one patient, all categories flattened."""
        entry = self.patients[patient]
        return sorted({v for values in entry.identifiers.values() for v in values})
