"""Pixel settings of a policy (``[pixels]``): typed, validated once, frozen.

Region rules are fixed blanking rectangles chosen by header values, as in CTP's
DicomPixelAnonymizer. A :class:`RegionRule` matches when every condition it sets holds:

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
from enum import StrEnum
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

__all__ = ["DEFAULT_PIXELS", "Detector", "PixelMode", "PixelSettings", "Rect", "RegionRule",
           "rules_from_policy"]

Rect = tuple[int, int, int, int]


class Detector(StrEnum):
    """The text detector that finds burned-in text."""

    RAPIDOCR = "rapidocr"
    TESSERACT = "tesseract"


class PixelMode(StrEnum):
    """Which detected text lines are blanked."""

    AUTO = "auto"  #: all text in US, SC and OT; personal text elsewhere
    ALL_TEXT = "all-text"
    PHI_TEXT = "phi-text"


_RULE_KEYS = ("name", "rects", "manufacturer", "model", "rows", "columns", "sop_class_uid",
              "image_type")


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

    def to_mapping(self) -> dict[str, Any]:
        """The policy-file table this rule reads from (for the summary and the digest)."""
        out: dict[str, Any] = {"name": self.name, "rects": [list(r) for r in self.rects]}
        for key in ("manufacturer", "model", "rows", "columns", "sop_class_uid"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.image_type:
            out["image_type"] = list(self.image_type)
        return out

    @classmethod
    def from_mapping(cls, entry: Mapping[str, Any], where: str = "pixels.regions") -> RegionRule:
        """Build a rule from one policy-file table; raises PolicyError naming ``where``."""
        unknown = set(entry) - set(_RULE_KEYS)
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


@dataclass(frozen=True)
class PixelSettings:
    """``[pixels]``: how burned-in text is found and blanked (whether at all is the policy's
    ``clean_pixels``)."""

    detector: Detector = Detector.RAPIDOCR
    mode: PixelMode = PixelMode.AUTO
    margin: int = 4  #: pixels added around each blanked box
    regions: tuple[RegionRule, ...] = ()  #: the site's rules, added to the built-in ones

    def __post_init__(self) -> None:
        if not isinstance(self.detector, Detector):
            raise PolicyError(f"[pixels] detector: {self.detector!r} is not rapidocr or tesseract")
        if not isinstance(self.mode, PixelMode):
            raise PolicyError(f"[pixels] mode: {self.mode!r} is not auto, all-text or phi-text")
        if not 0 <= self.margin <= 64:
            raise PolicyError("[pixels] margin: expected 0 to 64 pixels")

    def to_json(self) -> dict[str, Any]:
        return {"detector": self.detector.value, "mode": self.mode.value, "margin": self.margin,
                "regions": [r.to_mapping() for r in self.regions]}

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any]) -> PixelSettings:
        """``[pixels]`` without its ``clean`` key; every entry checked, errors name it."""
        kwargs: dict[str, Any] = {}
        for key, value in section.items():
            if key == "regions":
                if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                    raise PolicyError("[pixels] regions: expected [[pixels.regions]] tables")
                kwargs["regions"] = rules_from_policy(value)
            elif key == "margin":
                if type(value) is not int:
                    raise PolicyError("[pixels] margin: expected a whole number of pixels")
                kwargs["margin"] = value
            elif key in ("detector", "mode"):
                if not isinstance(value, str):
                    raise PolicyError(f"[pixels] {key}: expected a string")
                enum = Detector if key == "detector" else PixelMode
                try:
                    kwargs[key] = enum(value)
                except ValueError:
                    choices = ", ".join(e.value for e in enum)
                    raise PolicyError(f"[pixels] {key}: {value!r} is not one of {choices}") from None
            else:
                raise PolicyError(f"[pixels] unknown key {key!r}")
        return cls(**kwargs)


DEFAULT_PIXELS = PixelSettings()
