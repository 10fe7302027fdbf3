"""A folder sink stores an instance whole or not at all, durably when asked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pacsguard.dicom.payload import Payload
from pacsguard.errors import OutputError
from pacsguard.io import FolderSink


def test_staged_is_invisible_until_committed(tmp_path: Path) -> None:
    sink = FolderSink(tmp_path / "out")
    sink.prepare()
    staged = sink.stage("PG-1/1.2/1.3/1.4.dcm", Payload(b"DATA"), "input-a")
    target = tmp_path / "out" / "PG-1/1.2/1.3/1.4.dcm"
    assert not target.exists() and not sink.exists("PG-1/1.2/1.3/1.4.dcm")
    assert Path(staged).name.startswith(".")  # hidden beside the target
    sink.commit(staged, "PG-1/1.2/1.3/1.4.dcm")
    assert target.read_bytes() == b"DATA"
    assert sorted(p.name for p in target.parent.iterdir()) == ["1.4.dcm"]


def test_two_inputs_stage_the_same_name_apart(tmp_path: Path) -> None:
    sink = FolderSink(tmp_path)
    a = sink.stage("x/y.dcm", Payload(b"A"), "input-a")
    b = sink.stage("x/y.dcm", Payload(b"B"), "input-b")
    assert a != b
    sink.discard(b)
    sink.commit(a, "x/y.dcm")
    assert (tmp_path / "x/y.dcm").read_bytes() == b"A"
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["y.dcm"]


def test_a_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sink = FolderSink(tmp_path, durable=True)

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError):
        sink.stage("a/b.dcm", Payload(b"DATA"), "h")
    assert list((tmp_path / "a").iterdir()) == []


def test_durable_sink_fsyncs_file_and_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    quick = FolderSink(tmp_path / "q")
    quick.commit(quick.stage("a.dcm", Payload(b"1"), "h"), "a.dcm")
    assert synced == []
    durable = FolderSink(tmp_path / "d", durable=True)
    durable.commit(durable.stage("a.dcm", Payload(b"1"), "h"), "a.dcm")
    assert len(synced) == 2  # the file before its rename, the folder after


def test_prepare_refuses_links_and_unwritable_folders(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OutputError, match="symbolic link"):
        FolderSink(tmp_path / "link").prepare()
    out = tmp_path / "out"
    out.mkdir()
    (out / "inner").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OutputError, match="symbolic link"):
        FolderSink(out).prepare()
    blocked = tmp_path / "file"
    blocked.write_text("")
    with pytest.raises(OutputError, match="cannot write"):
        FolderSink(blocked / "sub").prepare()
