"""How the Dask executor treats failures: a file that kills its worker is found by splitting
its batch and quarantined alone (``worker-crash``); an unreachable scheduler is a usage error."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dask
import pytest
from scalepeers import REPO, CrashingSource, free_port

from pacsguard.batch.cluster import DaskExecutor, batch_size_for
from pacsguard.batch.worker import Processed, WorkerConfig
from pacsguard.cli import main
from pacsguard.deid.keys import SecretKey
from pacsguard.io import FolderSink
from pacsguard.outcome import Outcome
from pacsguard.profile.policy import Policy
from pacsguard.samples.ct import write_ct_series

pytestmark = pytest.mark.slow


def test_a_file_that_kills_its_worker_is_quarantined_alone(
        tmp_path: Path, key: SecretKey, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in"
    write_ct_series(src, n_slices=12, rows=32, cols=32)
    shutil.copy(sorted(src.iterdir())[0], src / "boom.dcm")
    # Spawned workers import CrashingSource from the tests' folder.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(REPO / "tests" / "scale"), str(REPO / "src"), os.environ.get("PYTHONPATH", "")]))
    sink = FolderSink(tmp_path / "out")
    sink.prepare()
    cfg = WorkerConfig(Policy(), key)
    got: list[Processed] = []
    import distributed  # noqa: F401  (its defaults loaded first: leaving the `set` keeps them)

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        DaskExecutor(cfg, CrashingSource(src), sink, scheduler=None, workers=2,
                     batch_size=4).run(CrashingSource(src).handles(), got.append)
    by_name = {Path(p.result.handle).name: p.result for p in got}
    assert len(got) == len(by_name) == 13  # one answer per input, none twice
    boom = by_name.pop("boom.dcm")
    assert (boom.outcome, boom.reason) == (Outcome.QUARANTINED, "worker-crash")
    assert all(r.outcome is Outcome.WRITTEN for r in by_name.values())


def test_an_unreachable_scheduler_exits_2(tmp_path: Path, key_file: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    write_ct_series(tmp_path / "in", n_slices=2, rows=32, cols=32)
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    assert main(["-q", "deid", str(tmp_path / "in"), str(tmp_path / "out"), "--key-file",
                 str(key_file), "--executor", "dask", "--scheduler", address]) == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err


def test_batches_grow_with_the_cluster() -> None:
    assert batch_size_for(0) == batch_size_for(2) == 16
    assert batch_size_for(200) == 200
    assert batch_size_for(100_000) == 1024
