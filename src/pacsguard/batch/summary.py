"""A run's summary: counts and rates, never an identifier."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pacsguard import __version__
from pacsguard.outcome import Outcome

__all__ = ["SUMMARY_NAME", "Summary"]

#: The summary's name in the output tree (counts only: it may travel with the data).
SUMMARY_NAME = "pacsguard-summary.json"


@dataclass
class Summary:
    """Counts and rates; never an identifier."""

    counts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    patients: set[str] = field(default_factory=set)
    bytes_in: int = 0
    bytes_out: int = 0
    resumed: int = 0
    seconds: float = 0.0
    loops: int = 0
    unreadable_dirs: int = 0
    links_outside: int = 0
    pixels_cleaned: int = 0
    #: written instances by the way they went: "streamed" (pixel data copied by the kernel)
    #: or the reason they took the full path (pacsguard.dicom.streaming.FULL_PATH_REASONS)
    ways: Counter[str] = field(default_factory=Counter)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if self.counts[Outcome.QUARANTINED] or self.counts[Outcome.FAILED] else 0

    def to_json(self) -> dict[str, Any]:
        processed = sum(self.counts.values())
        secs = max(self.seconds, 1e-9)
        return {
            "tool": f"pacsguard {__version__}",
            **self.meta,
            "outcomes": {str(k): self.counts.get(k, 0) for k in Outcome},
            "already_done": self.resumed,
            "reasons": dict(sorted(self.reasons.items())),
            "patients": len(self.patients),
            "pixels_cleaned": self.pixels_cleaned,
            "streamed": self.ways.get("streamed", 0),
            "full_path": {k: v for k, v in sorted(self.ways.items()) if k != "streamed"},
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "seconds": round(self.seconds, 3),
            "files_per_second": round(processed / secs, 1),
            "mb_per_second": round(self.bytes_in / 1e6 / secs, 1),
            "directory_loops_skipped": self.loops,
            "links_outside_input_skipped": self.links_outside,
            "unreadable_directories": self.unreadable_dirs,
            "exit_code": self.exit_code,
        }
