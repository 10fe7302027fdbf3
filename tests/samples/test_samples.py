"""The built-in sample data: deterministic, readable, and identifying where it claims."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread, dcmwrite
from pydicom.dataset import Dataset
from pydicom.fileset import FileSet
from pydicom.tag import Tag
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from pacsguard.cli import main
from pacsguard.samples import (
    ACME_CREATOR,
    KINDS,
    PATIENTS,
    PRIVATE_TAGS,
    Manifest,
    identifying_dataset,
    inflate_body,
    instance_uids,
    write_ct_series,
    write_demo_tree,
)
from pacsguard.samples.private import private_value
from pacsguard.samples.tree import close_fileset
from shared_data import shared_data_dir

SHARED = shared_data_dir()
KB = SHARED / "tcia-private-tag-kb-2024-02-01.csv" if SHARED else None
IMAGE_KINDS = ("CT", "MR", "US", "US-noflag", "SC", "OVERLAY")


def _bytes(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    root = tmp_path_factory.mktemp("demo") / "export"
    return root, write_demo_tree(root, patients=4, seed=0)


def _content(root: Path, entry_path: str, variant: str) -> bytes:
    data = (root / entry_path).read_bytes()
    return inflate_body(data) if variant == "deflated" else data


# --- patients -------------------------------------------------------------------------------


def test_patients_are_distinct_and_fit_their_vrs() -> None:
    assert len({p.patient_id for p in PATIENTS}) == len(PATIENTS)
    assert len({p.name for p in PATIENTS}) == len(PATIENTS)
    for patient in PATIENTS:
        assert len(patient.phone) <= 16  # SH
        assert patient.email.endswith(".example")  # RFC 2606: never a real mailbox
        assert len(patient.study_dates) == len(patient.accession_numbers) == 3
        assert list(patient.study_dates) == sorted(set(patient.study_dates))
        assert patient.birth_date < patient.study_dates[0]
    assert any(p.charset == "ISO_IR 192" and not p.name.isascii() for p in PATIENTS)


# --- builders -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_round_trips_through_pydicom(kind: str) -> None:
    patient = PATIENTS[3]  # the UTF-8 one: the hardest to encode
    ds = identifying_dataset(patient, kind, seed=7, study_index=1)
    back = dcmread(io.BytesIO(_bytes(ds)))
    assert back.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert back[0x00100010].value == patient.name
    assert back[0x00100020].value == patient.patient_id
    assert back[0x00080020].value == patient.study_dates[1].strftime("%Y%m%d")
    assert back.SOPInstanceUID == instance_uids(7, patient, 1, kind)[2]
    if kind in IMAGE_KINDS:
        pixels = back.pixel_array
        assert pixels.shape[:2] == (back.Rows, back.Columns)
        assert int(pixels.max()) > int(pixels.min())


def test_same_arguments_give_the_same_bytes_and_seeds_differ() -> None:
    for kind in KINDS:
        first = _bytes(identifying_dataset(PATIENTS[0], kind, seed=1))
        assert first == _bytes(identifying_dataset(PATIENTS[0], kind, seed=1))
        other = identifying_dataset(PATIENTS[0], kind, seed=2)
        assert other.SOPInstanceUID.encode() not in first


def test_unknown_kind_and_study_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown sample kind"):
        identifying_dataset(PATIENTS[0], "XA")
    with pytest.raises(ValueError, match="study_index"):
        identifying_dataset(PATIENTS[0], "CT", study_index=3)


def test_burned_in_flag_only_on_flagged_us() -> None:
    assert identifying_dataset(PATIENTS[0], "US")[0x00280301].value == "YES"
    assert Tag(0x00280301) not in identifying_dataset(PATIENTS[0], "US-noflag")
    assert identifying_dataset(PATIENTS[0], "US").PhotometricInterpretation == "RGB"


def test_sr_names_the_patient_and_references_the_ct_of_its_study() -> None:
    patient = PATIENTS[1]
    sr = identifying_dataset(patient, "SR", seed=3, study_index=2)
    ct_study, ct_series, ct_sop = instance_uids(3, patient, 2, "CT", 1)
    evidence = sr[0x0040A375].value[0]
    assert evidence.StudyInstanceUID == ct_study
    assert evidence.ReferencedSeriesSequence[0].SeriesInstanceUID == ct_series
    assert (
        evidence.ReferencedSeriesSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
        == ct_sop
    )

    seen: dict[str, list[str]] = {}

    def walk(items: list[Dataset], depth: int) -> None:
        for item in items:
            seen.setdefault(item.ValueType, []).append(str(item.get("TextValue", "")))
            if item.ValueType == "PNAME":
                seen.setdefault("names", []).append(str(item.PersonName))
            if "ContentSequence" in item:
                seen.setdefault("nested", []).append(str(depth))
                walk(item.ContentSequence, depth + 1)

    walk(sr.ContentSequence, 1)
    texts = " ".join(seen["TEXT"])
    assert patient.free_text_name in texts and patient.patient_id in texts
    assert patient.birth_date_text in texts
    assert patient.name in seen["names"]
    assert {"DATE", "DATETIME", "CONTAINER", "IMAGE"} <= set(seen)
    assert "2" in seen["nested"]  # a container inside a container


def test_overlay_and_pdf_carry_identifiers() -> None:
    patient = PATIENTS[0]
    overlay = identifying_dataset(patient, "OVERLAY")
    assert patient.name in overlay[0x60000022].value
    assert patient.patient_id in overlay[0x60001500].value
    rows, cols = overlay[0x60000010].value, overlay[0x60000011].value
    assert len(overlay[0x60003000].value) >= rows * cols // 8
    pdf = identifying_dataset(patient, "PDF")[0x00420011].value
    assert pdf.startswith(b"%PDF-1.4") and b"%%EOF" in pdf
    assert patient.patient_id.encode() in pdf and patient.free_text_name.encode() in pdf
    # xref offsets must point at the objects, or PDF readers rebuild (and some refuse).
    start = int(re.search(rb"startxref\n(\d+)", pdf).group(1))  # type: ignore[union-attr]
    offsets = [int(x) for x in re.findall(rb"(\d{10}) 00000 n", pdf[start:])]
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(b"%d 0 obj" % number)


@pytest.mark.parametrize("entry", PRIVATE_TAGS, ids=lambda e: f"{e.creator}-{e.offset:02x}")
def test_private_tags_are_planted_where_declared(entry: object) -> None:
    from pacsguard.samples.private import PlantedPrivate

    assert isinstance(entry, PlantedPrivate)
    patient = PATIENTS[0]
    for kind in entry.kinds:
        ds = dcmread(io.BytesIO(_bytes(identifying_dataset(patient, kind))))
        holder = ds
        if entry.nested:
            holder = ds[(entry.group << 16) | 0x1013].value[0]
        assert holder[(entry.group << 16) | 0x0010].value == entry.creator
        elem = holder[entry.tag]
        assert entry.vr == elem.VR
        if entry.vr == "SQ":
            continue
        expected = private_value(entry.field, patient, 0)
        value = elem.value
        if entry.vr == "UN":
            assert value.rstrip(b" ") == str(expected).encode(patient.encoding)
        elif entry.vr in ("SL", "DS"):
            assert float(value) == float(expected)  # type: ignore[arg-type]
        else:
            assert str(value) == str(expected)


def test_private_dispositions_cover_keep_delete_hash_offset() -> None:
    dispositions = {e.disposition for e in PRIVATE_TAGS}
    assert {"k", "d", "h", "o", None} <= dispositions
    real = {e.creator for e in PRIVATE_TAGS if e.disposition}
    assert len(real) >= 2 and ACME_CREATOR not in real


@pytest.mark.skipif(KB is None, reason="no shared/data beside the checkout")
def test_private_tags_agree_with_the_tcia_knowledge_base() -> None:
    pattern = re.compile(r'^\(([0-9a-fA-F]{4}),"?([^"]*)"*,([0-9a-fA-F]{2})\)$')
    kb: dict[tuple[int, str, int], set[str]] = {}
    assert KB is not None
    with KB.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            match = pattern.match(row["element_sig_pattern"])
            if match:
                key = (int(match[1], 16), match[2], int(match[3], 16))
                kb.setdefault(key, set()).add(row["private_disposition"].strip().lower())
    for entry in PRIVATE_TAGS:
        key = (entry.group, entry.creator, entry.offset)
        if entry.disposition is None:
            assert not any(k[1] == entry.creator for k in kb)
        else:
            assert entry.disposition in kb.get(key, set()), key


# --- demo tree ------------------------------------------------------------------------------


def test_tree_is_byte_identical_for_the_same_seed(
    tree: tuple[Path, Manifest], tmp_path: Path
) -> None:
    root, manifest = tree
    again = write_demo_tree(tmp_path / "again", patients=4, seed=0)
    assert again.to_json() == manifest.to_json()
    files = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(tmp_path / "again") for p in (tmp_path / "again").rglob("*") if p.is_file()
    )
    for rel in files:
        assert (root / rel).read_bytes() == (tmp_path / "again" / rel).read_bytes(), rel
    other = write_demo_tree(tmp_path / "other", patients=4, seed=1)
    assert other.patients[0].identifiers["uids"] != manifest.patients[0].identifiers["uids"]


def test_manifest_lists_exactly_the_files_written(tree: tuple[Path, Manifest]) -> None:
    root, manifest = tree
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert on_disk == {f.path for f in manifest.files}
    assert Manifest.from_json(manifest.to_json()) == manifest


def test_tree_has_every_kind_and_every_oddity(tree: tuple[Path, Manifest]) -> None:
    _, manifest = tree
    assert set(KINDS) <= {f.kind for f in manifest.files}
    variants = {f.variant for f in manifest.files}
    assert {"implicit-vr", "deflated", "truncated", "dicomdir-member"} <= variants
    assert [f.path for f in manifest.files if f.kind == "non-dicom"] == ["README.txt"]
    assert [f.path for f in manifest.files if f.kind == "DICOMDIR"] == ["DICOMDIR"]
    names = [f.path.rsplit("/", 1)[-1] for f in manifest.files]
    assert any(n.endswith(".dcm") for n in names) and any("." not in n for n in names)


def test_files_read_back_as_the_manifest_says(tree: tuple[Path, Manifest]) -> None:
    root, manifest = tree
    syntaxes = {
        "": ExplicitVRLittleEndian,
        "dicomdir-member": ExplicitVRLittleEndian,
        "implicit-vr": ImplicitVRLittleEndian,
        "truncated": ExplicitVRLittleEndian,
        "deflated": DeflatedExplicitVRLittleEndian,
    }
    for entry in manifest.files:
        if entry.kind in ("non-dicom", "DICOMDIR"):
            continue
        ds = dcmread(root / entry.path)
        assert ds.file_meta.TransferSyntaxUID == syntaxes[entry.variant] == entry.transfer_syntax
        assert ds.SOPInstanceUID == entry.sop_instance_uid
        assert ds.PatientID == PATIENTS[entry.patient or 0].patient_id
        if entry.variant == "truncated":
            assert len(ds.PixelData) < ds.Rows * ds.Columns * 2
            with pytest.raises(ValueError):
                _ = ds.pixel_array
        elif entry.kind in IMAGE_KINDS:
            assert ds.pixel_array.size > 0
    with pytest.raises(Exception):  # noqa: B017 - any parse error: README is not DICOM
        dcmread(root / "README.txt")


def test_planted_identifiers_are_in_the_bytes(tree: tuple[Path, Manifest]) -> None:
    root, manifest = tree
    for entry in manifest.files:
        patient = PATIENTS[entry.patient or 0]
        encoding = "utf-8" if entry.kind == "non-dicom" else patient.encoding
        data = _content(root, entry.path, entry.variant)
        assert entry.planted, entry.path
        for value in entry.planted:
            assert value.encode(encoding) in data, (entry.path, value)
        known = set(manifest.all_identifiers(entry.patient or 0))
        assert set(entry.planted) <= known and set(entry.path_planted) <= known


def test_identifiers_sit_in_many_distinct_places(tree: tuple[Path, Manifest]) -> None:
    _, manifest = tree
    places = {re.sub(r"\[\d+\]", "[]", p) for f in manifest.files for p in f.places}
    assert len(places) >= 40
    for needed in (
        "(0010,0010)",
        "(0010,0020)",
        "(0010,1002)[].(0010,0020)",
        "(0010,1001)",
        "(0010,0030)",
        "(0010,1040)",
        "(0010,2154)",
        "(0008,0050)",
        "(0008,0090)",
        "(0008,0080)",
        "(0008,0081)",
        "(0008,1010)",
        "(0040,0275)[].(0040,0009)",
        "(0040,0275)[].(0040,1001)",
        "(0040,0275)[].(0008,1110)[].(0008,1155)",
        "(0008,1120)[].(0008,1155)",
        "(0008,1030)",
        "(0008,103E)",
        "(0020,4000)",
        "(0010,21B0)",
        "(0010,4000)",
        "meta:(0002,0016)",
        "(0033,1012)",
        "(0033,1013)[].(0033,1011)",
        "(0040,A730)[].(0040,A160)",
        "(0040,A730)[].(0040,A123)",
        "(6000,0022)",
        "(6000,1500)",
        "(0042,0011)",
    ):
        assert needed in places, needed
    assert all(
        f.path_planted for f in manifest.files if f.patient is not None and "_PID-" in f.path
    )


def test_studies_have_realistic_dates_for_date_shift_checks(tree: tuple[Path, Manifest]) -> None:
    root, manifest = tree
    for patient_entry in manifest.patients:
        dates = patient_entry.study_dates
        assert len(set(dates)) == 3
        for entry in manifest.files:
            if entry.patient != patient_entry.index or entry.study is None:
                continue
            if entry.variant in ("truncated", "dicomdir-member"):
                continue
            ds = dcmread(root / entry.path, stop_before_pixels=True)
            assert ds.StudyDate == dates[entry.study].replace("-", "")
            assert entry.path.split("/")[1].startswith(dates[entry.study])


def test_dicomdir_indexes_files_of_the_tree(tree: tuple[Path, Manifest]) -> None:
    root, manifest = tree
    fileset = FileSet(dcmread(root / "DICOMDIR"))
    try:
        members = {Path(i.path).relative_to(root).as_posix() for i in fileset}
        patient_ids = [i.PatientID for i in fileset]
    finally:
        close_fileset(fileset)
    assert members == {f.path for f in manifest.files if f.variant == "dicomdir-member"}
    assert patient_ids == [PATIENTS[0].patient_id] * len(members)


# --- CT series and CLI ----------------------------------------------------------------------


def test_ct_series_varies_per_slice(tmp_path: Path) -> None:
    manifest = write_ct_series(tmp_path / "ct", n_slices=4, rows=32, cols=48, seed=5)
    files = sorted((tmp_path / "ct").iterdir())
    assert [f.name for f in files] == [e.path for e in manifest.files]
    slices = [dcmread(f) for f in files]
    assert len({s.SOPInstanceUID for s in slices}) == 4
    assert len({s.SeriesInstanceUID for s in slices}) == 1
    assert [s.InstanceNumber for s in slices] == [1, 2, 3, 4]
    z = [float(s.ImagePositionPatient[2]) for s in slices]
    assert z == sorted(z) and len(set(z)) == 4
    assert slices[0].pixel_array.shape == (32, 48)
    assert not np.array_equal(slices[0].pixel_array, slices[1].pixel_array)
    for entry, path in zip(manifest.files, files, strict=True):
        data = path.read_bytes()
        assert PATIENTS[0].patient_id in entry.planted
        assert all(v.encode() in data for v in entry.planted)
    demo_uids = set(instance_uids(5, PATIENTS[0], 0, "CT"))
    assert not demo_uids & {str(s.SOPInstanceUID) for s in slices}


def test_ct_series_refuses_bad_sizes(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_ct_series(tmp_path / "x", n_slices=0)


def test_cli_writes_tree_and_manifest_beside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    assert main(["sample", str(out), "--patients", "2", "--seed", "3"]) == 0
    line = capsys.readouterr().out
    assert line.count("\n") == 1 and "2 patients" in line
    manifest = Manifest.from_json((tmp_path / "demo.manifest.json").read_text(encoding="utf-8"))
    assert not list(out.rglob("*.manifest.json"))
    assert manifest.seed == 3 and len(manifest.patients) == 2
    for value in manifest.all_identifiers(0) + manifest.all_identifiers(1):
        assert value not in line
    # A second run must not mix into the first.
    assert main(["sample", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err


def test_cli_accepts_a_relative_outdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["sample", "rel", "--patients", "1"]) == 0
    manifest = Manifest.from_json(Path("rel.manifest.json").read_text(encoding="utf-8"))
    on_disk = {p.relative_to("rel").as_posix() for p in Path("rel").rglob("*") if p.is_file()}
    assert on_disk == {f.path for f in manifest.files}
    capsys.readouterr()


def test_cli_ct_series_and_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["sample", str(tmp_path / "ct"), "--ct-slices", "3", "--rows", "16", "--cols", "16"])
        == 0
    )
    assert len(list((tmp_path / "ct").iterdir())) == 3
    assert (tmp_path / "ct.manifest.json").is_file()
    capsys.readouterr()
    assert main(["sample", str(tmp_path / "a"), "--patients", "99"]) == 2
    assert main(["sample", str(tmp_path / "b"), "--rows", "64"]) == 2
    assert main(["sample", str(tmp_path / "c"), "--ct-slices", "2", "--rows", "8"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 3


# --- real peer ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.peers
def test_dciodvfy_finds_no_error_in_originals(tmp_path: Path) -> None:
    dciodvfy = shutil.which("dciodvfy")
    if dciodvfy is None:
        pytest.skip("dciodvfy (dicom3tools) not installed; scripts/peers.sh installs it")
    for patient in (PATIENTS[0], PATIENTS[3]):
        for kind in ("CT", "MR", "SR", "SC", "OVERLAY", "PDF", "US"):
            path = tmp_path / f"{kind}.dcm"
            dcmwrite(path, identifying_dataset(patient, kind), enforce_file_format=True)
            result = subprocess.run(
                [dciodvfy, str(path)], capture_output=True, text=True, timeout=60, check=False
            )
            errors = [
                line for line in (result.stdout + result.stderr).splitlines() if "Error" in line
            ]
            assert not errors, (kind, errors)
