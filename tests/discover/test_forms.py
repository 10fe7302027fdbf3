"""The one module of identifier forms: one date-forms generator, and text cleaning, the leak
guard (verify's index) and the pixel classifier finding the same identifiers."""

from __future__ import annotations

import datetime as dt

import pytest
from pydicom.dataset import Dataset

from pacsguard.deid.identifiers import collect
from pacsguard.deid.leakguard import LeakGuard
from pacsguard.deid.text import TextCleaner
from pacsguard.discover.forms import (
    MONTH_NUMBERS,
    date_forms,
    id_forms,
    is_name_word,
    name_forms,
    parse_date,
    value_parts,
)
from pacsguard.discover.identifiers import IdentifierIndex
from pacsguard.discover.judge import Source
from pacsguard.pixels.classify import IdentifierMatcher, is_phi_pattern
from pacsguard.profile import Policy

DAY = dt.date(2024, 1, 5)
GUARD = LeakGuard(Policy())


@pytest.mark.parametrize(("text", "full_year", "padded", "named"), [
    ("20240105", True, True, False),
    ("2024-01-05", True, True, False),
    ("2024/01/05", True, True, False),
    ("2024.01.05", True, True, False),
    ("05/01/2024", True, True, False),  # DD/MM/YYYY
    ("05.01.2024", True, True, False),  # DD.MM.YYYY
    ("05-01-2024", True, True, False),
    ("01/05/2024", True, True, False),  # MM/DD/YYYY
    ("5/1/2024", True, False, False),
    ("1.5.2024", True, False, False),
    ("05/01/24", False, True, False),
    ("5.1.24", False, False, False),
    ("5 jan 2024", True, False, True),
    ("05 january 2024", True, True, True),
    ("january 5 2024", True, False, True),
    ("2024 jan 05", True, True, True),
    ("5 janvier 2024", True, False, True),
    ("janv 05 2024", True, True, True),
])
def test_the_date_generator_produces_each_form(text: str, full_year: bool, padded: bool,
                                               named: bool) -> None:
    forms = {f.text: f for f in date_forms(DAY)}
    assert forms[text][1:] == (full_year, padded, named)


def test_date_forms_are_listed_once_and_french_months_keep_their_accents() -> None:
    texts = [f.text for f in date_forms(dt.date(2023, 2, 14))]
    assert len(texts) == len(set(texts))
    assert {"14 février 2023", "14 fevrier 2023", "14 feb 2023", "02/14/2023"} <= set(texts)
    assert {"14 août 2023", "aout 14 2023"} <= {f.text for f in date_forms(dt.date(2023, 8, 14))}
    assert MONTH_NUMBERS["décembre"] == MONTH_NUMBERS["dec"] == 12


def test_parse_date_takes_only_whole_yyyymmdd() -> None:
    assert parse_date("19870314") == dt.date(1987, 3, 14)
    assert parse_date("19871314") is None
    assert parse_date("1987031412") is None
    assert parse_date("1987-03-14") is None


def test_id_and_name_forms() -> None:
    assert id_forms("PID-004711") == ["PID-004711", "PID004711", "004711"]
    assert id_forms("AB") == ["AB"]
    whole, words = name_forms("van der BERG^Anna Maria^^Dr")
    assert {"van der BERG Anna Maria Dr", "Anna Maria van der BERG", "van der BERG Anna",
            "Anna van der BERG"} <= set(whole)
    assert words == ["van", "der", "BERG", "Anna", "Maria", "Dr"]
    assert [w for w in words if is_name_word(w)] == ["BERG", "Anna", "Maria"]
    assert value_parts("DOE^JOHN") == ["DOE^JOHN", "DOE", "JOHN"]


def test_a_name_is_searched_for_by_its_spellings_not_by_its_particles() -> None:
    index = IdentifierIndex()
    index.add_name("van der BERG^Anna", "name", Source(0x00100010, "", "name", "PN", False))
    assert index.matcher.keys_in_text("Anna van der Berg") == [b"annavanderberg"]
    assert index.matcher.keys_in_text("VAN DER BERG, Anna") == [b"vanderberganna"]
    assert not index.matcher.keys_in_text("Van Der")  # particles of any name: no identifier
    assert TextCleaner(collect(_named("van der BERG^Anna")), None).clean(
        "Anna van der Berg, or Berg Anna") == "[NAME], or [NAME] [NAME]"


