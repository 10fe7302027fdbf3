"""Normalised matching: case, ^ and spaces, date formats, token length and the stop-list."""

from __future__ import annotations

import pytest

from pacsguard.discover.findings import mask_value
from pacsguard.discover.identifiers import IdentifierIndex
from pacsguard.discover.judge import Source
from pacsguard.discover.matcher import Matcher, norm_text


def src(tag: int, category: str = "name", vr: str = "PN") -> Source:
    return Source(tag, "", category, vr, False)


X = src(0x00100010)


def _index() -> IdentifierIndex:
    ix = IdentifierIndex()
    ix.add_name("ZEBRAFINCH^QUENTIN", "name", X)
    ix.add("PGX-449127", "id", src(0x00100020, "id", "LO"))
    ix.add_date("19610314", src(0x00100030, "date", "DA"))
    ix.add_uid("1.2.826.0.1.3680043.9.1234.5", src(0x0020000D, "uid", "UI"))
    ix.add_name("ANNA^LI", "name", src(0x00080090))
    return ix


@pytest.mark.parametrize("text", [
    "ZEBRAFINCH^QUENTIN", "zebrafinch quentin", "Quentin ZEBRAFINCH", "zebrafinch_quentin",
    "pgx449127", "PGX 449127", "pgx-449127.dcm", "born 14/03/1961", "1961-03-14", "14.03.1961",
    "03/14/1961", "14 March 1961", "Mar 14, 1961", "19610314083000",
    "ref 1.2.826.0.1.3680043.9.1234.5 here", "Dr ANNA",
])
def test_identifier_found_in_any_written_form(text: str) -> None:
    assert _index().matcher.keys_in_text(text), text


@pytest.mark.parametrize("text", [
    "Hannah", "annals", "QUENTINS", "PGX-4491270", "1.2.826.0.1.3680043.9.1234.56", "19610315",
    "LI", "patient", "CT CHEST", "",
])
def test_no_false_alarm(text: str) -> None:
    assert _index().matcher.keys_in_text(text) == [], text


def test_short_tokens_and_stop_words_are_not_indexed() -> None:
    ix = IdentifierIndex(min_length=4)
    ix.add_name("LI^PATIENT", "name", X)
    ix.add("AB1", "id", X)
    ix.add("0000", "id", X)
    ix.add_uid("0", src(0x0020000D, "uid", "UI"))
    ix.add_uid("1.2.840.10008.5.1.4.1.1.2", src(0x0020000D, "uid", "UI"))
    ix.add("1.2.840.10008.5.1.4.1.1.2", "private", Source(0x00291010, "ACME", "private", "LO", False))
    ix.add("DEFAULT", "institution-staff", src(0x00081010, "institution-staff", "SH"))
    # The whole name is kept (both orders); its short part and its stop-word part are not;
    # nor a UID that is not one, a UID of the DICOM registry, or a word of the standard.
    assert set(ix.info) == {b"lipatient", b"patientli"}
    assert IdentifierIndex(min_length=2).matcher.size == 0


def test_non_ascii_names_match_in_every_encoding() -> None:
    ix = IdentifierIndex()
    ix.add_name("MÜLLER^Jürgen", "name", X)
    m = ix.matcher
    assert m.keys_in_text("Herr Müller")
    assert m.keys_in_text("MULLER")
    assert m.keys_in_bytes("MÜLLER".encode())
    assert m.keys_in_bytes("Müller".encode("latin-1"))


def test_normalisation_is_case_and_separator_blind() -> None:
    assert norm_text("Zebra^Quentin-01").split() == [b"zebra", b"quentin", b"01"]


def test_trie_matcher_prefers_the_longest_identifier() -> None:
    m = Matcher([b"zebra", b"zebra quentin"])
    assert m.keys_in_text("ZEBRA^QUENTIN") == [b"zebraquentin"]


@pytest.mark.parametrize(("value", "masked"), [
    ("ZEBRA^QUENTIN", "Z*****^Q*****"), ("PGX-449127", "P*****"), ("", ""),
    ("Clinique Belvedere", "C***** B*****"),
])
def test_mask_keeps_first_char_of_each_component(value: str, masked: str) -> None:
    assert mask_value(value) == masked
