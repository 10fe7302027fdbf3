"""``--executor dask`` against a real scheduler and two worker processes on loopback.

The same key and policy give the same names and bytes as a local run, on a folder and on an
object store; a worker killed mid-run loses nothing and duplicates nothing; a client killed
mid-run is completed by a rerun that redoes only what is missing.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from scalepeers import REPO, Cluster, child_env, objects, start_cluster, tree, upload

from pacsguard.cli import main
from pacsguard.samples import write_demo_tree
from pacsguard.samples.ct import write_ct_series

pytestmark = pytest.mark.slow

N_SLICES = 240


def pacsguard(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "pacsguard", "-q", *args], env=child_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen[bytes], seconds: float = 240) -> int:
    try:
        _, err = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    assert b"Traceback" not in err, err.decode(errors="replace")
    return proc.returncode


def hidden(root: Path) -> list[Path]:
    """Staging leftovers or anything else that is not a finished output."""
    return [p for p in root.rglob("*") if p.name.startswith(".")]


@pytest.fixture(scope="module")
def ct(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A CT series and its outputs from a local -j2 run (the reference)."""
    base = tmp_path_factory.mktemp("ct")
    write_ct_series(base / "in", n_slices=N_SLICES, rows=128, cols=128)
    key = base / "k"
    key.write_text("5a" * 32 + "\n")
    assert finish(pacsguard("deid", str(base / "in"), str(base / "ref"), "--key-file", str(key),
                            "--no-progress", "-j", "2")) == 0
    ref = tree(base / "ref")
    assert len(ref) == N_SLICES
    return base / "in", ref


def journalled(path: Path) -> int:
    """Inputs the journal has settled so far (read beside the running writer: WAL)."""
    if not path.exists():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return int(db.execute("SELECT count(*) FROM files WHERE outcome = 'written'").fetchone()[0])
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0
    finally:
        db.close()


def wait_for_outputs(out: Path, n: int, proc: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the run ended (exit {proc.returncode}) before it could be interrupted")
        if out.is_dir() and sum(1 for _ in out.rglob("*.dcm")) >= n:
            return
        time.sleep(0.05)
    pytest.fail(f"fewer than {n} outputs after {seconds} s")


def test_dask_s3_and_local_runs_are_byte_identical(s3: Any, cluster: Cluster, key_file: Path,
                                                    tmp_path: Path) -> None:
    src = tmp_path / "in"
    write_demo_tree(src, patients=4, seed=0)
    common = ["--key-file", str(key_file), "--no-clean-pixels", "--no-progress"]
    assert main(["-q", "deid", str(src), str(tmp_path / "local"), "-j", "2", *common]) == 1
    expected = tree(tmp_path / "local")
    assert len(expected) > 20

    assert main(["-q", "deid", str(src), str(tmp_path / "dask"), "--executor", "dask",
                 "--scheduler", cluster.address, "--batch-size", "3", *common]) == 1
    assert tree(tmp_path / "dask") == expected
    assert not hidden(tmp_path / "dask")
    summary = json.loads((tmp_path / "dask" / "pacsguard-summary.json").read_text())
    assert summary["executor"] == "dask" and summary["workers"] == 2

    upload(s3, src, "hospital", "export")
    s3.create_bucket(Bucket="lake")
    assert main(["-q", "deid", "s3://hospital/export", "s3://lake/deid", "--side-dir",
                 str(tmp_path / "side"), "--executor", "dask", "--scheduler", cluster.address,
                 *common]) == 1
    remote = objects(s3, "lake", "deid")
    remote.pop("pacsguard-summary.json")
    assert remote == expected


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(
        ct: tuple[Path, dict[str, bytes]], cluster: Cluster, key_file: Path,
        tmp_path: Path) -> None:
    src, ref = ct
    out = tmp_path / "out"
    proc = pacsguard("deid", str(src), str(out), "--key-file", str(key_file), "--no-progress",
                     "--executor", "dask", "--scheduler", cluster.address, "--batch-size", "4",
                     "--json", str(tmp_path / "s.json"))
    wait_for_outputs(out, 30, proc)
    victim = cluster.workers[0]
    victim.send_signal(signal.SIGKILL)  # mid-task: both workers are busy while the run goes on
    victim.wait(30)
    assert finish(proc) == 0
    assert tree(out) == ref  # complete, byte-identical, no second copy under another name
    assert not hidden(out)  # no staged leftover, no partial file
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["outcomes"]["written"] == N_SLICES
    assert summary["outcomes"]["quarantined"] == 0 and summary["outcomes"]["failed"] == 0


def test_a_client_killed_mid_run_is_completed_by_a_rerun(
        ct: tuple[Path, dict[str, bytes]], cluster: Cluster, key_file: Path,
        tmp_path: Path) -> None:
    src, ref = ct
    out = tmp_path / "out"
    args = ["deid", str(src), str(out), "--key-file", str(key_file), "--no-progress",
            "--executor", "dask", "--scheduler", cluster.address, "--batch-size", "4"]
    proc = pacsguard(*args)
    journal = tmp_path / "out.pacsguard" / "journal.sqlite"
    deadline = time.monotonic() + 120
    # Killed once 20 outputs are committed (the journal is flushed every 2 s or 256 rows,
    # so it may hold none of them yet: a run of 240 small files takes about a second).
    while sum(1 for _ in out.rglob("*.dcm")) < 20:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)  # no clean-up of any kind: unflushed rows are lost
    proc.communicate(timeout=30)
    assert sum(1 for _ in out.rglob("*.dcm")) < N_SLICES  # killed mid-run
    done_before = journalled(journal)
    assert done_before < N_SLICES
    assert finish(pacsguard(*args, "--json", str(tmp_path / "s.json"))) == 0
    assert tree(out) == ref
    assert not hidden(out)
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["already_done"] >= done_before  # only what was missing was redone
    assert summary["outcomes"]["written"] + summary["already_done"] == N_SLICES


