"""The gateway against DCMTK's storescp, in the same run, on the same data.

    .venv/bin/python bench/gateway_bench.py [--slices 600] [--rows 512] [--senders 4]
                                            [--orthanc] [--tmp DIR]

One generated 16-bit CT series (``pacsguard.samples.write_ct_series``) is pushed by
``--senders`` parallel ``dcmsend`` processes (TCP_NODELAY=1, as for every DCMTK tool here):

(a) into ``storescp --fork -pdu 131072``, which only receives (the floor): the clock stops when every
    sender has exited (storescp writes each file before it answers);
(b) through ``pacsguard gateway`` (all cores) to a ``storescp`` destination: the clock stops
    when the destination holds every instance; the gateway's memory (its process and its
    workers, VmRSS) is sampled every 0.2 s;
(c) with ``--orthanc``: into one Orthanc, which then sends the study to a second Orthanc
    (``POST /modalities/B/store``, synchronous): the clock stops when B has it all.

Each variant runs once on 20 files first (warm page cache and imports). Prints a markdown
table and writes bench/results/gateway.json. Timings are printed, never asserted.
Network traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ENV = {**os.environ, "TCP_NODELAY": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"nothing listens on {port}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def count(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file())


def push(files: list[Path], port: int, aec: str, senders: int) -> None:
    groups = [files[i::senders] for i in range(senders)]
    procs = [subprocess.Popen(["dcmsend", "-aet", f"SENDER{i}", "-aec", aec, "127.0.0.1",
                               str(port), *map(str, g)], env=ENV, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for i, g in enumerate(groups) if g]
    for p in procs:
        if p.wait(600) != 0:
            sys.exit("a dcmsend failed")


def rss_kb(pid: int) -> int:
    """VmRSS of a process and its children (the gateway's workers)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def bench_storescp(files: list[Path], tmp: Path, senders: int) -> float:
    out = tmp / "storescp-in"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    port = free_port()
    scp = subprocess.Popen(["storescp", "--fork", "+xa", "-pdu", "131072", "-aet", "FLOOR", "-od", str(out),
                            str(port)], env=ENV, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        start = time.perf_counter()
        push(files, port, "FLOOR", senders)
        while count(out) < len(files):
            time.sleep(0.01)
        return time.perf_counter() - start
    finally:
        stop(scp)


def bench_gateway(files: list[Path], tmp: Path, senders: int, key: Path) -> tuple[float, int, int]:
    dest = tmp / "dest-in"
    spool = tmp / "spool"
    for d in (dest, spool):
        shutil.rmtree(d, ignore_errors=True)
    dest.mkdir()
    dport, gport = free_port(), free_port()
    scp = subprocess.Popen(["storescp", "--fork", "+xa", "-pdu", "131072", "-aet", "DEST", "-od", str(dest),
                            str(dport)], env=ENV, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    gw = subprocess.Popen([sys.executable, "-m", "pacsguard", "gateway", "--listen",
                           f"127.0.0.1:{gport}", "--ae-title", "PACSGUARD", "--spool", str(spool),
                           "--forward", f"DEST@127.0.0.1:{dport}", "--key-file", str(key)],
                          env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(dport)
        wait_port(gport)
        time.sleep(1.0)  # workers started
        idle = rss_kb(gw.pid)
        peak = idle
        start = time.perf_counter()
        push(files, gport, "PACSGUARD", senders)
        while count(dest) < len(files):
            peak = max(peak, rss_kb(gw.pid))
            time.sleep(0.2)
            if time.perf_counter() - start > 900:
                sys.exit("the gateway did not deliver everything in 900 s")
        return time.perf_counter() - start, idle, peak
    finally:
        stop(gw)
        stop(scp)


Orthanc = tuple[subprocess.Popen[bytes], int, int]


def _orthanc(d: Path, name: str, modalities: dict[str, list[object]]) -> Orthanc:
    d.mkdir(parents=True, exist_ok=True)
    dicom, http = free_port(), free_port()
    cfg = {"Name": name, "StorageDirectory": str(d / "db"), "IndexDirectory": str(d / "db"),
           "HttpPort": http, "DicomPort": dicom, "DicomAet": name, "RemoteAccessAllowed": True,
           "AuthenticationEnabled": False, "DicomCheckCalledAet": False,
           "DicomAlwaysAllowStore": True, "DicomModalities": modalities}
    (d / "config.json").write_text(json.dumps(cfg))
    proc = subprocess.Popen(["Orthanc", f"--logfile={d / 'log'}", str(d / "config.json")],
                            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(http)
    wait_port(dicom)
    return proc, dicom, http


def _get(http: int, path: str, data: bytes | None = None) -> object:
    req = urllib.request.Request(f"http://127.0.0.1:{http}{path}", data=data)
    with urllib.request.urlopen(req, timeout=900) as r:
        return json.loads(r.read())


def bench_orthanc(files: list[Path], tmp: Path, senders: int) -> float:
    shutil.rmtree(tmp / "orthanc", ignore_errors=True)
    b, bdicom, bhttp = _orthanc(tmp / "orthanc" / "b", "B", {})
    a, adicom, ahttp = _orthanc(tmp / "orthanc" / "a", "A", {"B": ["B", "127.0.0.1", bdicom]})
    try:
        start = time.perf_counter()
        push(files, adicom, "A", senders)
        studies = _get(ahttp, "/studies")
        _get(ahttp, "/modalities/B/store", json.dumps({"Resources": studies,
                                                         "Synchronous": True}).encode())
        while len(_get(bhttp, "/instances")) < len(files):  # type: ignore[arg-type]
            time.sleep(0.1)
        return time.perf_counter() - start
    finally:
        stop(a)
        stop(b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slices", type=int, default=600)
    ap.add_argument("--rows", type=int, default=512)
    ap.add_argument("--senders", type=int, default=4)
    ap.add_argument("--orthanc", action="store_true")
    ap.add_argument("--tmp", type=Path)
    args = ap.parse_args()
    for tool in ("dcmsend", "storescp"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (scripts/peers.sh)")
    sys.path.insert(0, str(ROOT / "src"))
    from pacsguard.samples.ct import write_ct_series

    tmp = Path(tempfile.mkdtemp(prefix="gwbench-", dir=args.tmp))
    try:
        write_ct_series(tmp / "in", n_slices=args.slices, rows=args.rows, cols=args.rows)
        files = sorted((tmp / "in").rglob("*.dcm"))
        key = tmp / "bench.key"
        key.write_text("5a" * 32 + "\n")
        warm = files[:20]
        bench_storescp(warm, tmp, args.senders)
        floor = bench_storescp(files, tmp, args.senders)
        bench_gateway(warm, tmp, args.senders, key)
        took, idle, peak = bench_gateway(files, tmp, args.senders, key)
        rows = [("(a) storescp --fork alone (floor)", floor, ""),
                ("(b) pacsguard gateway -> storescp", took,
                 f"RSS {idle / 1024:.0f} MB idle, {peak / 1024:.0f} MB peak")]
        result = {"slices": args.slices, "rows": args.rows, "senders": args.senders,
                  "cpus": os.cpu_count(), "machine": platform.machine(), "storescp_s": floor,
                  "gateway_s": took, "gateway_rss_idle_kb": idle, "gateway_rss_peak_kb": peak,
                  "ratio": took / floor}
        if args.orthanc and shutil.which("Orthanc"):
            bench_orthanc(warm, tmp, args.senders)
            o = bench_orthanc(files, tmp, args.senders)
            rows.append(("(c) Orthanc -> Orthanc", o, ""))
            result["orthanc_s"] = o
        print(f"\n{args.slices} CT slices {args.rows}x{args.rows}, {args.senders} parallel "
              f"dcmsend, {os.cpu_count()} cores\n")
        print("| path | seconds | x storescp | notes |\n|---|---:|---:|---|")
        for name, secs, note in rows:
            print(f"| {name} | {secs:.2f} | {secs / floor:.1f} | {note} |")
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "gateway.json").write_text(json.dumps(result, indent=1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
