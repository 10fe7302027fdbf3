"""Helpers of the scale-out tests: real peers on loopback (a moto S3 server, a Dask scheduler
and worker processes), each started as a subprocess and stopped after (every wait bounded)."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 60,
              host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(15)


def child_env() -> dict[str, str]:
    """The test's environment for subprocesses, with this checkout first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    return env


def tree(root: Path) -> dict[str, bytes]:
    """Relative name -> bytes of every .dcm file below ``root``."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.dcm")}


def digest(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


# -- moto: an S3 server on loopback -----------------------------------------------------
def upload(client: object, folder: Path, bucket: str, prefix: str) -> None:
    client.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            key = f"{prefix}/{path.relative_to(folder).as_posix()}"
            client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())  # type: ignore[attr-defined]


def objects(client: object, bucket: str, prefix: str) -> dict[str, bytes]:
    """Relative name -> bytes of every object under ``prefix``."""
    out: dict[str, bytes] = {}
    pages = client.get_paginator("list_objects_v2").paginate(  # type: ignore[attr-defined]
        Bucket=bucket, Prefix=prefix + "/")
    for page in pages:
        for obj in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()  # type: ignore[attr-defined]
            out[obj["Key"][len(prefix) + 1:]] = body
    return out


# -- a Dask cluster: `dask scheduler` and `dask worker` processes ---------------------------
@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def wait_for_workers(self, n: int, seconds: float = 90) -> None:
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(n, timeout=seconds)

    def stop(self) -> None:
        for w in self.workers:
            stop(w)
        stop(self.scheduler)


def logged(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """A subprocess whose stderr goes to ``log`` (the child keeps its own descriptor)."""
    with open(log, "wb") as fh:
        return subprocess.Popen(args, env=child_env(), stdout=subprocess.DEVNULL, stderr=fh)


def start_cluster(workers: int, log_dir: Path) -> Cluster:
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    sched = logged([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                    "--no-dashboard"], log_dir / "scheduler.log")
    cluster = Cluster(f"tcp://127.0.0.1:{port}", sched)
    try:
        wait_port(port, sched, 60)
        for n in range(workers):
            cluster.workers.append(logged(
                [str(BIN / "dask"), "worker", cluster.address, "--host", "127.0.0.1",
                 "--nworkers", "1", "--nthreads", "1", "--no-dashboard", "--no-nanny",
                 "--name", f"w{n}"], log_dir / f"worker{n}.log"))
        cluster.wait_for_workers(workers)
    except BaseException:
        cluster.stop()
        raise
    return cluster




class CrashingSource:
    """A folder source whose ``load`` kills the worker process on files named ``boom*``
    (a stand-in for an input that crashes a decoder). Importable by spawned workers."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def handles(self) -> Iterator[str]:
        for path in sorted(self.root.iterdir()):
            yield str(path)

    def load(self, handle: str) -> Path:
        if Path(handle).name.startswith("boom"):
            os._exit(3)
        return Path(handle)

    def stamp(self, handle: str) -> tuple[int, int] | None:
        st = os.stat(handle)
        return st.st_size, st.st_mtime_ns
