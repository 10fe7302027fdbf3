"""Temporary re-export for ``discover/scan.py`` alone, which another change is reworking:
remove this module once it imports :mod:`pacsguard.dicom.reader` and
:mod:`pacsguard.dicom.fswalk` (``iter_files([root], unique=True)``, ``read_dicom_file``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pacsguard.dicom import fswalk
from pacsguard.dicom.fswalk import rel_posix
from pacsguard.dicom.reader import DicomFile, read_dicom_file

__all__ = ["DicomFile", "iter_files", "read_dicom", "rel_posix"]

read_dicom = read_dicom_file


def iter_files(root: Path) -> Iterator[Path]:
    return fswalk.iter_files([root], unique=True)
