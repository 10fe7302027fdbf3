"""The per-instance pipeline as a library user calls it: the CLI's guarantees, on every input
form (a file, its bytes, a parsed dataset)."""

from __future__ import annotations

import copy
import io
from dataclasses import replace
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from pacsguard import Deidentifier, InstanceResult, Outcome, Policy
from pacsguard.deid.keys import SecretKey
from pacsguard.deid.leakguard import LeakGuard
from pacsguard.samples import write_ct_series


@pytest.fixture
def ct(tmp_path: Path) -> Path:
    write_ct_series(tmp_path / "ct", n_slices=1, rows=16, cols=16)
    return next(p for p in sorted((tmp_path / "ct").rglob("*")) if p.is_file())


@pytest.fixture
def pipeline(key: SecretKey) -> Deidentifier:
    return Deidentifier(replace(Policy(), clean_pixels=False), key)


def test_file_bytes_and_dataset_give_the_same_output(pipeline: Deidentifier, ct: Path) -> None:
    from_file = pipeline.process(ct, handle="h1")
    from_bytes = pipeline.process(ct.read_bytes(), handle="h2")
    original = dcmread(ct)
    before = copy.deepcopy(original)
    from_ds = pipeline.process(original)
    assert from_file.outcome is Outcome.WRITTEN, from_file
    assert from_file.handle == "h1" and from_bytes.handle == "h2"
    assert from_file.data == from_bytes.data == from_ds.data
    assert from_file.name == from_bytes.name == from_ds.name
    assert from_file.name.endswith(from_file.sop_instance_uid + ".dcm")
    assert from_file.bytes_in == ct.stat().st_size
    assert original == before  # a caller's dataset is never modified


def test_output_is_marked_once_and_names_no_original_value(pipeline: Deidentifier, ct: Path) -> None:
    original = dcmread(ct)
    result = pipeline.process(ct)
    assert result.data is not None
    out = dcmread(io.BytesIO(result.data))
    assert out.PatientIdentityRemoved == "YES"
    assert len(out.DeidentificationMethodCodeSequence) == 1 + len(
        [o for o in Policy().options if o.value != "Clean Pixel Data"])
    for value in (str(original.PatientName), original.PatientID, original.SOPInstanceUID,
                  original.StudyInstanceUID):
        assert value not in result.name
        assert value.encode() not in result.data


def test_a_library_user_gets_the_risk_gate(pipeline: Deidentifier, ct: Path) -> None:
    ds = dcmread(ct)
    ds.Modality = "US"  # without Burned In Annotation: text may be burned in
    assert "BurnedInAnnotation" not in ds
    result = pipeline.process(ds)
    assert result.outcome is Outcome.QUARANTINED
    assert result.reason == "burned-in-annotation-unknown"
    assert result.data is None and result.name == ""


def test_a_library_user_gets_the_leak_guard(pipeline: Deidentifier, ct: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    ds = dcmread(ct)
    ds.ConvolutionKernel = ds.PatientID  # kept by the profile: the header step leaves it
    result = pipeline.process(ds)
    assert (result.outcome, result.reason) == (Outcome.QUARANTINED, "residual-identifier")
    assert result.data is None
    assert "(0018,1210)" in result.detail and str(ds.PatientID) not in result.detail
    # the guard is what caught it: without it, the identifier is written
    monkeypatch.setattr(LeakGuard, "find", lambda *a, **k: None)
    unguarded = pipeline.process(ds)
    assert unguarded.outcome is Outcome.WRITTEN and unguarded.data is not None
    assert str(ds.PatientID).encode() in unguarded.data


@pytest.mark.parametrize(("data", "outcome", "reason"), [
    (b"", Outcome.SKIPPED, "not-dicom"),
    (b"hello, not an image" * 10, Outcome.SKIPPED, "not-dicom"),
    (b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\x00", Outcome.QUARANTINED, None),
])
def test_bad_bytes_give_an_outcome_never_an_exception(pipeline: Deidentifier, data: bytes,
                                                      outcome: Outcome, reason: str | None) -> None:
    result = pipeline.process(data)
    assert isinstance(result, InstanceResult)
    assert result.outcome is outcome and result.data is None
    assert result.reason and (reason is None or result.reason == reason)
    assert result.reason != "processing-error"


def test_a_vanished_file_fails_and_a_bug_is_quarantined(pipeline: Deidentifier, ct: Path,
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    gone = pipeline.process(tmp_path / "nope.dcm")
    assert (gone.outcome, gone.reason) == (Outcome.FAILED, "unreadable")

    def boom(*_: object, **__: object) -> None:
        raise ValueError("a value that must not be echoed: KOWALSKI")

    monkeypatch.setattr(pipeline.engine, "deidentify", boom)
    bug = pipeline.process(ct)
    assert (bug.outcome, bug.reason) == (Outcome.QUARANTINED, "processing-error")
    assert "KOWALSKI" not in bug.detail and "ValueError" in bug.detail


def test_same_key_same_output_in_another_pipeline(key: SecretKey, ct: Path) -> None:
    policy = replace(Policy(), clean_pixels=False)
    a = Deidentifier(policy, key).process(ct)
    b = Deidentifier(policy, SecretKey(key.derive("x")[:32], "other")).process(ct)
    again = Deidentifier(policy, key).process(ct)
    assert a.data == again.data and a.name == again.name
    assert a.name != b.name


def test_dataset_without_file_meta_is_written(pipeline: Deidentifier, ct: Path) -> None:
    ds = Dataset()
    ds.update(dcmread(ct))  # as built in memory by a library user: no file meta, no preamble
    result = pipeline.process(ds)
    assert result.outcome is Outcome.WRITTEN, result
    assert result.data is not None and result.data[128:132] == b"DICM"
