"""Classifier and region rules: pure functions, no OCR."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset

from pacsguard.errors import PolicyError
from pacsguard.pixels.classify import IdentifierMatcher, _approx_in, canonical, classify, is_phi_pattern
from pacsguard.pixels.regions import DEFAULT_REGIONS, matching_rects
from pacsguard.profile.pixels import RegionRule, rules_from_policy

IDS = ["DOE^JOHN", "PID001234", "19870314", "ACC778899"]


@pytest.mark.parametrize(
    "text",
    [
        "DOE^JOHN",
        "DOE*JOHN",  # tesseract reads ^ as *
        "DOE~JOHN",  # rapidocr reads ^ as ~
        "Doe, John",
        "John Doe",
        "PIDOO1234",  # O/0 confusion
        "PID0O1234",
        "P1D001234",  # 1/I confusion
        "ID: PID001Z34",  # one edit in a 9-char ID
        "14/03/1987",
        "1987-03-14",
        "14-Mar-1987",
        "Acc: ACC778899",
    ],
)
def test_identifier_variants_match(text: str) -> None:
    assert classify(text, IdentifierMatcher.build(IDS)) == "identifier"


@pytest.mark.parametrize("text", ["Series 3", "kVp 120", "W 400 L 40", "Axial", "5.0 mm", "Img 12"])
def test_technical_text_is_other(text: str) -> None:
    assert classify(text, IdentifierMatcher.build(IDS)) == "other"


@pytest.mark.parametrize(
    "text", ["DOB 02/11/1955", "MRN 88812345", "Name: SMITH^ANNA", "KAHN, LEA", "2001.12.24"]
)
def test_foreign_phi_is_pattern(text: str) -> None:
    assert is_phi_pattern(text)
    assert classify(text, IdentifierMatcher.build(IDS)) == "phi-pattern"


def test_canonical_absorbs_confusions() -> None:
    assert canonical("DOE^JOHN") == canonical("D0E*J0HN") == canonical("doe~john")
    assert canonical("l1I|") == "1111"


def test_short_name_parts_need_whole_words() -> None:
    m = IdentifierMatcher.build(["LI^WU"])
    assert m.matches("Wu Li")
    assert not m.matches("CLINICAL")


def test_cut_short_reads_match_inside_longer_identifiers() -> None:
    m = IdentifierMatcher.build(["ACC442734", "MARTIN^PIERRE"])
    assert m.matches("ACC442") and m.shortfall("ACC442") == 3
    assert m.matches("C44273") and m.shortfall("C44273") == 3  # the middle of it
    assert m.matches("PIERR")  # five characters are enough
    assert not m.matches("ACC4")  # four are not: too many harmless words would match
    assert m.shortfall("ACC442734") == 0  # whole: nothing missing
    assert m.shortfall("Axial") == 0


def _sellers(needle: str, hay: str, k: int) -> bool:
    """Reference: the edit matrix column by column (Sellers 1980)."""
    prev = list(range(len(needle) + 1))
    if prev[-1] <= k:
        return True
    for ch in hay:
        cur = [0]
        for j, nc in enumerate(needle, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (nc != ch)))
        if cur[-1] <= k:
            return True
        prev = cur
    return False


@given(
    st.text(alphabet="AB01C", min_size=1, max_size=14),
    st.text(alphabet="AB01C", max_size=20),
    st.integers(min_value=0, max_value=3),
)
@settings(max_examples=3000, deadline=None)
def test_bit_vector_search_agrees_with_the_edit_matrix(needle: str, hay: str, k: int) -> None:
    assert _approx_in(needle, hay, k) == _sellers(needle, hay, k)


def _ds(**kw: object) -> Dataset:
    ds = Dataset()
    for k, v in kw.items():
        setattr(ds, k, v)
    return ds


def test_region_rule_matching() -> None:
    rule = RegionRule(
        "x",
        ((0, 0, 640, 47),),
        manufacturer="Philips",
        model="iU22|EPIQ",
        rows=480,
        image_type=("ORIGINAL",),
    )
    ok = _ds(
        Manufacturer="Philips Medical Systems",
        ManufacturerModelName="iU22",
        Rows=480,
        ImageType=["ORIGINAL", "PRIMARY"],
    )
    assert rule.matches(ok)
    assert matching_rects(ok, [rule]) == [(0, 0, 640, 47)]
    assert not rule.matches(
        _ds(Manufacturer="Philips", ManufacturerModelName="iU22", Rows=600, ImageType=["ORIGINAL"])
    )
    assert not rule.matches(
        _ds(Manufacturer="GE", ManufacturerModelName="iU22", Rows=480, ImageType=["ORIGINAL"])
    )
    assert not rule.matches(
        _ds(Manufacturer="Philips", ManufacturerModelName="iU22", Rows=480, ImageType=["DERIVED"])
    )


def test_default_regions_match_their_example() -> None:
    us = _ds(
        Manufacturer="ACUSON",
        ManufacturerModelName="SEQUOIA",
        Rows=480,
        Columns=640,
        SOPClassUID="1.2.840.10008.5.1.4.1.1.6.1",
    )
    assert matching_rects(us, DEFAULT_REGIONS) == [(0, 0, 640, 30)]
    assert matching_rects(_ds(Manufacturer="ACME", Rows=480, Columns=640), DEFAULT_REGIONS) == []


def test_policy_parsing_and_errors() -> None:
    rules = rules_from_policy(
        [
            {
                "name": "a",
                "manufacturer": "X",
                "rows": 10,
                "rects": [[0, 0, 5, 5]],
                "image_type": "SECONDARY",
            }
        ]
    )
    assert rules[0].image_type == ("SECONDARY",) and rules[0].rects == ((0, 0, 5, 5),)
    for bad in (
        {"name": "a", "rects": [[0, 0, 5, 5]]},  # no condition
        {"name": "a", "rows": 10, "rects": [[0, 0, 0, 5]]},  # empty rect
        {"name": "a", "rows": 10, "rects": [[0, 0, 5]]},
        {"name": "a", "rows": True, "rects": [[0, 0, 5, 5]]},
        {"name": "a", "rows": 10, "rects": [[0, 0, 5, 5]], "colour": "red"},
    ):
        with pytest.raises(PolicyError, match=r"pixels\.regions\[0\]"):
            rules_from_policy([bad])
