"""Unit tests: keys, pseudonyms, dates, text cleaning, private rules, policy validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from pacsguard.deid.dates import shift_da, shift_dt, shift_text_dates
from pacsguard.deid.engine import HeaderEngine
from pacsguard.deid.identifiers import collect
from pacsguard.deid.keys import SecretKey, parse_key_text
from pacsguard.deid.pseudonyms import Pseudonymizer
from pacsguard.deid.text import TextCleaner
from pacsguard.errors import PolicyError, SecretKeyError
from pacsguard.profile import Option, Policy, load_policy, parse_option
from pacsguard.profile.private_kb import creator_known, disposition


def test_key_never_shows_in_repr(key: SecretKey) -> None:
    assert key.material.hex() not in repr(key) and key.fingerprint in repr(key)
    with pytest.raises(SecretKeyError, match="too short"):
        parse_key_text("ab" * 8, "test")


def test_pseudonyms_are_keyed_and_deterministic(key: SecretKey) -> None:
    a, b = Pseudonymizer(key, Policy()), Pseudonymizer(key, Policy())
    other = Pseudonymizer(SecretKey(b"\x01" * 32, "x"), Policy())
    assert a.patient_pseudonym("PID-1") == b.patient_pseudonym("PID-1") != other.patient_pseudonym("PID-1")
    assert a.patient_pseudonym("PID-1") != a.patient_pseudonym("PID-2")
    uid = a.uid("1.2.3.4")
    assert uid == b.uid("1.2.3.4") != other.uid("1.2.3.4")
    assert uid.startswith("2.25.") and len(uid) <= 64
    assert a.uid("1.2.840.10008.5.1.4.1.1.2") == "1.2.840.10008.5.1.4.1.1.2"  # standard UID kept
    shifts = {a.date_shift_days(f"P{i}") for i in range(200)}
    assert min(shifts) >= -1095 and max(shifts) <= -30 and len(shifts) > 100


def test_date_shifts_keep_intervals() -> None:
    assert shift_da("20200301", -1) == "20200229"
    assert shift_da("20200230", -1) is None
    assert shift_da("20200101-20200110", 10) == "20200111-20200120"
    assert shift_dt("20200301120000.5+0100", -1) == "20200229120000.5+0100"
    text = "scans on 2020-03-01 and 05/03/2020, report 7 March 2020"
    assert shift_text_dates(text, -1) == "scans on 2020-02-29 and 04/03/2020, report 6 March 2020"
    assert shift_text_dates(text, None) == "scans on [DATE] and [DATE], report [DATE]"


def _patient() -> Dataset:
    ds = Dataset()
    ds.PatientName = "MÜLLER^Jürgen^Karl"
    ds.PatientID = "PID-004711"
    ds.PatientBirthDate = "19560312"
    ds.AccessionNumber = "ACC778899"
    ds.PatientTelephoneNumbers = "+49 30 1234 5678"
    ds.PatientAddress = "Hauptstrasse 5, 10115 Berlin"
    ds.ReferringPhysicianName = "House^Gregory"
    return ds


def test_text_cleaning_tokens() -> None:
    cleaner = TextCleaner(collect(_patient()), None)
    out = cleaner.clean(
        "Jurgen Muller (pid PID004711, acc ACC778899) born 12.03.1956, ref. Dr House, "
        "tel +49 30 1234 5678, juergen@mail.example, lives Hauptstrasse 5, 10115 Berlin")
    for secret in ("Jurgen", "Muller", "004711", "778899", "1956", "House", "5678", "@",
                   "Hauptstrasse"):
        assert secret not in out, (secret, out)
    for token in ("[NAME]", "[ID]", "[DOB]", "[PHONE]", "[EMAIL]", "[ADDRESS]"):
        assert token in out, (token, out)
    assert cleaner.clean("CT THORAX 1.25 mm 120 kVp") == "CT THORAX 1.25 mm 120 kVp"


def test_clean_descriptors_shifts_dates_in_text(key: SecretKey) -> None:
    ds = _patient()
    ds.StudyDescription = "follow-up of 2020-03-01"
    engine = HeaderEngine(Policy(), key)
    shift = engine.pseudo.date_shift_days("PID-004711")
    engine.deidentify(ds)
    assert ds.StudyDescription == "follow-up of " + shift_da("20200301", shift)[:4] + "-" + \
        shift_da("20200301", shift)[4:6] + "-" + shift_da("20200301", shift)[6:]  # type: ignore[index]


def test_private_rules(key: SecretKey) -> None:
    assert creator_known(0x0019, "GEMS_ACQU_01") and not creator_known(0x0033, "ACME")
    assert disposition(0x0009, " gems_iden_01 ", 0xE3) == "h"

    def build() -> Dataset:
        ds = _patient()
        ds.add_new(0x00190010, "LO", "GEMS_ACQU_01")
        ds.add_new(0x00191002, "SL", 912)  # k in the KB
        ds.add_new(0x00330010, "LO", "ACME HOSPITAL PACS 1.0")
        ds.add_new(0x00331010, "LO", "MÜLLER")
        ds.add_new(0x00331011, "UN", b"PID-004711")
        return ds

    ds = build()
    HeaderEngine(Policy(), key).deidentify(ds)
    assert ds[0x00191002].value == 912 and 0x00190010 in ds
    assert 0x00330010 not in ds and 0x00331010 not in ds and 0x00331011 not in ds
    ds = build()
    HeaderEngine(Policy(options=frozenset()), key).deidentify(ds)
    assert not [t for t in ds.keys() if t.group % 2]
    ds = build()
    from pacsguard.profile import policy_from_mapping
    HeaderEngine(policy_from_mapping({"private": {"acme hospital pacs 1.0": "keep"}}), key).deidentify(ds)
    assert ds[0x00331010].value == "MÜLLER"


def test_policy_validation_names_the_entry(tmp_path: Path) -> None:
    cases = {
        '[actions]\nStudyDescriptoin = "keep"\n': "StudyDescriptoin",
        '[actions]\nStudyDescription = "maybe"\n': "maybe",
        '[profile]\noptions = ["Retain Everything"]\n': "Retain Everything",
        '[profile]\ndate_shift_days = [-10, 10]\n': "must not contain 0",
        '[profil]\n': "unknown section",
        '[profile]\ncolour = 1\n': "colour",
        '[profile]\npseudonym_format = "PT"\n': "{hash",
        '[profile]\nadd_options = ["Retain Longitudinal Temporal Information with Full Dates"]\n':
            "exclude each other",
        'not toml = = =': "policy file",
    }
    for text, needle in cases.items():
        p = tmp_path / "p.toml"
        p.write_text(text)
        with pytest.raises(PolicyError, match=needle.replace("{", r"\{")):
            load_policy(p)
    p.write_text('[profile]\nbase = "basic"\nadd_options = ["retain-uids"]\n'
                 '[actions]\n"(0008,1030)" = "keep"\n')
    policy = load_policy(p)
    assert policy.options == {Option.RETAIN_UIDS} and policy.overrides[0x00081030].value == "K"


def test_options_by_standard_name() -> None:
    assert parse_option("retain safe private option") is Option.RETAIN_SAFE_PRIVATE
    assert parse_option("Retain Longitudinal Temporal Information with Modified Dates") is \
        Option.RETAIN_LONGITUDINAL_MODIFIED_DATES
    with pytest.raises(PolicyError):
        parse_option("Retain Nothing")
