"""The demo tree: a realistic, identifying export as it lands on a shared drive.

Layout (``patients`` folders, three studies each)::

    root/
      README.txt                                  non-DICOM, names patient 0
      DICOMDIR, PT000000/ST000000/SE00000x/...    a file-set copy of patient 0's first CT + SR
      DUPONT_Marie_PID-004711/
        2021-11-02 CT THORAX/IM0001 ... IM0004    CT x3 (IM0002 implicit VR), IM0004 truncated,
                                                  OVERLAY as IM0005, SR as SR_<accession>.dcm
        2023-01-17 MR GENOU DROIT/<SOP UID>.dcm   MR x2 (one deflated, on patient 1), US, US-noflag
        2023-06-14 CONTROLE THORAX/<acc>_1.dcm    SC, PDF

Everything is deterministic from ``seed``: the same seed gives a byte-identical tree.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterable
from pathlib import Path

from pydicom import dcmread, dcmwrite
from pydicom.dataset import FileDataset
from pydicom.fileset import FileSet
from pydicom.uid import DeflatedExplicitVRLittleEndian, ImplicitVRLittleEndian

from pacsguard.errors import OutputError
from pacsguard.samples.builders import identifying_dataset
from pacsguard.samples.manifest import FileEntry, Manifest, PatientEntry
from pacsguard.samples.people import PATIENTS, FakePatient
from pacsguard.samples.planted import find_planted, identifier_set
from pacsguard.samples.uids import sample_uid

__all__ = ["STUDY_PLAN", "check_empty_output", "close_fileset", "inflate_body", "write_demo_tree"]

# Per study index: (kind, instance) pairs written in that study.
STUDY_PLAN: tuple[tuple[tuple[str, int], ...], ...] = (
    (("CT", 1), ("CT", 2), ("CT", 3), ("OVERLAY", 1), ("SR", 1)),
    (("MR", 1), ("MR", 2), ("US", 1), ("US-noflag", 1)),
    (("SC", 1), ("PDF", 1)),
)


def check_empty_output(root: Path) -> None:
    """Refuse to write samples into an existing, non-empty folder (or onto a file)."""
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise OutputError("the sample output folder exists and is not empty; pick a new one")


def _folder_name(patient: FakePatient) -> str:
    given = patient.given_name.replace(" ", "_")
    return f"{patient.family_name.replace(' ', '_')}_{given}_{patient.patient_id}"


def _study_folder(patient: FakePatient, study: int) -> str:
    return f"{patient.study_dates[study].isoformat()} {patient.study_descriptions[study]}"


def _file_name(patient: FakePatient, study: int, position: int, ds: FileDataset) -> str:
    if ds.Modality == "SR":
        return f"SR_{patient.accession_numbers[study]}.dcm"
    if study == 0:
        return f"IM{position:04d}"  # console exports: no extension
    if study == 1:
        return f"{ds.SOPInstanceUID}.dcm"  # PACS exports: SOP Instance UID as name
    return f"{patient.accession_numbers[study]}_{position}.dcm"


def _encode(ds: FileDataset, variant: str) -> bytes:
    buffer = io.BytesIO()
    if variant == "implicit-vr":
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    elif variant == "deflated":
        ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    dcmwrite(buffer, ds, enforce_file_format=True)
    data = buffer.getvalue()
    if variant == "truncated":
        # Cut in the middle of Pixel Data (the last element): header intact, pixels short.
        pixels = len(ds.PixelData)
        data = data[: len(data) - pixels // 2]
    return data


def _entry(
    rel: str,
    kind: str,
    index: int | None,
    study: int | None,
    ds: FileDataset | None,
    variant: str,
    idents: dict[str, list[str]],
    encoding: str,
) -> FileEntry:
    planted: list[str] = []
    places: list[str] = []
    syntax = sop = None
    if ds is not None:
        planted, places = find_planted(ds, idents, encoding)
        syntax, sop = str(ds.file_meta.TransferSyntaxUID), ds.get("SOPInstanceUID")
    flat = {v for values in idents.values() for v in values if v}
    path_text = rel.replace("_", " ")
    return FileEntry(
        path=rel,
        kind=kind,
        patient=index,
        study=study,
        variant=variant,
        transfer_syntax=syntax,
        sop_instance_uid=str(sop) if sop else None,
        planted=planted,
        places=places,
        path_planted=sorted(v for v in flat if v in path_text or v in rel),
    )


def _uids_of(ds: FileDataset) -> Iterable[str]:
    # Every UID the builders generate (instances, references, frames of reference)
    # lives under 2.25; SOP class and transfer syntax UIDs do not.
    for elem in ds.iterall():
        if elem.VR == "UI" and str(elem.value).startswith("2.25."):
            yield str(elem.value)


def _write_dicomdir(root: Path, seed: int, members: list[FileDataset]) -> list[Path]:
    """Write ``members`` as a file-set with its DICOMDIR at ``root``; return relative paths."""
    fileset = FileSet()
    try:
        fileset.UID = sample_uid(seed, "fileset")
        fileset.ID = "PACSGUARD"
        for ds in members:
            fileset.add(ds)
        fileset.write(root)
        # FileSet reports absolute paths, whatever ``root`` was given as.
        paths = [Path(instance.path).resolve().relative_to(root.resolve()) for instance in fileset]
    finally:
        close_fileset(fileset)
    return sorted(paths)


def close_fileset(fileset: FileSet) -> None:
    """Remove the staging folder a pydicom FileSet keeps until garbage collection.

    pydicom has no public close; left alone, the folder is removed by a
    finalizer that raises ResourceWarning (an error under our pytest settings).
    """
    stage = getattr(fileset, "_stage", {}).get("t")
    if stage is not None:
        stage.cleanup()


def write_demo_tree(root: str | Path, patients: int = 4, seed: int = 0) -> Manifest:
    """Write the identifying demo tree under ``root`` and return its manifest.

    Parameters
    ----------
    root
        A folder that does not exist yet or is empty.
    patients
        How many of :data:`PATIENTS` to use (1..6).
    seed
        Seeds UIDs and pixels: the same seed writes a byte-identical tree.

    Raises
    ------
    OutputError
        ``root`` exists and is not empty.
    ValueError
        ``patients`` is out of range.
    """
    root = Path(root)
    if not 1 <= patients <= len(PATIENTS):
        raise ValueError(f"patients must be between 1 and {len(PATIENTS)}")
    check_empty_output(root)
    root.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(layout="demo-tree", seed=seed)
    deflated_patient = 1 if patients > 1 else 0
    dicomdir_members: list[FileDataset] = []
    for index, patient in enumerate(PATIENTS[:patients]):
        idents = identifier_set(patient)
        built: list[tuple[str, int, FileDataset, str, str]] = []
        for study, plan in enumerate(STUDY_PLAN):
            folder = Path(_folder_name(patient)) / _study_folder(patient, study)
            position = 0
            for kind, instance in plan:
                position += 1
                ds = identifying_dataset(
                    patient, kind, seed=seed, study_index=study, instance=instance
                )
                variant = ""
                if index == 0 and study == 0 and kind == "CT" and instance == 2:
                    variant = "implicit-vr"
                if index == deflated_patient and study == 1 and kind == "MR" and instance == 1:
                    variant = "deflated"
                name = _file_name(patient, study, position, ds)
                built.append(((folder / name).as_posix(), study, ds, variant, kind))
                if index == 0 and study == 0 and kind == "CT" and instance == 3:
                    position += 1  # a fourth slice, cut short as an interrupted copy leaves it
                    cut = identifying_dataset(patient, "CT", seed=seed, study_index=0, instance=4)
                    built.append(
                        ((folder / f"IM{position:04d}").as_posix(), 0, cut, "truncated", "CT")
                    )
                if index == 0 and study == 0 and instance == 1 and kind in ("CT", "SR"):
                    dicomdir_members.append(identifying_dataset(patient, kind, seed=seed))
        for _rel, _study, ds, _variant, _kind in built:
            idents["uids"].extend(_uids_of(ds))
        idents["uids"] = sorted(set(idents["uids"]))
        for rel, study, ds, variant, kind in built:
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_encode(ds, variant))
            manifest.files.append(
                _entry(rel, kind, index, study, ds, variant, idents, patient.encoding)
            )
        manifest.patients.append(
            PatientEntry(
                index=index,
                patient_id=patient.patient_id,
                study_dates=[d.isoformat() for d in patient.study_dates],
                identifiers=idents,
            )
        )

    first = PATIENTS[0]
    first_idents = manifest.patients[0].identifiers
    readme = (
        "Export from PACS for second opinion.\n"
        f"Patient: {first.free_text_name} ({first.patient_id}), DOB {first.birth_date_text}.\n"
        f"Questions: {first.email}\n"
    )
    (root / "README.txt").write_text(readme, encoding="utf-8")
    readme_entry = _entry("README.txt", "non-dicom", 0, None, None, "", first_idents, "utf-8")
    readme_entry.planted = sorted(
        {v for values in first_idents.values() for v in values if v and v in readme}
    )
    manifest.files.append(readme_entry)

    for member in _write_dicomdir(root, seed, dicomdir_members):
        ds = dcmread(root / member)
        rel = member.as_posix()
        manifest.files.append(
            _entry(rel, str(ds.Modality), 0, 0, ds, "dicomdir-member", first_idents, first.encoding)
        )
    dicomdir = dcmread(root / "DICOMDIR")
    manifest.files.append(
        _entry("DICOMDIR", "DICOMDIR", 0, None, dicomdir, "", first_idents, first.encoding)
    )
    manifest.files.sort(key=lambda entry: entry.path)
    return manifest


def inflate_body(data: bytes) -> bytes:
    """The dataset bytes of a deflated file, inflated (file meta kept as is); for checks."""
    ds = dcmread(io.BytesIO(data), stop_before_pixels=True, specific_tags=[])
    meta_end = 132 + 12 + int(ds.file_meta.FileMetaInformationGroupLength)
    return data[:meta_end] + zlib.decompress(data[meta_end:], -zlib.MAX_WBITS)
