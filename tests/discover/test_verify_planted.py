"""verify finds each planted leak, at its location, and nothing else; a clean copy is clean."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from discover_fixtures import ALICE, BOB, find_outputs, simple_deid
from pacsguard.discover.verify import verify_trees

Expected = set[tuple[str, str, str]]
Plant = Callable[[Path, dict[str, Path]], Expected]


def _rel(out: Path, path: Path) -> str:
    return path.relative_to(out).as_posix()


def _edit(path: Path, change: Callable[[Dataset], None]) -> None:
    ds = pydicom.dcmread(path)
    change(ds)
    ds.save_as(path)


def plant_top_level_name(out: Path, f: dict[str, Path]) -> Expected:
    _edit(f["alice-1"], lambda ds: setattr(ds, "PatientName", ALICE.name))
    return {(_rel(out, f["alice-1"]), "(0010,0010)", "value")}


def plant_nested_id(out: Path, f: dict[str, Path]) -> Expected:
    def change(ds: Dataset) -> None:
        item = Dataset()
        item.RequestedProcedureID = ALICE.request_id
        ds.RequestAttributesSequence = Sequence([item])

    _edit(f["alice-2"], change)
    return {(_rel(out, f["alice-2"]), "(0040,0275)[0].(0040,1001)", "value")}


def plant_private_lo(out: Path, f: dict[str, Path]) -> Expected:
    def change(ds: Dataset) -> None:
        ds.private_block(0x0029, "LEAKCO 1", create=True).add_new(0x10, "LO", ALICE.pid)

    _edit(f["alice-3"], change)
    return {(_rel(out, f["alice-3"]), "(0029,1010)", "value")}


def plant_un_vr(out: Path, f: dict[str, Path]) -> Expected:
    def change(ds: Dataset) -> None:
        ds.add(DataElement(0x00310010, "LO", "LEAKCO 2"))
        ds.add(DataElement(0x00311010, "UN", b"WREN^QUENTINA\0"))

    _edit(f["alice-1"], change)
    return {(_rel(out, f["alice-1"]), "(0031,1010)", "raw-bytes")}


def plant_sr_text(out: Path, f: dict[str, Path]) -> Expected:
    def change(ds: Dataset) -> None:
        item = Dataset()
        item.RelationshipType = "CONTAINS"
        item.ValueType = "TEXT"
        item.TextValue = "Follow-up for Quentin Zebrafinch next month."
        concept = Dataset()
        concept.CodeValue = "121070"
        concept.CodingSchemeDesignator = "DCM"
        concept.CodeMeaning = "Findings"
        item.ConceptNameCodeSequence = Sequence([concept])
        ds.ContentSequence = Sequence([item])

    _edit(f["sr"], change)
    return {(_rel(out, f["sr"]), "(0040,A730)[0].(0040,A160)", "value")}


def plant_file_meta(out: Path, f: dict[str, Path]) -> Expected:
    _edit(f["bob-1"], lambda ds: setattr(ds.file_meta, "SourceApplicationEntityTitle",
                                         ALICE.station_ae))
    return {(_rel(out, f["bob-1"]), "file-meta (0002,0016)", "file-meta")}


def plant_preamble(out: Path, f: dict[str, Path]) -> Expected:
    data = bytearray(f["bob-2"].read_bytes())
    data[0:20] = b"KINGSNORTH ODALYS   "
    f["bob-2"].write_bytes(bytes(data))
    return {(_rel(out, f["bob-2"]), "preamble", "preamble")}


def plant_file_name(out: Path, f: dict[str, Path]) -> Expected:
    new = f["bob-1"].with_name(f"{BOB.pid}.dcm")
    f["bob-1"].rename(new)
    # The report masks the identifying component: P*****.dcm, not the patient ID.
    return {(_rel(out, new.with_name("P*****.dcm")), "file name", "path")}


def plant_folder_name(out: Path, f: dict[str, Path]) -> Expected:
    folder = f["bob-2"].parent / "Kingsnorth"
    folder.mkdir()
    f["bob-2"].rename(folder / f["bob-2"].name)
    return {(_rel(out, folder.with_name("K*****")), "folder name", "path")}


def plant_dicomdir(out: Path, f: dict[str, Path]) -> Expected:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.FileSetID = "SET1"
    rec = Dataset()
    rec.DirectoryRecordType = "PATIENT"
    rec.PatientName = BOB.name
    rec.PatientID = "P1"
    ds.DirectoryRecordSequence = Sequence([rec])
    ds.save_as(out / "DICOMDIR", enforce_file_format=True)
    return {("DICOMDIR", "DICOMDIR (0004,1220)[0].(0010,0010)", "value")}


_REF = "(0040,A375)[0].(0008,1115)[0].(0008,1199)[0].(0008,1155)"


def _set_reference(path: Path, uid: str) -> None:
    def change(ds: Dataset) -> None:
        ds.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0] \
            .ReferencedSOPSequence[0].ReferencedSOPInstanceUID = uid

    _edit(path, change)


def plant_original_uid(out: Path, f: dict[str, Path], originals: Path) -> Expected:
    orig_ct1 = pydicom.dcmread(originals / "ZEBRAFINCH_Quentin" / "CT" / "IMG0001.dcm")
    _set_reference(f["sr"], str(orig_ct1.SOPInstanceUID))
    return {(_rel(out, f["sr"]), _REF, "original-uid")}


def plant_dangling_reference(out: Path, f: dict[str, Path]) -> Expected:
    _set_reference(f["sr"], generate_uid())
    return {(_rel(out, f["sr"]), _REF, "dangling-reference")}


def plant_grouping(out: Path, f: dict[str, Path]) -> Expected:
    # One of Alice's three CT images moves to a series of its own: a split, on that file.
    _edit(f["alice-2"], lambda ds: setattr(ds, "SeriesInstanceUID", generate_uid()))
    return {(_rel(out, f["alice-2"]), "series", "grouping")}


def plant_date_shift(out: Path, f: dict[str, Path]) -> Expected:
    def change(ds: Dataset) -> None:
        day = dt.datetime.strptime(str(ds.ContentDate), "%Y%m%d").date()
        ds.ContentDate = (day + dt.timedelta(days=9)).strftime("%Y%m%d")

    _edit(f["bob-1"], change)
    return {(_rel(out, f["bob-1"]), "(0008,0023)", "date-shift")}


def plant_date_in_text(out: Path, f: dict[str, Path]) -> Expected:
    _edit(f["alice-2"], lambda ds: setattr(ds, "ImageComments", "Born 14.03.1961, stable."))
    return {(_rel(out, f["alice-2"]), "(0020,4000)", "value")}


def plant_side_file(out: Path, f: dict[str, Path]) -> Expected:
    (out / "map.csv").write_text(f"original,pseudonym\n{BOB.pid},S2\n")
    return {("map.csv", "@19", "file-bytes")}


def plant_unreadable(out: Path, f: dict[str, Path]) -> Expected:
    data = f["bob-1"].read_bytes()
    (out / "broken.dcm").write_bytes(data[: len(data) - 100])  # cut inside the pixel data
    return {("broken.dcm", "file", "unreadable")}


def plant_validity(out: Path, f: dict[str, Path]) -> Expected:
    _edit(f["bob-2"], lambda ds: setattr(ds, "PatientSex", "Q"))
    return {(_rel(out, f["bob-2"]), "dciodvfy", "validity")}


PLANTS: dict[str, Plant] = {
    "top-level name": plant_top_level_name,
    "nested sequence ID": plant_nested_id,
    "private LO": plant_private_lo,
    "UN VR bytes": plant_un_vr,
    "SR text": plant_sr_text,
    "file meta": plant_file_meta,
    "preamble": plant_preamble,
    "file name": plant_file_name,
    "folder name": plant_folder_name,
    "DICOMDIR": plant_dicomdir,
    "dangling reference": plant_dangling_reference,
    "grouping": plant_grouping,
    "date shift": plant_date_shift,
    "date in free text": plant_date_in_text,
    "non-DICOM side file": plant_side_file,
    "unreadable output": plant_unreadable,
}


def _found(report_leaks: list, ) -> Expected:  # type: ignore[type-arg]
    return {(leak.path, leak.location, leak.kind) for leak in report_leaks}


def test_clean_copy_has_no_leak(originals: Path, clean_output: Path) -> None:
    report = verify_trees(originals, clean_output)
    assert report.leaks == []
    assert report.ok
    assert report.paired == 6
    assert report.counts_in == report.counts_out == {
        "patients": 2, "studies": 2, "series": 3, "instances": 6}


def test_the_originals_leak_everywhere(originals: Path) -> None:
    # Sanity: verifying the originals against themselves finds every kind of value leak.
    report = verify_trees(originals, originals, dciodvfy=False)
    kinds = {leak.kind for leak in report.leaks}
    assert {"value", "raw-bytes", "file-meta", "path", "original-uid"} <= kinds


@pytest.mark.parametrize("name", sorted(PLANTS))
def test_planted_leak_is_found_alone(name: str, originals: Path, clean_output: Path,
                                     roles: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(clean_output, out)
    expected = PLANTS[name](out, find_outputs(out, roles))
    report = verify_trees(originals, out)
    assert _found(report.leaks) == expected
    assert not report.ok


def test_original_uid_is_found_alone(originals: Path, clean_output: Path, roles: dict[str, str],
                                     tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(clean_output, out)
    expected = plant_original_uid(out, find_outputs(out, roles), originals)
    assert _found(verify_trees(originals, out).leaks) == expected


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (dicom3tools) not installed")
def test_new_dciodvfy_error_is_found_alone(originals: Path, clean_output: Path,
                                           roles: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(clean_output, out)
    expected = plant_validity(out, find_outputs(out, roles))
    report = verify_trees(originals, out, dciodvfy="all")
    assert _found(report.leaks) == expected
    assert report.validity_check.startswith("dciodvfy on 6 of 6 pair(s)")
    (leak,) = report.leaks
    assert "Patient's Sex" in leak.detail and "<Q>" not in leak.detail


def test_values_are_masked_unless_asked(originals: Path, clean_output: Path,
                                        roles: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(clean_output, out)
    plant_top_level_name(out, find_outputs(out, roles))
    hidden = verify_trees(originals, out)
    assert "ZEBRAFINCH" not in hidden.to_json().upper()
    shown = verify_trees(originals, out, show_values=True)
    assert shown.leaks[0].value == ALICE.name
    assert ALICE.name in shown.to_json()


def test_identifying_folder_is_masked_in_every_path(originals: Path, clean_output: Path,
                                                    roles: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(clean_output, out)
    f = find_outputs(out, roles)
    plant_folder_name(out, f)
    moved = f["bob-2"].parent / "Kingsnorth" / f["bob-2"].name
    _edit(moved, lambda ds: setattr(ds, "PatientName", BOB.name))
    report = verify_trees(originals, out)
    assert len(report.leaks) == 2
    assert "kingsnorth" not in report.to_json().lower()
    shown = verify_trees(originals, out, show_values=True)
    assert all("Kingsnorth" in leak.path for leak in shown.leaks)


def test_a_shifted_date_landing_on_another_patients_date_is_no_leak(originals: Path,
                                                                     tmp_path: Path) -> None:
    # +67 days takes Alice's 2024-01-15 to 2024-03-22: Bob's real study date. Keyed shifts
    # do that by chance now and then; it is the shift at work, not Bob's date leaking.
    assert (dt.date(2024, 1, 15) + dt.timedelta(days=67)).strftime("%Y%m%d") == BOB.study_date
    out = tmp_path / "out"
    simple_deid(originals, out, {ALICE.pid: 67, BOB.pid: -2000})
    # A text that quotes Alice's shifted study date: the same coincidence, outside DA/DT.
    alice = next(p for p in sorted(out.rglob("*.dcm")) if pydicom.dcmread(p).PatientID == "SUBJ-A")
    ds = pydicom.dcmread(alice)
    ds.AdditionalPatientHistory = f"Seen on {BOB.study_date}."
    ds.save_as(alice)
    report = verify_trees(originals, out, dciodvfy=False)
    assert report.leaks == []
    # Bob's birth date is no shifted date of Alice's: in her text it is a leak.
    ds.AdditionalPatientHistory = f"Seen on {BOB.birth}."
    ds.save_as(alice)
    found = _found(verify_trees(originals, out, dciodvfy=False).leaks)
    assert found == {(alice.relative_to(out).as_posix(), "(0010,21B0)", "value")}
    ds.AdditionalPatientHistory = f"Seen on {BOB.study_date}."
    ds.save_as(alice)
    # The same date where it is not this patient's shift (here: left as it was) is reported.
    path = next(p for p in sorted(out.rglob("*.dcm")) if pydicom.dcmread(p).Modality == "CT"
                and str(pydicom.dcmread(p).PatientID) == "SUBJ-B")
    ds = pydicom.dcmread(path)
    ds.ContentDate = BOB.study_date  # Bob's own date, unshifted
    ds.save_as(path)
    found = _found(verify_trees(originals, out, dciodvfy=False).leaks)
    rel = path.relative_to(out).as_posix()
    assert found == {(rel, "(0008,0023)", "value")}
