"""``scan``: an inventory of the personal data in a file or a tree, and its risk flags."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from pacsguard.dicom.fswalk import iter_files, rel_posix
from pacsguard.dicom.reader import read_dicom_file
from pacsguard.dicom.tags import (
    ENCAPSULATED_DOCUMENT,
    MEDIA_STORAGE_SOP_CLASS_UID,
    MODALITY,
    OVERLAY_COMMENTS,
    OVERLAY_DATA,
    OVERLAY_DESCRIPTION,
    OVERLAY_LABEL,
    PATIENT_ID,
    PATIENT_NAME,
    SERIES_INSTANCE_UID,
    STUDY_INSTANCE_UID,
    in_group,
    is_overlay_group,
)
from pacsguard.dicom.values import value_text
from pacsguard.discover.categories import CATEGORIES, categorize, keyword
from pacsguard.discover.elements import Element, fmt_tag, text_values, walk
from pacsguard.discover.findings import mask_value
from pacsguard.discover.identifiers import DEFAULT_STOPLIST, printable_runs
from pacsguard.discover.matcher import norm_text
from pacsguard.discover.risk import pixel_risk
from pacsguard.discover.search import DICOMDIR_CLASS
from pacsguard.errors import CorruptDicom, NotDicom
from pacsguard.profile import creator_known, disposition

__all__ = ["AttributeStat", "RiskFlag", "ScanReport", "scan_tree"]

_EXAMPLES = 3
CATEGORY_ORDER = (*CATEGORIES[:5], "free-text-mention", *CATEGORIES[5:])


@dataclass
class AttributeStat:
    """One attribute (or private element) carrying personal data, across the tree."""

    key: str
    keyword: str
    category: str
    vr: str
    files: set[str] = field(default_factory=set)
    patients: set[str] = field(default_factory=set)
    examples: list[str] = field(default_factory=list)
    disposition: str | None = None

    def to_dict(self, show_values: bool) -> dict[str, Any]:
        return {
            "attribute": self.key,
            "keyword": self.keyword,
            "category": self.category,
            "vr": self.vr,
            "files": len(self.files),
            "patients": len(self.patients),
            "examples": [e if show_values else mask_value(e) for e in self.examples],
            **({"kb_disposition": self.disposition} if self.key.count('"') else {}),
        }


@dataclass
class RiskFlag:
    flag: str
    detail: str
    files: set[str] = field(default_factory=set)
    patients: set[str] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        return {"flag": self.flag, "detail": self.detail, "files": len(self.files),
                "patients": len(self.patients)}


@dataclass
class ScanReport:
    """What ``pacsguard scan`` found; values are masked unless ``show_values``."""

    files_total: int = 0
    dicom_files: int = 0
    other_files: int = 0
    unreadable: int = 0
    dicomdirs: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    attributes: dict[tuple[str, str], AttributeStat] = field(default_factory=dict)
    risks: dict[tuple[str, str], RiskFlag] = field(default_factory=dict)
    show_values: bool = False

    def by_category(self) -> dict[str, int]:
        out: dict[str, int] = {c: 0 for c in CATEGORY_ORDER}
        for stat in self.attributes.values():
            out[stat.category] = out.get(stat.category, 0) + 1
        return {k: v for k, v in out.items() if v}

    def sorted_attributes(self) -> list[AttributeStat]:
        order = {c: i for i, c in enumerate(CATEGORY_ORDER)}
        return sorted(self.attributes.values(),
                      key=lambda s: (order.get(s.category, 99), -len(s.files), s.key))

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files_total,
            "dicom_files": self.dicom_files,
            "other_files": self.other_files,
            "unreadable": self.unreadable,
            "dicomdirs": self.dicomdirs,
            "counts": self.counts,
            "values_shown": self.show_values,
            "attributes_by_category": self.by_category(),
            "attributes": [s.to_dict(self.show_values) for s in self.sorted_attributes()],
            "risks": [r.to_dict() for r in sorted(self.risks.values(), key=lambda r: r.flag)],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


def _person_words(elements: list[Element]) -> set[bytes]:
    """Names and IDs of one file, as normalised words, to spot them in its free text."""
    words: set[bytes] = set()
    for el in elements:
        if el.vr not in ("PN", "LO", "SH"):
            continue
        cat = categorize(el.tag, el.vr, el.under_removed)
        if cat not in ("name", "id", "institution-staff") or (el.vr != "PN" and cat != "id"):
            continue
        if el.elem is None:
            continue
        for v in text_values(el.elem):
            for w in norm_text(v).split():
                if len(w) >= 4 and w.decode("latin-1") not in DEFAULT_STOPLIST:
                    words.add(w)
    return words


def _key(el: Element) -> str:
    if el.creator is None:
        return el.pattern
    head, _, _ = el.pattern.rpartition("(")
    return f'{head}({el.tag >> 16:04X},"{el.creator}",{el.tag & 0xFF:02X})'


def _flag(report: ScanReport, flag: str, detail: str, rel: str, patient: str) -> None:
    risk = report.risks.setdefault((flag, detail), RiskFlag(flag, detail))
    risk.files.add(rel)
    risk.patients.add(patient)


def _risks(report: ScanReport, ds: Dataset, elements: list[Element], rel: str, patient: str
           ) -> None:
    risk = pixel_risk(ds)  # deid's own predicate: the flag names what deid would stop
    if risk is not None and risk[0] == "burned-in-annotation":
        _flag(report, "burned-in-annotation", "BurnedInAnnotation is YES", rel, patient)
    elif risk is not None:
        modality = _stored(ds, MODALITY).upper()
        _flag(report, "burned-in-annotation",
              f"BurnedInAnnotation absent on a risky kind of image ({modality or 'no modality'})",
              rel, patient)
    if ENCAPSULATED_DOCUMENT in ds:
        _flag(report, "encapsulated-document", "EncapsulatedDocument present", rel, patient)
    for tag in list(ds.keys()):
        group, elem = tag.group, tag.element
        if is_overlay_group(group) and elem == OVERLAY_DATA & 0xFFFF:
            labelled = any(in_group(t, group) in ds
                           for t in (OVERLAY_DESCRIPTION, OVERLAY_LABEL, OVERLAY_COMMENTS))
            _flag(report, "overlay", "overlay plane with a text label or description"
                  if labelled else "overlay plane (may hold burned text)", rel, patient)
    creators: dict[tuple[int, str], bool] = {}
    for el in elements:
        if el.creator:
            creators[(el.tag >> 16, el.creator)] = True
    for (group, creator) in creators:
        if not creator_known(group, creator):
            _flag(report, "unknown-private-creator",
                  f'private creator "{creator}" in group {group:04X} unknown to the knowledge base',
                  rel, patient)


def scan_tree(root: Path, *, show_values: bool = False) -> ScanReport:
    """Inventory the personal data in ``root`` (a DICOM file or a folder)."""
    # pydicom warnings quote values: never show them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _scan(root, show_values)


def _scan(root: Path, show_values: bool) -> ScanReport:
    report = ScanReport(show_values=show_values)
    patients: set[str] = set()
    studies: set[str] = set()
    series: set[str] = set()
    for path in iter_files([root], unique=True):
        report.files_total += 1
        try:
            df = read_dicom_file(path)
        except NotDicom:
            report.other_files += 1
            continue
        except CorruptDicom:
            report.unreadable += 1
            continue
        report.dicom_files += 1
        rel = rel_posix(path, root)
        ds = df.ds
        patient = _stored(ds, PATIENT_ID) or _stored(ds, PATIENT_NAME)
        if _stored(df.file_meta, MEDIA_STORAGE_SOP_CLASS_UID) == DICOMDIR_CLASS:
            report.dicomdirs += 1  # an index of the others: not an instance of its own
        else:
            patients.add(patient)
            studies.add(_stored(ds, STUDY_INSTANCE_UID))
            series.add(_stored(ds, SERIES_INSTANCE_UID))
        elements = list(walk(df.file_meta)) + list(walk(ds))
        words = _person_words(elements)
        for el in elements:
            if el.vr == "SQ":
                continue
            category = categorize(el.tag, el.vr, el.under_removed)
            if category is None or el.elem is None:
                continue
            values = text_values(el.elem)
            if not values and el.creator and el.raw and el.vr in ("UN", "OB"):
                values = printable_runs(el.raw)
            if not values:
                continue
            if category == "free-text" and any(
                set(norm_text(v).split()) & words for v in values
            ):
                category = "free-text-mention"
            key = _key(el)
            stat = report.attributes.get((key, category))
            if stat is None:
                disp = None
                if el.creator:
                    disp = disposition(el.tag >> 16, el.creator, el.tag & 0xFF)
                name = keyword(el.tag) if el.creator is None else "private"
                stat = AttributeStat(key, name or fmt_tag(el.tag), category, el.vr,
                                     disposition=disp)
                report.attributes[(key, category)] = stat
            stat.files.add(rel)
            stat.patients.add(patient)
            for v in values:
                if len(stat.examples) < _EXAMPLES and v not in stat.examples:
                    stat.examples.append(v[:80])
        _risks(report, ds, elements, rel, patient)
    report.counts = {"patients": len(patients), "studies": len(studies), "series": len(series),
                     "instances": report.dicom_files - report.dicomdirs}
    return report


def _stored(ds: Dataset, tag: int) -> str:
    """A grouping key as stored (never decoded: a hostile file's key cannot fail)."""
    return value_text(ds, tag, stored=True)
