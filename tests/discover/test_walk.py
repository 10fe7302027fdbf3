"""Tree walking is robust to non-DICOM, corrupt files and symlink loops."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydicom.uid import generate_uid

from discover_fixtures import ALICE, build_ct, write
from pacsguard.dicom.fswalk import iter_files
from pacsguard.dicom.reader import read_dicom_file
from pacsguard.errors import CorruptDicom, InputError, NotDicom


def test_symlink_loops_and_links_are_not_followed_twice(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    f = tmp_path / "a" / "x.dcm"
    f.write_bytes(b"x")
    os.symlink(tmp_path, tmp_path / "a" / "loop")  # a folder link back to the root
    os.symlink(f, tmp_path / "same-file")
    os.symlink(tmp_path / "missing", tmp_path / "dangling")
    found = list(iter_files([tmp_path], unique=True))
    assert len(found) == 1  # each file once, through whichever name comes first
    assert found[0].resolve() == f.resolve()


def test_missing_root_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        list(iter_files([tmp_path / "nope"]))


def test_non_dicom_and_corrupt_files_are_told_apart(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not DICOM at all\n" * 20)
    with pytest.raises(NotDicom):
        read_dicom_file(text)
    empty = tmp_path / "empty.dcm"  # a prefix and nothing else: not DICOM, as deid says
    empty.write_bytes(b"\0" * 128 + b"DICM")
    with pytest.raises(NotDicom):
        read_dicom_file(empty)
    cut = tmp_path / "cut.dcm"  # prefix and a meta group claiming more than the file holds
    cut.write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\x40\x00" + b"1.2")
    with pytest.raises(CorruptDicom):
        read_dicom_file(cut)


def test_cut_short_file_is_read_but_flagged(tmp_path: Path) -> None:
    ds = build_ct(ALICE, generate_uid(), generate_uid(), 1, generate_uid())
    path = write(ds, tmp_path / "ct.dcm")
    data = path.read_bytes()
    path.write_bytes(data[:-50])
    df = read_dicom_file(path)
    assert df.damaged
    assert 0x00100010 in df.ds
    assert read_dicom_file(write(ds, tmp_path / "ok.dcm")).damaged is None
