"""Resource limits for reading one input file (the policy's ``[limits]`` table).

Checked by :mod:`pacsguard.dicom.prescan` on the raw bytes, before pydicom allocates anything,
for ``deid``, ``scan`` and ``verify`` alike::

    [limits]
    max_file_mb = 1024              # too-large
    max_inflated_mb = 256           # deflate-bomb: absolute cap on the inflated dataset
    max_inflate_ratio = 100         # deflate-bomb: inflated size / file size
    max_depth = 32                  # nesting-too-deep: sequences within sequences
    max_elements = 20000            # too-many-elements: per dataset (or sequence's items)
    max_total_elements = 500000     # too-many-elements: in the whole file
    max_frames = 10000              # too-many-frames
    max_pixel_mb = 256              # too-large: decoded image size (Rows x Columns x ...)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pacsguard.errors import PolicyError

_MB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Safe defaults; every limit has its own reason code (see the module docstring)."""

    max_file_mb: int = 1024
    max_inflated_mb: int = 256
    max_inflate_ratio: int = 100
    max_depth: int = 32
    max_elements: int = 20_000
    max_total_elements: int = 500_000
    max_frames: int = 10_000
    max_pixel_mb: int = 256

    def __post_init__(self) -> None:
        for name, (low, high) in _RANGES.items():
            value = getattr(self, name)
            if type(value) is not int or not low <= value <= high:
                raise PolicyError(f"[limits] {name}: expected a whole number from {low} to {high}")

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * _MB

    @property
    def max_inflated_bytes(self) -> int:
        return self.max_inflated_mb * _MB

    @property
    def max_pixel_bytes(self) -> int:
        return self.max_pixel_mb * _MB

    def to_json(self) -> dict[str, int]:
        return asdict(self)


# The depth cap stays well inside Python's recursion limit (pydicom reads sequences recursively).
_RANGES: dict[str, tuple[int, int]] = {
    "max_file_mb": (1, 1 << 20), "max_inflated_mb": (1, 1 << 16), "max_inflate_ratio": (1, 100_000),
    "max_depth": (1, 100), "max_elements": (16, 10_000_000),
    "max_total_elements": (16, 100_000_000), "max_frames": (1, 10_000_000),
    "max_pixel_mb": (1, 1 << 20),
}

DEFAULT_LIMITS = Limits()


def limits_from(section: Any) -> Limits:
    """Validate a ``[limits]`` table; errors name the entry."""
    if not isinstance(section, Mapping):
        raise PolicyError("[limits] must be a table")
    bad = set(section) - set(_RANGES)
    if bad:
        raise PolicyError(f"[limits] unknown key {sorted(bad)[0]!r} (expected {', '.join(_RANGES)})")
    return Limits(**dict(section))
