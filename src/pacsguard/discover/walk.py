"""Iterate the files of a tree and read DICOM ones, robust to non-DICOM and corrupt files.

Symbolic links are followed only when they resolve inside the root (:mod:`pacsguard.fswalk`,
the rule ``deid`` follows too); a file reached twice is read once.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileDataset
from pydicom.errors import InvalidDicomError

from pacsguard.discover.elements import is_bulk
from pacsguard.errors import CorruptDicom, InputError, LimitExceeded, NotDicom
from pacsguard.fswalk import WalkStats, walk_tree
from pacsguard.limits import DEFAULT_LIMITS, Limits
from pacsguard.prescan import prescan

__all__ = ["DicomFile", "iter_files", "parse_dicom", "read_dicom", "rel_posix"]

_PREAMBLE = 128


@dataclass
class DicomFile:
    """One parsed file with its raw bytes (the searches need both)."""

    path: Path
    data: bytes
    ds: FileDataset
    #: byte ranges of top-level pixel and overlay data (taken before any conversion)
    bulk: list[tuple[int, int]] = field(default_factory=list)
    #: why the file is damaged though parsed (e.g. cut short), else None
    damaged: str | None = None

    @property
    def file_meta(self) -> Dataset:
        meta = getattr(self.ds, "file_meta", None)
        return meta if meta is not None else Dataset()

    @property
    def has_preamble(self) -> bool:
        return len(self.data) >= _PREAMBLE + 4 and self.data[_PREAMBLE : _PREAMBLE + 4] == b"DICM"


def iter_files(root: Path) -> Iterator[Path]:
    """Yield every regular file under ``root`` (or ``root`` itself), in a stable order; links
    follow :mod:`pacsguard.fswalk`'s rule, as ``deid`` does; a file reached twice is read once."""
    if root.is_file():
        yield root
        return
    if not root.is_dir():
        raise InputError("input is neither a file nor a folder")
    seen: set[tuple[int, int]] = set()
    for path in walk_tree(root, WalkStats()):
        try:
            st = path.stat()
        except OSError:
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            continue
        seen.add(key)
        yield path


def read_dicom(path: Path, limits: Limits = DEFAULT_LIMITS) -> DicomFile:
    """Read ``path`` fully; raise :class:`NotDicom` or :class:`CorruptDicom` if unusable
    (the structure and the limits are checked on the raw bytes first, as ``deid`` does)."""
    try:
        if path.stat().st_size > limits.max_file_bytes:
            raise LimitExceeded("too-large", f"the file is larger than {limits.max_file_mb} MB")
        data = path.read_bytes()
    except OSError as exc:
        raise CorruptDicom("unreadable", "the file cannot be read") from exc
    return parse_dicom(data, path, limits)


def parse_dicom(data: bytes, path: Path, limits: Limits = DEFAULT_LIMITS) -> DicomFile:
    """Parse the bytes of one file (``path`` names it); raise as :func:`read_dicom`."""
    looks_dicom = len(data) >= _PREAMBLE + 4 and data[_PREAMBLE : _PREAMBLE + 4] == b"DICM"
    if looks_dicom or (len(data) >= 8 and data[1] == 0 and data[3] == 0):
        prescan(data, limits, tolerate_truncation=True)  # a cut file still holds identifiers
    try:
        ds = pydicom.dcmread(io.BytesIO(data), force=not looks_dicom)
        # force=True accepts almost anything: insist on at least one sane element.
        if not looks_dicom and not _plausible(ds):
            raise NotDicom("not-dicom", "no DICOM prefix and no dataset")
    except NotDicom:
        raise
    except (InvalidDicomError, EOFError) as exc:
        if looks_dicom:
            raise CorruptDicom("corrupt", "DICOM prefix but the dataset cannot be parsed") from exc
        raise NotDicom("not-dicom", "not a DICOM file") from exc
    except Exception as exc:  # pydicom raises many kinds on broken input
        if looks_dicom:
            raise CorruptDicom("corrupt", "DICOM prefix but the dataset cannot be parsed") from exc
        raise NotDicom("not-dicom", "not a DICOM file") from exc
    if looks_dicom and not list(ds.keys()):
        raise CorruptDicom("empty", "DICOM prefix but no dataset")
    # pydicom reads short values at end of file without complaint: flag it, keep what was read.
    damaged = "the dataset is cut short" if _truncated(ds) else None
    return DicomFile(path=path, data=data, ds=ds, bulk=_bulk_ranges(ds), damaged=damaged)


def _truncated(ds: Dataset) -> bool:
    for tag in list(ds.keys()):
        item = ds.get_item(tag)
        if (isinstance(item, RawDataElement) and item.value is not None
                and item.length != 0xFFFFFFFF and len(item.value) != item.length):
            return True
    return False


def _bulk_ranges(ds: Dataset) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for tag in list(ds.keys()):
        if not is_bulk(int(tag)):
            continue
        item = ds.get_item(tag)
        if isinstance(item, RawDataElement) and item.value is not None:
            ranges.append((item.value_tell, item.value_tell + len(item.value)))
    return sorted(ranges)


def _plausible(ds: Dataset) -> bool:
    tags = list(ds.keys())
    if not tags:
        return False
    # A forced read of random bytes yields odd tags quickly; real implicit-VR files start low.
    return all(t.group in (0x0002, 0x0008) or t.group < 0x7FE1 for t in tags[:3]) and (
        tags[0].group in (0x0002, 0x0004, 0x0008)
    )


def rel_posix(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` as POSIX text (``root`` itself gives its name)."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        return path.name
    text = rel.as_posix()
    return text if text != "." else path.name
