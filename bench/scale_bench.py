"""Scale-out benchmark: ``pacsguard deid`` locally and on a Dask cluster, in the same run.

    .venv/bin/python bench/scale_bench.py [--slices 600] [--rows 512] [--cols 512]
        [--rounds 3] [--tmp DIR] [--wait-idle SECS]

One generated 16-bit CT study (``pacsguard.samples.write_ct_series``) goes through, each run
into a fresh output folder, in interleaved rounds (the table keeps each setup's fastest run):

* ``local -j2``: today's process pool (the reference);
* ``dask 2 workers``: ``--executor dask --scheduler ADDRESS`` against a ``dask scheduler`` and
  two ``dask worker --nworkers 1 --nthreads 1`` processes on loopback;
* ``dask 1 worker``: the same with one worker;
* ``dask LocalCluster -j2``: ``--executor dask -j 2`` (starts and stops its own cluster,
  so its time includes the cluster's start-up).

Each round starts new clusters before its timed runs (a cluster exists before a job is sent
to it). Workers start with ``--preload pacsguard.batch.cluster`` (docs/scale.md: they import
pacsguard when they start); the timed Dask runs include the client's connection, each
worker's pipeline build and the shipping of every task. Every output tree is checked
against the local run's (names and bytes).

Targets (issue 11, 2 cores): Dask 2 workers >= 1.8x faster than Dask 1 worker, and within
1.25x of local ``-j2``. Prints a markdown table and writes bench/results/scale.json. "CPU s"
is the command's process tree plus, for an external cluster, its scheduler and workers;
"machine busy %" is the whole machine's, since a shared host skews wall times.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
#: Workers import pacsguard when they start, not on their first task (docs/scale.md).
PRELOAD = "pacsguard.batch.cluster"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), e.get("PYTHONPATH", "")])
    return e


class Cluster:
    """A ``dask scheduler`` and N ``dask worker`` processes on loopback."""

    def __init__(self, workers: int) -> None:
        port = free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        quiet = {"env": env(), "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        self.procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1",
                                        "--port", str(port), "--no-dashboard"], **quiet)]
        self.procs += [subprocess.Popen([str(BIN / "dask"), "worker", self.address, "--host",
                                         "127.0.0.1", "--nworkers", "1", "--nthreads", "1",
                                         "--no-dashboard", "--preload", PRELOAD], **quiet)
                       for _ in range(workers)]
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)

    def cpu(self) -> float:
        """CPU seconds used so far by the scheduler, the nannies and the workers."""
        import psutil  # a dependency of distributed

        total = 0.0
        for p in self.procs:
            try:
                proc = psutil.Process(p.pid)
                for q in [proc, *proc.children(recursive=True)]:
                    t = q.cpu_times()
                    total += t.user + t.system
            except psutil.NoSuchProcess:
                continue
        return total

    def close(self) -> None:
        for p in reversed(self.procs):
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def wait_idle(budget: float, threshold: float = 15.0) -> float:
    """Wait (at most ``budget`` seconds) for a 2 s window in which the machine is less than
    ``threshold`` % busy; returns the busy % of the last window (a shared host)."""
    deadline = time.monotonic() + budget
    while True:
        busy0, total0 = cpu_ticks()
        time.sleep(2)
        busy1, total1 = cpu_ticks()
        busy = 100.0 * (busy1 - busy0) / max(1, total1 - total0)
        if busy < threshold or time.monotonic() > deadline:
            return busy


def timed(args: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of the command's process tree, machine busy %). The Dask
    cluster's own CPU is added by the caller (its processes are not the command's)."""
    before = os.times()
    busy0, total0 = cpu_ticks()
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pacsguard", "-q", *args], env=env(),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=1800)
    wall = time.perf_counter() - start
    busy1, total1 = cpu_ticks()
    after = os.times()
    if proc.returncode != 0:
        raise SystemExit(f"pacsguard {' '.join(args[:3])} failed ({proc.returncode}): "
                         f"{proc.stderr.decode(errors='replace')[-2000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu, 100.0 * (busy1 - busy0) / max(1, total1 - total0)


def tree_digest(out: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(out.rglob("*.dcm")):
        h.update(path.relative_to(out).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--slices", type=int, default=600)
    ap.add_argument("--rows", type=int, default=512)
    ap.add_argument("--cols", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tmp", type=Path, help="work folder (default: a temp folder)")
    ap.add_argument("--wait-idle", type=float, default=0, metavar="SECS", help="before each "
                    "timed run, wait up to SECS for the machine to be idle (a shared host)")
    args = ap.parse_args()

    from pacsguard.samples.ct import write_ct_series

    work = Path(tempfile.mkdtemp(prefix="pacsguard-scale-", dir=args.tmp))
    try:
        src = work / "in"
        write_ct_series(src, n_slices=args.slices, rows=args.rows, cols=args.cols)
        mb = sum(p.stat().st_size for p in src.rglob("*") if p.is_file()) / 1e6
        key = work / "bench.key"
        key.write_text(secrets.token_hex(32) + "\n")
        common = ["--key-file", str(key), "--no-progress"]
        best: dict[str, tuple[float, float, float]] = {}
        digests: dict[str, str] = {}

        def run(label: str, extra: list[str], cluster: Cluster | None = None) -> None:
            out = work / "out"
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(work / "out.pacsguard", ignore_errors=True)
            subprocess.run(["sync"], check=False)
            if args.wait_idle:
                wait_idle(args.wait_idle)
            before = cluster.cpu() if cluster else 0.0
            wall, cpu, busy = timed(["deid", str(src), str(out), *common, *extra])
            result = (wall, cpu + (cluster.cpu() - before if cluster else 0.0), busy)
            digests.setdefault(label, tree_digest(out))
            print(f"  {label}: {result[0]:.2f} s (CPU {result[1]:.1f} s, machine busy "
                  f"{result[2]:.0f}%)", flush=True)
            if label not in best or result[0] < best[label][0]:
                best[label] = result

        for n in range(args.rounds):
            print(f"round {n + 1} of {args.rounds}", flush=True)
            two, one = Cluster(2), Cluster(1)
            try:
                run("local -j2", ["-j", "2"])
                run("dask 2 workers", ["--executor", "dask", "--scheduler", two.address], two)
                run("dask 1 worker", ["--executor", "dask", "--scheduler", one.address], one)
            finally:
                two.close()
                one.close()
            run("dask LocalCluster -j2", ["--executor", "dask", "-j", "2"])

        ref = digests["local -j2"]
        same = {label: d == ref for label, d in digests.items()}
        local, d2, d1 = best["local -j2"][0], best["dask 2 workers"][0], best["dask 1 worker"][0]
        speedup, vs_local = d1 / d2, d2 / local
        print(f"\n{args.slices} slices {args.rows}x{args.cols}, {mb:.0f} MB, best of "
              f"{args.rounds} rounds, {os.cpu_count()} cores\n")
        print("| setup | seconds | files/s | MB/s | CPU s | CPU ms per file | machine busy % | "
              "same bytes as local |")
        print("|---|---:|---:|---:|---:|---:|---:|---|")
        for label, (wall, cpu, busy) in best.items():
            print(f"| {label} | {wall:.2f} | {args.slices / wall:.0f} | {mb / wall:.0f} | "
                  f"{cpu:.1f} | {1000 * cpu / args.slices:.1f} | {busy:.0f} | "
                  f"{'yes' if same[label] else 'NO'} |")
        print(f"\nDask 2 workers vs 1 worker: {speedup:.2f}x faster (target >= 1.8x: "
              f"{'met' if speedup >= 1.8 else 'NOT met'})")
        print(f"Dask 2 workers vs local -j2: {vs_local:.2f}x the time (target <= 1.25x: "
              f"{'met' if vs_local <= 1.25 else 'NOT met'})")
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "scale.json").write_text(json.dumps({
            "slices": args.slices, "rows": args.rows, "cols": args.cols, "mb": round(mb, 1),
            "rounds": args.rounds, "cores": os.cpu_count(),
            "best": {k: {"seconds": round(w, 3), "cpu_seconds": round(c, 2),
                         "machine_busy_percent": round(b)} for k, (w, c, b) in best.items()},
            "same_bytes_as_local": same,
            "dask2_vs_dask1_speedup": round(speedup, 3),
            "dask2_vs_local_time_ratio": round(vs_local, 3),
        }, indent=2) + "\n")
        return 0 if all(same.values()) else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
