"""write_atomic: the old report stays whole when a write fails, and no temporary is left."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pacsguard.errors import OutputError
from pacsguard.report.files import write_atomic
from pacsguard.report.jsonout import write_json


def test_writes_text_as_utf8_and_bytes_as_they_are(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a.html", "é<b>")
    write_atomic(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "a.html").read_bytes() == "é<b>".encode()
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "b.bin"]
    assert (tmp_path / "a.html").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failure_keeps_the_old_file_and_removes_the_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str) -> None:
    report = tmp_path / "report.json"
    report.write_text("old")
    seen: list[str] = []

    def fail(*args: object) -> None:
        seen.extend(p.name for p in tmp_path.iterdir())  # the temporary exists, written
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(f"pacsguard.report.files.os.{failing}", fail)
    with pytest.raises(OutputError, match=r"report\.json") as info:
        write_atomic(report, "new" * 1000)
    assert "No space left" in str(info.value) and str(tmp_path) not in str(info.value)
    assert len(seen) == 2  # the old report and the temporary, at the moment of failure
    assert report.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_an_interrupt_mid_write_also_cleans_up(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    report = tmp_path / "report.html"
    report.write_text("old")
    real_fdopen = os.fdopen

    class Interrupted(Exception):
        pass

    def fdopen(fd: int, mode: str) -> object:
        fh = real_fdopen(fd, mode)

        def write(data: bytes) -> int:
            fh.raw.write(data[:10])  # part of the report reaches the temporary file
            raise Interrupted

        fh.write = write  # type: ignore[method-assign,assignment]
        return fh

    monkeypatch.setattr("pacsguard.report.files.os.fdopen", fdopen)
    with pytest.raises(Interrupted):  # not an OSError: passed on as it is
        write_atomic(report, "<html>" * 100)
    assert report.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_a_missing_folder_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"x\.json"):
        write_atomic(tmp_path / "missing" / "x.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_json_reports_go_through_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    monkeypatch.setattr("pacsguard.report.jsonout.write_atomic",
                        lambda path, data: calls.append(path))
    write_json({"a": 1}, tmp_path / "sub" / "r.json")
    assert calls == [tmp_path / "sub" / "r.json"]
