"""The worker pool gives the same answer as one process (inputs large enough to use it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom

from discover_fixtures import run_engine
from pacsguard.discover.verify import verify_trees
from pacsguard.samples import PATIENTS, write_ct_series


def test_pool_and_single_process_agree(tmp_path: Path) -> None:
    src = tmp_path / "in"
    write_ct_series(src, 64, 16, 16)  # above the pool threshold (48 files)
    out = tmp_path / "out"
    run_engine(src, out, tmp_path)
    leaky = tmp_path / "leaky"
    shutil.copytree(out, leaky)
    victims = sorted(leaky.rglob("*.dcm"))[5:8]
    for path in victims:
        ds = pydicom.dcmread(path)
        ds.PatientComments = f"was {PATIENTS[0].name}"
        ds.save_as(path)
    one = verify_trees(src, leaky, workers=1, dciodvfy="off")
    two = verify_trees(src, leaky, workers=2, dciodvfy="off")
    assert one.leaks == two.leaks
    assert {(leak.path, leak.location) for leak in two.leaks} == {
        (p.relative_to(leaky).as_posix(), "(0010,4000)") for p in victims}
    assert two.paired == 64 and verify_trees(src, out, workers=2, dciodvfy="off").ok