def test_the_localcluster_example_script(key_file: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    write_demo_tree(src, patients=2, seed=1)
    common = ["--key-file", str(key_file), "--no-clean-pixels"]
    assert main(["-q", "deid", str(src), str(tmp_path / "local"), "--no-progress", *common]) == 1
    proc = subprocess.Popen([sys.executable, str(REPO / "examples" / "dask_localcluster.py"),
                             str(src), str(tmp_path / "out"), *common], env=child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert finish(proc, 180) == 1  # the samples include quarantined files
    assert tree(tmp_path / "out") == tree(tmp_path / "local")


def test_a_lost_scheduler_stops_the_run_and_a_rerun_on_a_new_cluster_completes_it(
        ct: tuple[Path, dict[str, bytes]], cluster: Cluster, key_file: Path,
        tmp_path: Path) -> None:
    src, ref = ct
    out = tmp_path / "out"
    args = ["deid", str(src), str(out), "--key-file", str(key_file), "--no-progress",
            "--executor", "dask", "--batch-size", "4"]
    proc = pacsguard(*args, "--scheduler", cluster.address)
    wait_for_outputs(out, 30, proc)
    cluster.scheduler.kill()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert b"lost the Dask cluster" in err
    fresh = start_cluster(2, tmp_path / "fresh-logs")
    try:
        assert finish(pacsguard(*args, "--scheduler", fresh.address)) == 0
    finally:
        fresh.stop()
    assert tree(out) == ref
    assert not hidden(out)


def test_a_worker_killed_mid_run_between_object_stores(
        ct: tuple[Path, dict[str, bytes]], s3: Any, cluster: Cluster, key_file: Path,
        tmp_path: Path) -> None:
    """The same on S3: each output is one PUT of the finished object, so a killed worker
    leaves no partial object, and its retried batch PUTs the same keys again."""
    src, ref = ct
    upload(s3, src, "pacs", "export")
    s3.create_bucket(Bucket="lake")
    proc = pacsguard("deid", "s3://pacs/export", "s3://lake/deid", "--side-dir",
                     str(tmp_path / "side"), "--key-file", str(key_file), "--no-progress",
                     "--executor", "dask", "--scheduler", cluster.address, "--batch-size", "4")
    deadline = time.monotonic() + 120
    while s3.list_objects_v2(Bucket="lake", Prefix="deid/").get("KeyCount", 0) < 30:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    cluster.workers[1].send_signal(signal.SIGKILL)
    cluster.workers[1].wait(30)
    assert finish(proc) == 0
    remote = objects(s3, "lake", "deid")
    remote.pop("pacsguard-summary.json")
    assert remote == ref  # every object whole, byte-identical; no other key
