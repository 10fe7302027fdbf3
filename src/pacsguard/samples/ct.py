"""A large identifying CT series for benchmarks.

The dataset is built once; per slice only the instance-level attributes and
the pixel bytes change (the same noise image rolled by one row per slice), so
writing is bound by disk speed, not by Python.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom import dcmwrite

from pacsguard.samples.builders import ct_pixels, identifying_dataset
from pacsguard.samples.manifest import FileEntry, Manifest, PatientEntry
from pacsguard.samples.people import PATIENTS, FakePatient
from pacsguard.samples.planted import find_planted, identifier_set
from pacsguard.samples.tree import check_empty_output
from pacsguard.samples.uids import sample_uid

__all__ = ["write_ct_series"]


def write_ct_series(
    directory: str | Path,
    n_slices: int = 600,
    rows: int = 512,
    cols: int = 512,
    patient: FakePatient = PATIENTS[0],
    seed: int = 0,
) -> Manifest:
    """Write one axial CT series of ``n_slices`` files ``IM-0001-NNNN.dcm`` into ``directory``.

    Study, series and SOP UIDs are distinct from the demo tree's (a separate
    "bench" study of the patient's first study date), deterministic from ``seed``.

    Raises
    ------
    OutputError
        ``directory`` exists and is not empty.
    ValueError
        A size is out of range.
    """
    if not (1 <= n_slices <= 100_000 and 16 <= rows <= 4096 and 16 <= cols <= 4096):
        raise ValueError("CT series size out of range (slices 1..100000, rows/cols 16..4096)")
    directory = Path(directory)
    check_empty_output(directory)
    directory.mkdir(parents=True, exist_ok=True)

    ds = identifying_dataset(patient, "CT", seed=seed, study_index=0, size=(16, 16))
    pid = patient.patient_id
    ds.StudyInstanceUID = sample_uid(seed, pid, "bench")
    ds.SeriesInstanceUID = sample_uid(seed, pid, "bench", "series")
    ds.FrameOfReferenceUID = sample_uid(seed, pid, "bench", "for")
    ds.RequestAttributesSequence[0].ReferencedStudySequence[
        0
    ].ReferencedSOPInstanceUID = ds.StudyInstanceUID
    ds.SeriesDescription = "AXIAL 1.25 STANDARD"
    ds.SliceThickness = 1.25
    base = ct_pixels(rows, cols, np.random.default_rng(seed))
    ds.Rows, ds.Columns = rows, cols
    ds.PixelSpacing = [round(360.0 / cols, 4), round(360.0 / rows, 4)]

    idents = identifier_set(patient)
    uids = [str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.FrameOfReferenceUID)]
    manifest = Manifest(layout="ct-series", seed=seed)
    for number in range(1, n_slices + 1):
        sop = sample_uid(seed, pid, "bench", "series", number)
        z = round(-300.0 + 1.25 * number, 2)
        ds.SOPInstanceUID = sop
        ds.file_meta.MediaStorageSOPInstanceUID = sop
        ds.InstanceNumber = number
        ds.ImagePositionPatient = [-180.0, -180.0, z]
        ds.SliceLocation = z
        ds.PixelData = np.roll(base, number, axis=0).tobytes()
        name = f"IM-0001-{number:04d}.dcm"
        dcmwrite(directory / name, ds, enforce_file_format=True)
        uids.append(str(sop))
        manifest.files.append(
            FileEntry(
                path=name,
                kind="CT",
                patient=0,
                study=0,
                transfer_syntax=str(ds.file_meta.TransferSyntaxUID),
                sop_instance_uid=str(sop),
            )
        )
    idents["uids"] = sorted(uids)
    # Every slice carries the same header, so what the last slice carries holds
    # for all, except each slice's own SOP Instance UID.
    last = str(ds.SOPInstanceUID)
    walk = {k: v for k, v in idents.items() if k != "uids"}
    walk["uids"] = [*uids[:3], last]
    found, places = find_planted(ds, walk, patient.encoding)
    shared = [value for value in found if value != last]
    for entry in manifest.files:
        entry.planted = sorted([*shared, str(entry.sop_instance_uid)])
        entry.places = places
    manifest.patients.append(
        PatientEntry(
            index=0,
            patient_id=pid,
            study_dates=[d.isoformat() for d in patient.study_dates],
            identifiers=idents,
        )
    )
    return manifest
