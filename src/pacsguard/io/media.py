"""Rebuild a DICOMDIR for the de-identified files (``pacsguard deid --media DIR``).

An input DICOMDIR is never copied: its records name input files (paths full of names) and
repeat the patient's identifiers. Instead, the written outputs become a new DICOM File-set
(PS3.10 media layout, ``PT000000/ST000000/SE000000/IM000000`` and a ``DICOMDIR``) whose
records are built from the de-identified files themselves, so they agree with them exactly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.fileset import FileSet

from pacsguard.dicom.settings import pydicom_scope
from pacsguard.dicom.tags import STUDY_DATE, STUDY_ID, STUDY_INSTANCE_UID, STUDY_TIME
from pacsguard.errors import OutputError

FILESET_ID = "PACSGUARD"

# Directory records need some keys that the profile empties (Z): the media copy gets dummies
# derived from pseudonymous values only. (tag, VR, dummy maker)
_RECORD_KEYS: tuple[tuple[int, str, Callable[[Dataset], str]], ...] = (
    (STUDY_ID, "SH", lambda ds: "S" + hashlib.sha256(str(ds.get(STUDY_INSTANCE_UID).value)
                                                     .encode()).hexdigest()[:7].upper()),
    (STUDY_DATE, "DA", lambda ds: "19000101"),  # removed by the Basic Profile
    (STUDY_TIME, "TM", lambda ds: "000000"),
)


@contextmanager
def _staged(fs: FileSet) -> Iterator[None]:
    # pydicom stages added instances in a temporary folder it removes only when collected.
    try:
        yield
    finally:
        stage = getattr(fs, "_stage", {}).get("t")
        if stage is not None:
            stage.cleanup()


def _with_record_keys(ds: Dataset) -> Dataset:
    for tag, vr, make in _RECORD_KEYS:
        elem = ds.get(tag)
        if elem is None or not elem.value:
            ds.add_new(tag, vr, make(ds))
    return ds


def write_media(files: Iterable[Path], media_dir: Path) -> int:
    """Write a File-set with a DICOMDIR indexing ``files`` into an empty ``media_dir``."""
    if media_dir.exists() and any(media_dir.iterdir()):
        raise OutputError(f"the media folder {media_dir} is not empty")
    media_dir.mkdir(parents=True, exist_ok=True)
    fs = FileSet()
    fs.ID = FILESET_ID
    count = 0
    with pydicom_scope(), _staged(fs):  # pydicom warns with element values
        for path in sorted(files):
            try:
                fs.add(_with_record_keys(dcmread(path)))
            except (ValueError, KeyError) as exc:
                raise OutputError(f"cannot index {path.name} in a DICOMDIR: "
                                  f"{type(exc).__name__}") from exc
            count += 1
        if count:
            fs.write(media_dir)
    return count
