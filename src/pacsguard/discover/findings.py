"""What verify reports: one :class:`Leak` per problem, and the :class:`VerifyReport` around them.

A leak names where it is (output path, sequence path and tag) and what kind it is;
the identifying value itself is only carried when the user asked for ``--show-values``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["KINDS", "Leak", "VerifyReport", "mask_value"]

#: Every leak kind, with the sentence the reports show for it.
KINDS: dict[str, str] = {
    "value": "identifying value in a decoded attribute",
    "raw-bytes": "identifying value in the raw bytes of an element (private, UN, unknown VR)",
    "file-meta": "identifying value in the file meta information",
    "preamble": "identifying value in the 128-byte preamble",
    "file-bytes": "identifying value in file bytes outside any parsed element",
    "path": "identifying value in a file or folder name",
    "original-uid": "a UID of the originals remains",
    "dangling-reference": "a UID reference that resolved in the originals no longer resolves",
    "grouping": "patient/study/series grouping differs from the originals",
    "date-shift": "dates of one patient not shifted by one consistent offset",
    "unreadable": "output file cannot be read as DICOM",
    "validity": "dciodvfy error the original did not have",
    "pixel-text": "identifying text read in pixel data or an overlay",
}


def mask_value(value: str) -> str:
    """Mask ``value`` for display: keep the first character of each component.

    ``ZEBRA^QUENTIN`` becomes ``Z*****^Q*****``; the star count is fixed so that
    the length of the value is not disclosed either.
    """
    parts = []
    for comp in value.split("^"):
        words = [w[:1] + "*****" if w else "" for w in comp.split(" ")]
        parts.append(" ".join(words))
    return "^".join(parts)


@dataclass(frozen=True, order=True)
class Leak:
    """One leak in a de-identified output.

    Parameters
    ----------
    path
        Output file (or folder) path relative to the de-identified root, POSIX style.
    location
        Where in the file: a sequence path and tag such as ``(0040,A730)[0].(0040,A160)``,
        or ``preamble``, ``file-meta (0002,0016)``, ``file name``, ``folder name``, ``@offset``.
    kind
        One of :data:`KINDS`.
    category
        What the value is when known (name, id, date, uid, contact, ...), else ``""``.
    detail
        A sentence without identifying values: why this is an alarm.
    value
        The identifying value found, only when the report was asked to show values.
    source
        The attribute of the original the identifier came from (``PatientName (0010,0010)``,
        or a private creator and tag), ``""`` when not from one attribute.
    action
        That attribute's PS3.15 action under the options the output declares (``X``, ``Z``,
        ``D``, ``U``, ``C``; ``private`` for the private tag rules), ``""`` when none applies.
    """

    path: str
    location: str
    kind: str
    category: str = ""
    detail: str = ""
    value: str | None = None
    source: str = ""
    action: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["value"] is None:
            del d["value"]
        for optional in ("source", "action"):
            if not d[optional]:
                del d[optional]
        return d


@dataclass
class VerifyReport:
    """Everything ``pacsguard verify`` found; ``ok`` is True when there is no leak."""

    originals: int = 0
    outputs: int = 0
    other_files: int = 0
    paired: int = 0
    counts_in: dict[str, int] = field(default_factory=dict)
    counts_out: dict[str, int] = field(default_factory=dict)
    leaks: list[Leak] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    identifiers_indexed: int = 0
    pixel_check: str = "skipped"
    validity_check: str = "skipped"
    show_values: bool = False

    @property
    def ok(self) -> bool:
        return not self.leaks

    def by_kind(self) -> dict[str, int]:
        return dict(sorted(Counter(leak.kind for leak in self.leaks).items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "originals": self.originals,
            "outputs": self.outputs,
            "other_files": self.other_files,
            "paired": self.paired,
            "counts_in": self.counts_in,
            "counts_out": self.counts_out,
            "identifiers_indexed": self.identifiers_indexed,
            "pixel_check": self.pixel_check,
            "validity_check": self.validity_check,
            "values_shown": self.show_values,
            "leaks_by_kind": self.by_kind(),
            "leaks": [leak.to_dict() for leak in sorted(self.leaks)],
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
