"""Fixed blanking rectangles chosen by header values, as in CTP's DicomPixelAnonymizer: the
built-in starter set, and the rectangles that apply to one file. The rule type and its
policy-file syntax are the policy's (:mod:`pacsguard.profile.pixels`)."""

from __future__ import annotations

from collections.abc import Sequence

from pydicom.dataset import Dataset

from pacsguard.profile.pixels import Rect, RegionRule

__all__ = ["DEFAULT_REGIONS", "matching_rects"]


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
