"""Benchmark: `pacsguard audit` vs `nmap --script +dicom-ping` on the same 200 loopback ports.

Starts real peers on free loopback ports (Orthanc permissive and hardened, dcmqrscp,
the pacsguard open peer, storescp +tls), adds closed ports up to 200, and audits the
same list with both tools in the same run, alternating, several times. Prints a table
with the time ratio and how many more problems pacsguard reports, and writes
bench/results/audit.json.

    .venv/bin/python bench/audit_bench.py [--repeat 3] [--ports 200]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ENV = {**os.environ, "TCP_NODELAY": "1"}
PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
FAST = ["--rate", "0", "--concurrency", "64"]  # no politeness limit, for the comparison


def free_port(taken: set[int]) -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in taken:
            taken.add(port)
            return port


def wait_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    end = time.monotonic() + 20
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited early (rc {proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{what} not ready")


def make_ct(path: Path, name: str, pid: str, study: str) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = CTImageStorage, generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
    ds.PatientName, ds.PatientID, ds.StudyInstanceUID = name, pid, study
    ds.SeriesInstanceUID, ds.Modality, ds.StudyDate = generate_uid(), "CT", "20000101"
    ds.Rows = ds.Columns = 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PixelData = 1, "MONOCHROME2", bytes(128)
    ds.save_as(path, enforce_file_format=True)


class Peers:
    def __init__(self, work: Path) -> None:
        self.work, self.procs, self.taken = work, [], set()  # type: ignore[var-annotated]
        self.open_ports: dict[str, int] = {}

    def start(self, cmd: list[str], cwd: Path) -> subprocess.Popen[bytes]:
        with (cwd / "peer.log").open("ab") as log:
            proc = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def orthanc(self, kind: str, files: list[Path]) -> None:
        d = self.work / f"orthanc-{kind}"
        d.mkdir()
        dport, hport = free_port(self.taken), free_port(self.taken)
        open_ = kind == "permissive"
        cfg = {"Name": f"BENCH_{kind}", "StorageDirectory": str(d / "db"),
               "IndexDirectory": str(d / "db"), "Plugins": [PLUGIN], "HttpPort": hport,
               "DicomPort": dport, "DicomAet": "ORTHANC", "RemoteAccessAllowed": open_,
               "AuthenticationEnabled": not open_, "RegisteredUsers": {"admin": "s3cret-Pw"},
               "DicomCheckCalledAet": not open_, "DicomAlwaysAllowEcho": open_,
               "DicomAlwaysAllowFind": open_, "DicomAlwaysAllowStore": open_,
               "DicomAlwaysAllowGet": open_, "DicomAlwaysAllowMove": open_,
               "DicomWeb": {"Enable": True, "Root": "/dicom-web/"}}
        (d / "config.json").write_text(json.dumps(cfg))
        proc = self.start(["Orthanc", f"--logfile={d / 'orthanc.log'}", str(d / "config.json")], d)
        wait_port(hport, proc, "Orthanc http")
        wait_port(dport, proc, "Orthanc dicom")
        auth = "Basic " + __import__("base64").b64encode(b"admin:s3cret-Pw").decode()
        for f in files:
            req = urllib.request.Request(f"http://127.0.0.1:{hport}/instances", data=f.read_bytes())
            if not open_:
                req.add_header("Authorization", auth)
            urllib.request.urlopen(req, timeout=10).read()
        self.open_ports[f"orthanc-{kind} dicom"] = dport
        self.open_ports[f"orthanc-{kind} http"] = hport

    def dcmqrscp(self, files: list[Path]) -> None:
        d = self.work / "qr"
        (d / "db").mkdir(parents=True)
        port = free_port(self.taken)
        (d / "qr.cfg").write_text(
            f"NetworkTCPPort = {port}\nMaxPDUSize = 16384\nMaxAssociations = 16\n"
            "HostTable BEGIN\nHostTable END\nVendorTable BEGIN\nVendorTable END\n"
            f"AETable BEGIN\nDCMQRSCP {d}/db RW (200, 1024mb) ANY\nAETable END\n")
        subprocess.run(["dcmqridx", str(d / "db"), *map(str, files)], check=True, env=ENV,
                       capture_output=True)
        wait_port(port, self.start(["dcmqrscp", "-c", str(d / "qr.cfg"), "-dhl"], d), "dcmqrscp")
        self.open_ports["dcmqrscp"] = port

    def openpeer(self) -> None:
        port = free_port(self.taken)
        proc = self.start([PY, "-m", "pacsguard.audit.openpeer", "--port", str(port)], self.work)
        wait_port(port, proc, "openpeer")
        self.open_ports["openpeer (pynetdicom)"] = port

    def storescp_tls(self) -> None:
        d = self.work / "tls"
        (d / "in").mkdir(parents=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        str(d / "key.pem"), "-out", str(d / "cert.pem"), "-days", "2", "-subj",
                        "/CN=localhost"], check=True, capture_output=True)
        port = free_port(self.taken)
        proc = self.start(["storescp", "+tls", str(d / "key.pem"), str(d / "cert.pem"), "-ic",
                           "-od", str(d / "in"), str(port)], d)
        wait_port(port, proc, "storescp +tls")
        self.open_ports["storescp +tls"] = port

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=8)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def run_pacsguard(ports: list[int], work: Path, extra: list[str]) -> tuple[float, dict[str, Any]]:
    listing = work / "targets.txt"
    listing.write_text("".join(f"127.0.0.1:{p}\n" for p in ports))
    out = work / "audit.json"
    started = time.perf_counter()
    proc = subprocess.run([PY, "-m", "pacsguard", "-q", "audit", f"@{listing}", "--json",
                           str(out), *extra], capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"pacsguard audit failed: {proc.stderr.strip()}")
    return elapsed, json.loads(out.read_text())


def run_nmap(ports: list[int]) -> tuple[float, dict[str, Any]]:
    cmd = ["nmap", "-n", "-Pn", "-p", ",".join(map(str, ports)), "--script", "+dicom-ping",
           "127.0.0.1"]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    text = proc.stdout
    return elapsed, {
        "open_ports": len(re.findall(r"^\d+/tcp\s+open", text, re.M)),
        "dicom_found": text.count("dicom: DICOM Service Provider discovered"),
        "insecure": text.count("Any AET is accepted (Insecure)"),
        "called_aet_check": text.count("Called AET check enabled"),
        "version": (re.search(r"Nmap (\d+\.\d+)", text) or re.search(r"(\d)", "0")).group(1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ports", type=int, default=200)
    args = ap.parse_args()
    for tool in ("nmap", "Orthanc", "dcmqrscp", "storescp", "openssl"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} missing: run scripts/peers.sh")
    with tempfile.TemporaryDirectory(prefix="pg-audit-bench-") as tmp:
        work = Path(tmp)
        files = []
        for i, (name, pid, studies) in enumerate((("FAKE^BENCH^ONE", "BENCH-1", 2),
                                                   ("FAKE^BENCH^TWO", "BENCH-2", 1))):
            for s in range(studies):
                study = f"2.25.{1470 + i}{s}{int(time.time())}"
                for k in range(2):
                    path = work / f"ct{i}{s}{k}.dcm"
                    make_ct(path, name, pid, study)
                    files.append(path)
        peers = Peers(work)
        try:
            peers.orthanc("permissive", files)
            peers.orthanc("hardened", files)
            peers.dcmqrscp(files)
            peers.openpeer()
            peers.storescp_tls()
            closed = [free_port(peers.taken) for _ in range(args.ports - len(peers.open_ports))]
            ports = sorted([*peers.open_ports.values(), *closed])
            ours, fast, theirs = [], [], []
            doc: dict[str, Any] = {}
            nm: dict[str, Any] = {}
            for _ in range(args.repeat):
                t, doc = run_pacsguard(ports, work, [])
                ours.append(t)
                t, _ = run_pacsguard(ports, work, FAST)
                fast.append(t)
                t, nm = run_nmap(ports)
                theirs.append(t)
        finally:
            peers.stop()
    findings = doc["findings"]
    problems = [f for f in findings if f["severity"] in ("medium", "high", "critical")]
    ours_t, nmap_t = statistics.median(ours), statistics.median(theirs)
    fast_t = statistics.median(fast)
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "nmap": nm["version"]},
        "ports": len(ports), "open_ports": len(peers.open_ports),
        "peers": sorted(peers.open_ports),
        "repeat": args.repeat,
        "pacsguard": {"seconds_median": round(ours_t, 2), "seconds": [round(t, 2) for t in ours],
                      "endpoints_found": doc["summary"]["endpoints_found"],
                      "endpoints_exposed": doc["summary"]["endpoints_exposed"],
                      "problems_medium_plus": len(problems),
                      "critical": sum(f["severity"] == "critical" for f in findings),
                      "high": sum(f["severity"] == "high" for f in findings),
                      "patients_exposed": doc["summary"]["patients_exposed"],
                      "studies_exposed": doc["summary"]["studies_exposed"],
                      "images_exposed": doc["summary"]["images_exposed"]},
        "pacsguard_unthrottled": {"args": FAST, "seconds_median": round(fast_t, 2),
                                  "seconds": [round(t, 2) for t in fast]},
        "nmap": {"seconds_median": round(nmap_t, 2), "seconds": [round(t, 2) for t in theirs],
                 "open_ports": nm["open_ports"], "dicom_found": nm["dicom_found"],
                 "problems_insecure": nm["insecure"]},
        "time_ratio_pacsguard_over_nmap": round(ours_t / nmap_t, 2) if nmap_t else None,
        "time_ratio_unthrottled_over_nmap": round(fast_t / nmap_t, 2) if nmap_t else None,
        "more_problems_reported": len(problems) - nm["insecure"],
    }
    rows = [
        (f"wall time, median of {args.repeat} (s)", f"{ours_t:.2f}", f"{nmap_t:.2f}"),
        ("  same, --rate 0 --concurrency 64 (s)", f"{fast_t:.2f}", "-"),
        ("DICOM/web endpoints found", str(doc["summary"]["endpoints_found"]),
         f"{nm['dicom_found']} DICOM ({nm['open_ports']} open)"),
        ("problems reported", f"{len(problems)} (medium+)", f"{nm['insecure']} (Insecure)"),
        ("critical findings", str(result["pacsguard"]["critical"]), "-"),
        ("patients / studies / images exposed",
         "{patients_exposed} / {studies_exposed} / {images_exposed}".format(**doc["summary"]),
         "-"),
    ]
    print(f"\n{len(ports)} loopback ports, {len(peers.open_ports)} open "
          f"({', '.join(sorted(peers.open_ports))})\n")
    print(f"{'':40} {'pacsguard audit':>22} {'nmap +dicom-ping':>28}")
    for what, a, b in rows:
        print(f"{what:40} {a:>22} {b:>28}")
    print(f"\ntime ratio pacsguard/nmap: {result['time_ratio_pacsguard_over_nmap']}x "
          f"(default --rate 200), {result['time_ratio_unthrottled_over_nmap']}x unthrottled; "
          f"pacsguard reports {result['more_problems_reported']} more problems")
    out = ROOT / "bench" / "results" / "audit.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
