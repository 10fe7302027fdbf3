"""End-to-end ``pacsguard deid`` on the built-in sample tree: outcomes, fail-closed rules,
resume, reproducibility, and what may (not) appear outside the de-identified files."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from pydicom import dcmread

from pacsguard.cli import main
from pacsguard.samples import PATIENTS, identifier_set, write_demo_tree
from pacsguard.samples.tree import close_fileset


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("in") / "export"
    write_demo_tree(root, patients=3, seed=7)
    return root


def _run(*args: str) -> int:
    extra = [] if "--clean-pixels" in args or args[0] != "deid" else ["--no-clean-pixels"]
    return main(["-q", *args, *extra])


def _words(patients: int) -> set[str]:
    out: set[str] = set()
    for p in PATIENTS[:patients]:
        ids = identifier_set(p)
        for group in ("names", "ids", "phones", "emails"):
            out.update(v for v in ids[group] if len(v) >= 5)
    return out


def test_run_writes_quarantines_and_reports(tree: Path, tmp_path: Path, key_file: Path) -> None:
    out = tmp_path / "out"
    assert _run("deid", str(tree), str(out), "--key-file", str(key_file), "-j", "2") == 1
    summary = json.loads((out / "pacsguard-summary.json").read_text())
    assert summary["outcomes"]["written"] > 10
    reasons = summary["reasons"]
    for code in ("burned-in-annotation", "burned-in-annotation-unknown", "encapsulated-document",
                 "truncated", "not-dicom", "dicomdir"):
        assert reasons.get(code), code
    side = tmp_path / "out.pacsguard"
    assert (side / "journal.sqlite").exists() and (side / "quarantine.tsv").exists()
    listed = (side / "quarantine.tsv").read_text().splitlines()[1:]
    assert len(listed) == summary["outcomes"]["quarantined"] + summary["outcomes"]["duplicate"]
    # The output tree holds DICOM files and the summary, nothing else; no name leaks in paths.
    words = {w.lower() for w in _words(3)}
    for path in out.rglob("*"):
        rel = str(path.relative_to(out)).lower()
        assert not any(w in rel for w in words), rel
        if path.is_file():
            assert path.suffix == ".dcm" or path.name == "pacsguard-summary.json", rel
    # No identifier in the summary, anywhere.
    text = (out / "pacsguard-summary.json").read_text().lower()
    assert not any(w in text for w in words)
    # Every output is marked de-identified and its bytes carry no identifier.
    for f in out.rglob("*.dcm"):
        ds = dcmread(f)
        assert ds[0x00120062].value == "YES"
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        blob = f.read_bytes().decode("latin-1").lower()
        assert not [w for w in words if w in blob], f


def test_two_runs_give_identical_outputs(tree: Path, tmp_path: Path, key_file: Path) -> None:
    for name, jobs in (("a", "1"), ("b", "2")):
        _run("deid", str(tree), str(tmp_path / name), "--key-file", str(key_file), "-j", jobs)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.dcm"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.dcm"))
    assert files_a == files_b and files_a
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


def test_resume_after_interruption(tree: Path, tmp_path: Path, key_file: Path) -> None:
    out = tmp_path / "out"
    _run("deid", str(tree), str(out), "--key-file", str(key_file), "-j", "1")
    written = sorted(out.rglob("*.dcm"))
    # Simulate an interruption: lose the last outputs and their journal rows.
    db = sqlite3.connect(tmp_path / "out.pacsguard" / "journal.sqlite")
    lost = written[-3:]
    for f in lost:
        db.execute("DELETE FROM files WHERE output = ?", (str(f.relative_to(out)),))
        f.unlink()
    db.commit()
    db.close()
    _run("deid", str(tree), str(out), "--key-file", str(key_file), "-j", "1")
    summary = json.loads((out / "pacsguard-summary.json").read_text())
    assert summary["outcomes"]["written"] == 3
    assert summary["already_done"] >= len(written) - 3
    assert sorted(out.rglob("*.dcm")) == written


def test_wrong_key_on_resume_is_refused(tree: Path, tmp_path: Path, key_file: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    _run("deid", str(tree), str(out), "--key-file", str(key_file))
    other = tmp_path / "other.key"
    other.write_text("ab" * 32)
    assert _run("deid", str(tree), str(out), "--key-file", str(other)) == 2
    assert "another key" in capsys.readouterr().err


def test_missing_and_malformed_key(tree: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("deid", str(tree), str(tmp_path / "o"), "--key-file", str(tmp_path / "nope")) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
    bad = tmp_path / "bad.key"
    bad.write_text("not hex")
    assert _run("deid", str(tree), str(tmp_path / "o"), "--key-file", str(bad)) == 2
    assert "not hexadecimal" in capsys.readouterr().err


def test_no_key_generates_one_and_never_prints_it(tree: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _run("deid", str(tree), str(tmp_path / "o"))
    err = capsys.readouterr().err
    generated = Path(os.environ["XDG_CONFIG_HOME"]) / "pacsguard" / "secret.key"
    assert generated.exists() and oct(generated.stat().st_mode)[-3:] == "600"
    material = next(ln for ln in generated.read_text().splitlines() if not ln.startswith("#"))
    assert "generated a new secret key" in err and material not in err


def test_unwritable_output_is_a_clear_error(tree: Path, tmp_path: Path, key_file: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert _run("deid", str(tree), str(blocker / "out"), "--key-file", str(key_file)) == 2
    assert "cannot write" in capsys.readouterr().err


def test_missing_input_costs_nothing(tmp_path: Path, key_file: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("deid", str(tmp_path / "DUPONT_Marie"), str(tmp_path / "out"),
                "--key-file", str(key_file)) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "DUPONT" not in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.pacsguard").exists()


def test_output_inside_input_is_refused(tree: Path, key_file: Path) -> None:
    assert _run("deid", str(tree), str(tree / "out"), "--key-file", str(key_file)) == 2


def test_directory_loop_and_odd_files(tmp_path: Path, key_file: Path) -> None:
    src = tmp_path / "src"
    write_demo_tree(src, patients=1, seed=3)
    (src / "loop").symlink_to(src, target_is_directory=True)
    (src / "empty.dcm").write_bytes(b"")
    (src / "junk.bin").write_bytes(os.urandom(4096))
    out = tmp_path / "out"
    assert _run("deid", str(src), str(out), "--key-file", str(key_file)) == 1
    summary = json.loads((out / "pacsguard-summary.json").read_text())
    assert summary["directory_loops_skipped"] == 1
    assert summary["reasons"]["not-dicom"] >= 3


def test_linkage_table_is_opt_in_and_outside_output(tree: Path, tmp_path: Path,
                                                     key_file: Path) -> None:
    out = tmp_path / "out"
    assert _run("deid", str(tree), str(out), "--key-file", str(key_file),
                "--linkage", str(out / "link.sqlite")) == 2
    link = tmp_path / "link.sqlite"
    _run("deid", str(tree), str(out), "--key-file", str(key_file), "--linkage", str(link))
    rows = sqlite3.connect(link).execute("SELECT original_patient, pseudonym FROM linkage").fetchall()
    assert {r[0] for r in rows} >= {PATIENTS[0].patient_id}
    assert all(r[1].startswith("PG-") for r in rows)


def test_media_rebuilds_a_dicomdir_from_outputs(tree: Path, tmp_path: Path, key_file: Path) -> None:
    from pydicom.fileset import FileSet

    out, media = tmp_path / "out", tmp_path / "media"
    _run("deid", str(tree), str(out), "--key-file", str(key_file), "--media", str(media))
    fs = FileSet(dcmread(media / "DICOMDIR"))
    outputs = {dcmread(f).SOPInstanceUID for f in out.rglob("*.dcm")}
    indexed = {inst.SOPInstanceUID for inst in fs}
    close_fileset(fs)
    assert indexed == outputs
    blob = (media / "DICOMDIR").read_bytes().decode("latin-1").lower()
    assert not [w for w in {w.lower() for w in _words(3)} if w in blob]
    assert _run("deid", str(tree), str(tmp_path / "o2"), "--key-file", str(key_file),
                "--media", str(tree / "m")) == 2


@pytest.mark.slow
def test_risky_pixels_are_cleaned_not_quarantined(tmp_path: Path, key_file: Path) -> None:
    pytest.importorskip("rapidocr_onnxruntime")
    src = tmp_path / "src"
    write_demo_tree(src, patients=1, seed=5)
    out = tmp_path / "out"
    _run("deid", str(src), str(out), "--key-file", str(key_file), "--clean-pixels", "-j", "2")
    summary = json.loads((out / "pacsguard-summary.json").read_text())
    assert summary["pixels_cleaned"] >= 3
    for code in ("burned-in-annotation", "burned-in-annotation-unknown"):
        assert code not in summary["reasons"]
    cleaned = [dcmread(f) for f in out.rglob("*.dcm") if dcmread(f).Modality in ("US", "OT")]
    assert cleaned and all(ds.BurnedInAnnotation == "NO" for ds in cleaned)
    codes = {item.CodeValue for ds in cleaned for item in ds.DeidentificationMethodCodeSequence}
    assert "113101" in codes  # Clean Pixel Data Option, declared only where it was done
    page = (tmp_path / "out.pacsguard" / "gallery.html").read_text()
    assert page.count("<figure>") == summary["pixels_cleaned"]
    assert ">after<" in page and ">before<" not in page  # originals only with --show-values


def test_duplicate_sop_instance_first_path_wins(tmp_path: Path, key_file: Path) -> None:
    from pacsguard.samples import identifying_dataset

    src = tmp_path / "src"
    src.mkdir()
    for name, comment in (("b", "second"), ("a", "first")):
        ds = identifying_dataset(PATIENTS[0], "CT")
        ds.ImageComments = comment
        ds.save_as(src / name, enforce_file_format=True)
    for run in ("o1", "o2"):
        _run("deid", str(src), str(tmp_path / run), "--key-file", str(key_file), "-j", "2")
        summary = json.loads((tmp_path / run / "pacsguard-summary.json").read_text())
        assert summary["outcomes"]["written"] == 1 and summary["outcomes"]["duplicate"] == 1
        (out,) = (tmp_path / run).rglob("*.dcm")
        assert dcmread(out).ImageComments == "first"
