"""The one walker: deid yields every name, scan and verify every file once."""

from __future__ import annotations

from pathlib import Path

import pytest

from pacsguard.dicom.fswalk import WalkStats, iter_files, rel_posix
from pacsguard.errors import InputError


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "b").mkdir(parents=True)
    (root / "b" / "x").write_bytes(b"x")
    (root / "a.dcm").write_bytes(b"a")
    (root / "link").symlink_to(root / "a.dcm")
    (root / "out").mkdir()
    (root / "out" / "written.dcm").write_bytes(b"w")
    (tmp_path / "beside.dcm").write_bytes(b"s")
    (root / "escape").symlink_to(tmp_path / "beside.dcm")
    return root


def test_every_name_or_every_file_once(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    stats = WalkStats()
    names = [rel_posix(p, root) for p in iter_files([root], stats, exclude=(root / "out",))]
    assert names == ["a.dcm", "b/x", "link"]  # sorted; the link outside is not followed
    assert stats.links_outside == 1 and stats.excluded == [root / "out"]
    once = [rel_posix(p, root) for p in iter_files([root], unique=True)]
    assert once == ["a.dcm", "b/x", "out/written.dcm"]


def test_roots_that_are_files_and_missing_roots(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    assert list(iter_files([root / "a.dcm"])) == [root / "a.dcm"]
    assert rel_posix(root / "a.dcm", root / "a.dcm") == "a.dcm"
    with pytest.raises(InputError, match=r"input #2 of 2 does not exist"):
        list(iter_files([root, tmp_path / "PATIENT^NAME"]))
