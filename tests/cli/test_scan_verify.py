"""The verify and scan subcommands: exit codes, reports, masking, one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from discover_fixtures import ALICE, find_outputs
from pacsguard.cli import main


def test_verify_clean_copy_exits_0(originals: Path, clean_output: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["verify", str(originals), str(clean_output), "--json", str(tmp_path / "r.json"),
                 "--html", str(tmp_path / "r.html"), "--pixel-detector", "none"])
    assert code == 0
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["ok"] is True and data["leaks"] == []
    assert "no leak found" in (tmp_path / "r.html").read_text()
    assert "OK: no leak found" in capsys.readouterr().out


def test_verify_leak_exits_1_and_masks(originals: Path, clean_output: Path, roles: dict[str, str],
                                       tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    shutil.copytree(clean_output, out)
    import pydicom

    target = find_outputs(out, roles)["alice-1"]
    ds = pydicom.dcmread(target)
    ds.PatientName = ALICE.name
    ds.save_as(target)
    code = main(["verify", str(originals), str(out), "--json", str(tmp_path / "r.json"),
                 "--html", str(tmp_path / "r.html"), "--pixel-detector", "none"])
    assert code == 1
    printed = capsys.readouterr().out
    for text in (printed, (tmp_path / "r.json").read_text(), (tmp_path / "r.html").read_text()):
        assert "ZEBRAFINCH" not in text.upper()
        assert "(0010,0010)" in text
    code = main(["verify", str(originals), str(out), "--show-values", "--pixel-detector", "none"])
    assert code == 1
    assert "ZEBRAFINCH^QUENTIN" in capsys.readouterr().out


def test_verify_missing_folder_is_a_one_line_usage_error(
        originals: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["verify", str(originals), str(tmp_path / "nope")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("pacsguard verify: error:")
    assert main(["verify", str(originals), str(originals), "--min-length", "1"]) == 2


def test_scan_writes_json_and_html_masked(originals: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["scan", str(originals), "--json", str(tmp_path / "s.json"),
                 "--html", str(tmp_path / "s.html")])
    assert code == 0
    printed = capsys.readouterr().out
    html = (tmp_path / "s.html").read_text()
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["counts"]["patients"] == 2
    for text in (printed, html, json.dumps(data)):
        assert "ZEBRAFINCH" not in text.upper() and ALICE.pid not in text
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "<svg" in html
    assert main(["scan", str(tmp_path / "missing")]) == 2
