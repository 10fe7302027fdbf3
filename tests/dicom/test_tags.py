"""Tag constants are the dictionary's keywords; one overlay and one curve range, as PS3.5 7.6."""

from __future__ import annotations

import pytest
from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset

from pacsguard.dicom import tags
from pacsguard.dicom.tags import (
    OVERLAY_DATA,
    PATIENT_ID,
    PIXEL_DATA_TAGS,
    in_group,
    is_bulk,
    is_curve_group,
    is_overlay_group,
    tag_for,
)
from pacsguard.pixels.overlays import overlay_groups
from pacsguard.profile import rule_for

_NOT_TAGS = {"UNDEFINED_LENGTH"}


def _constants() -> dict[str, int]:
    return {name: value for name, value in vars(tags).items()
            if name.isupper() and type(value) is int and name not in _NOT_TAGS}


def test_every_constant_is_named_after_its_keyword() -> None:
    found = _constants()
    assert len(found) > 90 and "PIXEL_DATA" in found
    for name, value in found.items():
        keyword = keyword_for_tag(value)
        assert keyword, f"{name}: {value:08X} is in no dictionary"
        assert name.replace("_", "") == keyword.upper(), f"{name} is not {keyword}"
        assert "__" not in name and not name.startswith("_") and not name.endswith("_")


def test_pixel_data_has_one_name_per_form() -> None:
    assert [keyword_for_tag(t) for t in PIXEL_DATA_TAGS] == [
        "PixelData", "FloatPixelData", "DoubleFloatPixelData"]


def test_tables_refuse_an_unknown_keyword() -> None:
    assert tag_for("PatientID") == PATIENT_ID
    with pytest.raises(KeyError, match="PatientIdentifier"):
        tag_for("PatientIdentifier")


@pytest.mark.parametrize(("group", "overlay"), [
    (0x6000, True), (0x6002, True), (0x601E, True), (0x6020, False), (0x60FE, False),
    (0x60FF, False), (0x6001, False), (0x601F, False), (0x5FFE, False), (0x6100, False)])
def test_overlay_groups_are_the_even_groups_6000_to_601E(group: int, overlay: bool) -> None:
    assert is_overlay_group(group) is overlay
    assert is_bulk(in_group(OVERLAY_DATA, group)) is overlay


@pytest.mark.parametrize(("group", "curve"), [
    (0x5000, True), (0x501E, True), (0x5020, False), (0x50FE, False), (0x5001, False),
    (0x4FFE, False)])
def test_curve_groups_are_the_even_groups_5000_to_501E(group: int, curve: bool) -> None:
    assert is_curve_group(group) is curve


def test_bulk_data() -> None:
    assert all(is_bulk(t) for t in PIXEL_DATA_TAGS)
    assert is_bulk(tags.EXTENDED_OFFSET_TABLE) and is_bulk(tags.EXTENDED_OFFSET_TABLE_LENGTHS)
    assert not is_bulk(tags.OVERLAY_ROWS) and not is_bulk(tags.PATIENT_NAME)
    assert in_group(OVERLAY_DATA, 0x6002) == 0x60023000


def test_profile_and_pixel_cleaner_use_the_same_range() -> None:
    assert rule_for(0x601E3000).id == "60xx3000"  # type: ignore[union-attr]
    assert rule_for(0x601E4000).id == "60xx4000"  # type: ignore[union-attr]
    assert rule_for(0x60203000) is None and rule_for(0x60FE4000) is None
    assert rule_for(0x501E0010).id == "50xxxxxx"  # type: ignore[union-attr]
    assert rule_for(0x50200010) is None
    ds = Dataset()
    for group in (0x6000, 0x601E, 0x6020, 0x60FE):
        ds.add_new(in_group(tags.OVERLAY_ROWS, group), "US", 8)
    assert overlay_groups(ds) == [0x6000, 0x601E]