def _named(name: str) -> Dataset:
    ds = Dataset()
    ds.PatientName = name
    return ds


def _original() -> Dataset:
    ds = Dataset()
    ds.PatientName = "ZEBRAFINCH^QUENTIN"
    ds.PatientID = "PGX-449127"
    ds.PatientBirthDate = "19610314"
    ds.Modality = "OT"
    return ds


@pytest.mark.parametrize(("written", "token"), [
    ("Quentin Zebrafinch", "[NAME]"),
    ("ZEBRAFINCH^QUENTIN", "[NAME]"),
    ("PGX-449127", "[ID]"),
    ("PGX449127", "[ID]"),
    ("14/03/1961", "[DOB]"),
    ("1961-03-14", "[DOB]"),
    ("14.03.1961", "[DOB]"),
])
def test_cleaner_guard_and_pixel_classifier_find_the_same_identifiers(written: str, token: str
                                                                       ) -> None:
    ds = _original()
    text = f"seen {written} today"
    # text cleaning replaces it
    assert TextCleaner(collect(ds), None).clean(text) == f"seen {token} today"
    # the leak guard (verify's index) would report it if it stayed
    index = GUARD.index(ds)
    found = {index.info[k].category for k in index.matcher.keys_in_text(text)}
    assert found & {"name", "id", "date"}
    # the pixel classifier, fed either way (deid: the cleaner's strings; verify: the index's
    # values), calls the line an identifier, as read by OCR with a look-alike or two
    for identifiers in (sorted(collect(ds).all_strings()),
                        sorted({i.value for i in index.info.values()})):
        matcher = IdentifierMatcher.build(identifiers)
        assert matcher.matches(written)
        assert matcher.matches(written.replace("0", "O").replace("1", "l"))


def test_named_dates_are_indexed_and_read_in_pixels_in_english_and_french() -> None:
    index = GUARD.index(_original())
    matcher = IdentifierMatcher.build(["19610314"])
    for written in ("14 March 1961", "14 mars 1961", "March 14, 1961", "14-MAR-1961"):
        assert [index.info[k].value for k in index.matcher.keys_in_text(written)] == ["19610314"]
        assert matcher.matches(written)
    assert not matcher.matches("14 June 1961")


def test_the_cleaner_replaces_every_form_of_the_birth_date() -> None:
    cleaner = TextCleaner(collect(_original()), None)
    for form in date_forms(dt.date(1961, 3, 14)):
        assert cleaner.clean(f"dob {form.text.upper()}.") == "dob [DOB].", form
    assert cleaner.clean("on 14 March 1962") == "on [DATE]"  # another date: not the birth date


def test_two_digit_years_are_cleaned_but_not_searched_for() -> None:
    ds = _original()
    assert TextCleaner(collect(ds), None).clean("dob 14/03/61") == "dob [DOB]"
    # "3/1/61" normalises to three short numbers: the index leaves short-year forms out
    assert not GUARD.index(ds).matcher.keys_in_text("dob 14/03/61")


def test_pixel_classifier_matches_accented_names_read_without_accents() -> None:
    matcher = IdentifierMatcher.build(["HÉLÈNE^MÜLLER"])
    assert matcher.matches("HELENE MULLER")
    assert matcher.matches("Müller Hélène")


@pytest.mark.parametrize("name", sorted(MONTH_NUMBERS))
def test_the_pixel_date_pattern_knows_every_month_name(name: str) -> None:
    # a date of someone else, read in the pixels: a PHI pattern in every language listed
    assert is_phi_pattern(f"12 {name.upper()} 2023")
    assert is_phi_pattern(f"{name.capitalize()} 12, 2023")


def test_name_words_keep_their_digits_and_lose_them() -> None:
    # The index looked for "DOE2" before the forms were shared, text cleaning for "DOE":
    # the one module gives both, so neither user is weaker than it was.
    _, words = name_forms("DOE2^JOHN")
    assert {"DOE2", "DOE", "JOHN"} <= set(words)
