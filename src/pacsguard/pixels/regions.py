"""Fixed blanking rectangles chosen by header values, as in CTP's DicomPixelAnonymizer.

A :class:`RegionRule` matches when every condition it sets holds:

* ``manufacturer``, ``model``: case-insensitive substring of Manufacturer (0008,0070) /
  ManufacturerModelName (0008,1090); ``A|B`` means either.
* ``rows``, ``columns``: exact Rows (0028,0010) / Columns (0028,0011).
* ``sop_class_uid``: exact SOP Class UID (0008,0016); ``A|B`` means either.
* ``image_type``: every listed value appears in ImageType (0008,0008).

``rects`` are ``(x, y, width, height)`` in pixels, CTP's order, clipped to the image.
In a policy file (TOML)::

    [[pixels.regions]]
    name = "Philips iU22 480 rows"
    manufacturer = "Philips"
    model = "iU22"
    rows = 480
    rects = [[0, 0, 640, 47]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset

from pacsguard.dicom.tags import (
    COLUMNS,
    IMAGE_TYPE,
    MANUFACTURER,
    MANUFACTURER_MODEL_NAME,
    ROWS,
    SOP_CLASS_UID,
)
from pacsguard.dicom.values import value_text
from pacsguard.errors import PolicyError

__all__ = ["DEFAULT_REGIONS", "Rect", "RegionRule", "matching_rects", "rules_from_policy"]

Rect = tuple[int, int, int, int]


def _contains_any(haystack: str, pattern: str) -> bool:
    hay = haystack.upper()
    return any(alt.strip().upper() in hay for alt in pattern.split("|") if alt.strip())


@dataclass(frozen=True)
class RegionRule:
    """Rectangles to blank in every frame of files whose header matches."""

    name: str
    rects: tuple[Rect, ...]
    manufacturer: str | None = None
    model: str | None = None
    rows: int | None = None
    columns: int | None = None
    sop_class_uid: str | None = None
    image_type: tuple[str, ...] = ()

    def matches(self, ds: Dataset) -> bool:
        """True when every condition of the rule holds for ``ds``."""
        if self.manufacturer is not None and not _contains_any(
            value_text(ds, MANUFACTURER), self.manufacturer
        ):
            return False
        if self.model is not None and not _contains_any(value_text(ds, MANUFACTURER_MODEL_NAME), self.model):
            return False
        for tag, want in ((ROWS, self.rows), (COLUMNS, self.columns)):
            if want is not None and value_text(ds, tag) != str(want):
                return False
        if self.sop_class_uid is not None and value_text(ds, SOP_CLASS_UID) not in {
            u.strip() for u in self.sop_class_uid.split("|")
        }:
            return False
        if self.image_type:
            have = {v.strip().upper() for v in value_text(ds, IMAGE_TYPE).split("\\")}
            if not all(v.upper() in have for v in self.image_type):
                return False
        return True

    @classmethod
    def from_mapping(cls, entry: Mapping[str, Any], where: str = "pixels.regions") -> RegionRule:
        """Build a rule from one policy-file table; raises PolicyError naming ``where``."""
        known = {
            "name",
            "rects",
            "manufacturer",
            "model",
            "rows",
            "columns",
            "sop_class_uid",
            "image_type",
        }
        unknown = set(entry) - known
        if unknown:
            raise PolicyError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise PolicyError(f"{where}: 'name' must be a non-empty string")
        raw_rects = entry.get("rects")
        if not isinstance(raw_rects, Sequence) or not raw_rects:
            raise PolicyError(f"{where} ({name}): 'rects' must list [x, y, width, height] entries")
        rects: list[Rect] = []
        for r in raw_rects:
            if (
                not isinstance(r, Sequence)
                or len(r) != 4
                or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in r)
                or r[2] == 0
                or r[3] == 0
            ):
                raise PolicyError(
                    f"{where} ({name}): each rect is [x, y, width, height], non-negative integers, non-empty"
                )
            rects.append((r[0], r[1], r[2], r[3]))
        kwargs: dict[str, Any] = {}
        for key in ("manufacturer", "model", "sop_class_uid"):
            if key in entry:
                if not isinstance(entry[key], str) or not entry[key].strip():
                    raise PolicyError(f"{where} ({name}): '{key}' must be a non-empty string")
                kwargs[key] = entry[key]
        for key in ("rows", "columns"):
            if key in entry:
                if not isinstance(entry[key], int) or isinstance(entry[key], bool) or entry[key] <= 0:
                    raise PolicyError(f"{where} ({name}): '{key}' must be a positive integer")
                kwargs[key] = entry[key]
        if "image_type" in entry:
            it = entry["image_type"]
            if isinstance(it, str):
                it = [it]
            if not isinstance(it, Sequence) or not all(isinstance(v, str) for v in it):
                raise PolicyError(f"{where} ({name}): 'image_type' must be a string or strings")
            kwargs["image_type"] = tuple(it)
        if not kwargs:
            raise PolicyError(f"{where} ({name}): a rule needs at least one condition")
        return cls(name=name, rects=tuple(rects), **kwargs)


def rules_from_policy(entries: Sequence[Mapping[str, Any]]) -> tuple[RegionRule, ...]:
    """Parse the ``[[pixels.regions]]`` array of a policy file."""
    return tuple(RegionRule.from_mapping(e, f"pixels.regions[{i}]") for i, e in enumerate(entries))


def matching_rects(ds: Dataset, rules: Sequence[RegionRule]) -> list[Rect]:
    """All rectangles of all rules matching ``ds`` (unclipped)."""
    return [r for rule in rules if rule.matches(ds) for r in rule.rects]


_US = "1.2.840.10008.5.1.4.1.1.6.1|1.2.840.10008.5.1.4.1.1.3.1"  # US, US multi-frame

#: Starter set, from the ultrasound and CT entries of CTP's DicomPixelAnonymizer.script
#: (as redistributed in pydicom/deid's deid.dicom). Header bands only; verify on your data.
DEFAULT_REGIONS: tuple[RegionRule, ...] = (
    RegionRule(
        "Philips iU22, 480 rows",
        ((0, 0, 640, 47),),
        manufacturer="Philips",
        model="iU22",
        rows=480,
        sop_class_uid=_US,
    ),
    RegionRule(
        "Philips iU22, 600 rows",
        ((0, 0, 800, 59),),
        manufacturer="Philips",
        model="iU22",
        rows=600,
        sop_class_uid=_US,
    ),
    RegionRule(
        "Philips EPIQ, 600/768 rows",
        ((0, 0, 1024, 49),),
        manufacturer="Philips",
        model="EPIQ",
        sop_class_uid=_US,
    ),
    RegionRule("GE LOGIQ 9", ((0, 0, 640, 30),), manufacturer="GE", model="LOGIQ9", sop_class_uid=_US),
    RegionRule(
        "Acuson Sequoia 640x480",
        ((0, 0, 640, 30),),
        manufacturer="ACUSON",
        model="SEQUOIA",
        rows=480,
        columns=640,
        sop_class_uid=_US,
    ),
    RegionRule(
        "Siemens Antares 1024x768",
        ((0, 0, 1024, 60), (200, 60, 20, 20), (800, 65, 104, 14)),
        manufacturer="Siemens",
        model="Antares",
        rows=768,
        columns=1024,
        sop_class_uid=_US,
    ),
    RegionRule(
        "Toshiba Aplio 400/500 960x720",
        ((0, 0, 960, 60),),
        manufacturer="TOSHIBA",
        model="A400|A500",
        rows=720,
        columns=960,
        sop_class_uid=_US,
    ),
    RegionRule(
        "Philips CT dose screen",
        ((0, 0, 512, 135),),
        manufacturer="PHILIPS",
        image_type=("DOSE",),
        sop_class_uid="1.2.840.10008.5.1.4.1.1.2|1.2.840.10008.5.1.4.1.1.7",
    ),
    RegionRule(
        "Siemens CT dose screen 860 rows",
        ((0, 0, 1132, 60),),
        manufacturer="SIEMENS",
        rows=860,
        image_type=("SECONDARY",),
        sop_class_uid="1.2.840.10008.5.1.4.1.1.2|1.2.840.10008.5.1.4.1.1.7",
    ),
)
