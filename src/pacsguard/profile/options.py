"""The PS3.15 Annex E options, by the standard's own names, with their CID 7050 codes."""

from __future__ import annotations

from enum import StrEnum

from pacsguard.errors import PolicyError


class Option(StrEnum):
    """A de-identification option of PS3.15 Table E.1-1, valued by its standard name."""

    CLEAN_PIXEL_DATA = "Clean Pixel Data"
    CLEAN_RECOGNIZABLE_VISUAL_FEATURES = "Clean Recognizable Visual Features"
    CLEAN_GRAPHICS = "Clean Graphics"
    CLEAN_STRUCTURED_CONTENT = "Clean Structured Content"
    CLEAN_DESCRIPTORS = "Clean Descriptors"
    RETAIN_LONGITUDINAL_FULL_DATES = "Retain Longitudinal Temporal Information with Full Dates"
    RETAIN_LONGITUDINAL_MODIFIED_DATES = (
        "Retain Longitudinal Temporal Information with Modified Dates"
    )
    RETAIN_PATIENT_CHARACTERISTICS = "Retain Patient Characteristics"
    RETAIN_DEVICE_IDENTITY = "Retain Device Identity"
    RETAIN_UIDS = "Retain UIDs"
    RETAIN_SAFE_PRIVATE = "Retain Safe Private"
    RETAIN_INSTITUTION_IDENTITY = "Retain Institution Identity"


#: Code value (scheme DCM, CID 7050 "De-identification Method") of the Basic Profile.
BASIC_PROFILE_CODE = ("113100", "Basic Application Confidentiality Profile")

#: CID 7050 code value and meaning of each option.
OPTION_CODES: dict[Option, tuple[str, str]] = {
    Option.CLEAN_PIXEL_DATA: ("113101", "Clean Pixel Data Option"),
    Option.CLEAN_RECOGNIZABLE_VISUAL_FEATURES: ("113102", "Clean Recognizable Visual Features Option"),
    Option.CLEAN_GRAPHICS: ("113103", "Clean Graphics Option"),
    Option.CLEAN_STRUCTURED_CONTENT: ("113104", "Clean Structured Content Option"),
    Option.CLEAN_DESCRIPTORS: ("113105", "Clean Descriptors Option"),
    Option.RETAIN_LONGITUDINAL_FULL_DATES: (
        "113106", "Retain Longitudinal Temporal Information Full Dates Option"),
    Option.RETAIN_LONGITUDINAL_MODIFIED_DATES: (
        "113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
    Option.RETAIN_PATIENT_CHARACTERISTICS: ("113108", "Retain Patient Characteristics Option"),
    Option.RETAIN_DEVICE_IDENTITY: ("113109", "Retain Device Identity Option"),
    Option.RETAIN_UIDS: ("113110", "Retain UIDs Option"),
    Option.RETAIN_SAFE_PRIVATE: ("113111", "Retain Safe Private Option"),
    Option.RETAIN_INSTITUTION_IDENTITY: ("113112", "Retain Institution Identity Option"),
}

#: Column of Table E.1-1 (as in ../shared/data) that holds each option's action.
OPTION_COLUMNS: dict[str, Option] = {
    "cleanGraphOpt": Option.CLEAN_GRAPHICS,
    "cleanStructContOpt": Option.CLEAN_STRUCTURED_CONTENT,
    "cleanDescOpt": Option.CLEAN_DESCRIPTORS,
    "rtnLongFullDatesOpt": Option.RETAIN_LONGITUDINAL_FULL_DATES,
    "rtnLongModifDatesOpt": Option.RETAIN_LONGITUDINAL_MODIFIED_DATES,
    "rtnPatCharsOpt": Option.RETAIN_PATIENT_CHARACTERISTICS,
    "rtnDevIdOpt": Option.RETAIN_DEVICE_IDENTITY,
    "rtnInstIdOpt": Option.RETAIN_INSTITUTION_IDENTITY,
    "rtnUIDsOpt": Option.RETAIN_UIDS,
    "rtnSafePrivOpt": Option.RETAIN_SAFE_PRIVATE,
}

#: Short command-line spellings (``--option retain-safe-private``) next to the standard names.
_SLUGS = {opt.value.lower().replace(" ", "-"): opt for opt in Option}
_SLUGS.update({
    "retain-full-dates": Option.RETAIN_LONGITUDINAL_FULL_DATES,
    "retain-modified-dates": Option.RETAIN_LONGITUDINAL_MODIFIED_DATES,
})


def parse_option(text: str) -> Option:
    """Return the option named ``text``: its standard name (any case) or its slug.

    Raises
    ------
    PolicyError
        If no option has that name.
    """
    key = " ".join(text.split()).lower()
    for opt in Option:
        if opt.value.lower() == key or opt.value.lower() + " option" == key:
            return opt
    found = _SLUGS.get(key.replace(" ", "-"))
    if found is None:
        names = "; ".join(o.value for o in Option)
        raise PolicyError(f"unknown option {text!r}; the options are: {names}")
    return found


def check_consistent(options: frozenset[Option]) -> None:
    """Reject combinations the standard forbids."""
    both = {Option.RETAIN_LONGITUDINAL_FULL_DATES, Option.RETAIN_LONGITUDINAL_MODIFIED_DATES}
    if both <= options:
        raise PolicyError(
            "options 'Retain Longitudinal Temporal Information with Full Dates' and "
            "'... with Modified Dates' exclude each other"
        )
