"""Built-in synthetic, identifying sample data for the demo, the tests and the benchmarks.

Every patient is invented (see :mod:`pacsguard.samples.people`); the data is
nevertheless built to leak the way real exports do: identifiers in standard
and private tags, nested sequences, free text, SR content, overlays, an
encapsulated PDF, file meta, DICOMDIR records, and file and folder names.

Public API::

    PATIENTS, FakePatient                       the fake patients
    KINDS, identifying_dataset(patient, kind)   one dataset per kind
    PRIVATE_TAGS, PlantedPrivate, ACME_CREATOR  planted private elements
    write_demo_tree(root, patients, seed)       the demo export tree -> Manifest
    write_ct_series(dir, n_slices, rows, cols)  the benchmark CT series -> Manifest
    Manifest, FileEntry, PatientEntry           ground truth of what was written

:mod:`pacsguard.samples.burned_text` (imported on its own: it needs Pillow and the DejaVu
fonts) draws images with burned-in text and their ground-truth boxes, for the pixel tests and
``bench/pixels_bench.py``.
"""

from __future__ import annotations

from pacsguard.samples.builders import (
    KINDS,
    SERIES_NUMBERS,
    SOP_CLASSES,
    identifying_dataset,
    instance_uids,
)
from pacsguard.samples.ct import write_ct_series
from pacsguard.samples.manifest import FileEntry, Manifest, PatientEntry
from pacsguard.samples.people import PATIENTS, FakePatient
from pacsguard.samples.planted import find_planted, identifier_set
from pacsguard.samples.private import ACME_CREATOR, PRIVATE_TAGS, PlantedPrivate
from pacsguard.samples.tree import STUDY_PLAN, inflate_body, write_demo_tree
from pacsguard.samples.uids import sample_uid

__all__ = [
    "ACME_CREATOR",
    "KINDS",
    "PATIENTS",
    "PRIVATE_TAGS",
    "SERIES_NUMBERS",
    "SOP_CLASSES",
    "STUDY_PLAN",
    "FakePatient",
    "FileEntry",
    "Manifest",
    "PatientEntry",
    "PlantedPrivate",
    "find_planted",
    "identifier_set",
    "identifying_dataset",
    "inflate_body",
    "instance_uids",
    "sample_uid",
    "write_ct_series",
    "write_demo_tree",
]
