"""Coverage-guided fuzzing of the readers and the whole per-file pipeline (atheris).

``make fuzz`` (``FUZZ_SECONDS=60`` by default) runs it from a seed corpus of sample files and
hostile cases. A crash is any exception out of the readers other than a
:class:`~pacsguard.errors.FileRejected`, a ``processing-error`` outcome, or a file whose
outcome or bytes differ between the streaming path (from disk) and the full path (from
memory); atheris saves the input as ``crash-*``; turn each into a regression test in
``test_regressions.py``.
"""

from __future__ import annotations

import contextlib
import random
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from pacsguard.deid.keys import SecretKey
    from pacsguard.dicom.reader import read_dicom, read_dicom_file
    from pacsguard.dicom.settings import pydicom_scope
    from pacsguard.errors import FileRejected
    from pacsguard.pipeline import Deidentifier
    from pacsguard.profile.policy import Policy

_TMP = Path(tempfile.mkdtemp(prefix="pacsguard-fuzz-"))
_PIPELINE = Deidentifier(replace(Policy(), clean_pixels=False), SecretKey(b"\x5a" * 32, "fuzz"))


def one_input(data: bytes) -> None:
    path = _TMP / "input.dcm"
    path.write_bytes(data)
    for read in (read_dicom, read_dicom_file):
        with contextlib.suppress(FileRejected):
            read(path)
    on_disk, in_memory = _PIPELINE.process(path), _PIPELINE.process(data)
    for outcome in (on_disk, in_memory):
        if outcome.reason == "processing-error":
            raise RuntimeError(f"processing-error: {outcome.detail}")
    # From disk a file may take the streaming path (its pixel data copied, not parsed), from
    # memory never: the two must agree on the outcome and, when written, on every byte.
    if (on_disk.outcome, on_disk.reason) != (in_memory.outcome, in_memory.reason):
        raise RuntimeError(f"disk and memory disagree: {on_disk.reason!r} {in_memory.reason!r}")
    if on_disk.written and on_disk.data != in_memory.data:
        raise RuntimeError(f"streamed bytes differ from the full path ({on_disk.full_path!r})")


def seed_corpus(directory: Path) -> None:
    from tests.hostile.gen import generate

    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(5)
    for case in generate(2, seed=rng.randrange(1000)):
        if len(case.data) < 1 << 20:
            (directory / case.name).write_bytes(case.data)


def main() -> None:
    corpus = Path(__file__).resolve().parents[2] / ".fuzz-corpus"
    if not corpus.exists():
        seed_corpus(corpus)
    with pydicom_scope():
        atheris.Setup([sys.argv[0], *sys.argv[1:], str(corpus)], one_input)
        atheris.Fuzz()


if __name__ == "__main__":
    main()
