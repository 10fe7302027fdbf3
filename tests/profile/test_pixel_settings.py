"""``[pixels]`` becomes typed settings once, at the boundary; errors name the entry."""

from __future__ import annotations

import re

import pytest

from pacsguard.errors import PolicyError
from pacsguard.pixels import PixelPolicy
from pacsguard.profile.pixels import Detector, PixelMode, PixelSettings, RegionRule
from pacsguard.profile.policy import Policy, policy_from_mapping

REGION = {"name": "band", "rects": [[0, 0, 640, 40]], "manufacturer": "Acme", "rows": 480}


def test_policy_file_gives_typed_settings() -> None:
    policy = policy_from_mapping({"pixels": {"clean": False, "detector": "tesseract",
                                             "mode": "phi-text", "margin": 6,
                                             "regions": [REGION]}})
    assert policy.clean_pixels is False
    assert policy.pixels.detector is Detector.TESSERACT
    assert policy.pixels.mode is PixelMode.PHI_TEXT
    assert policy.pixels.margin == 6
    assert policy.pixels.regions == (RegionRule("band", ((0, 0, 640, 40),), manufacturer="Acme",
                                                rows=480),)
    assert policy.pixels.to_json()["regions"] == [REGION]


def test_digest_is_the_one_journals_already_hold() -> None:
    # Measured on the code before the settings were typed: a journal made then still resumes.
    assert Policy().digest() == "f1f639798fb679f0"
    with_regions = policy_from_mapping({"pixels": {"detector": "tesseract", "mode": "phi-text",
                                                   "margin": 6, "regions": [REGION]}})
    assert with_regions.digest() == "51944250346de965"


@pytest.mark.parametrize(("section", "names"), [
    ({"detector": "easyocr"}, "detector"),
    ({"mode": "some-text"}, "mode"),
    ({"margin": 65}, "margin"),
    ({"margin": "4"}, "margin"),
    ({"regions": [{"name": "x", "rects": [[0, 0, 0, 5]], "rows": 4}]}, "regions[0]"),
    ({"regions": {"name": "x"}}, "regions"),
    ({"colour": "red"}, "colour"),
    ({"clean": "yes"}, "clean"),
])
def test_bad_entries_are_refused_by_name(section: dict[str, object], names: str) -> None:
    with pytest.raises(PolicyError, match=re.escape(names)):
        policy_from_mapping({"pixels": section})


def test_settings_refuse_untyped_values() -> None:
    with pytest.raises(PolicyError):
        PixelSettings(detector="rapidocr")  # type: ignore[arg-type]


def test_pixel_policy_takes_enums_at_the_boundary() -> None:
    assert PixelPolicy(mode="all-text").mode is PixelMode.ALL_TEXT  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        PixelPolicy(mode="auto")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        PixelPolicy(detector="easyocr")  # type: ignore[arg-type]
