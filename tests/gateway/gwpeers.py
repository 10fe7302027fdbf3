"""Real peers for the gateway and pull tests: the gateway itself (a subprocess, so that it
can be SIGKILLed), DCMTK storescp and senders, Orthanc; each on loopback, each stopped by
its PID. Every wait is bounded: a hung peer fails a test instead of hanging the run."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.errors import InvalidDicomError

from pacsguard.samples.ct import write_ct_series
from pacsguard.samples.people import PATIENTS

PEER_ENV = {**os.environ, "TCP_NODELAY": "1"}
ORTHANC_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
#: Values of the sample patients that must never reach the gateway's output or logs.
NAMES = [p.name.split("^")[0] for p in PATIENTS[:2]] + [p.patient_id for p in PATIENTS[:2]]


def need(*binaries: str) -> None:
    for b in binaries:
        if shutil.which(b) is None:
            pytest.skip(f"{b} not installed (scripts/peers.sh installs it)")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(pred: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


class Proc:
    """One peer process, its log in its own folder; stop() is TERM, poll, then KILL."""

    def __init__(self, cmd: list[str], folder: Path, name: str,
                 env: dict[str, str] | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / f"{name}.log"
        with self.log.open("ab") as fh:
            self.p = subprocess.Popen(cmd, cwd=folder, env=env or PEER_ENV, stdout=fh,
                                      stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.p.poll() is None

    def kill(self) -> None:
        """SIGKILL, the process alone (its children must die with it by themselves)."""
        if self.alive():
            self.p.send_signal(signal.SIGKILL)
        self.p.wait(10)

    def group_alive(self) -> bool:
        try:
            os.killpg(self.p.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill_group(self) -> None:
        """Whatever is left of the process's own session (it was started in a new one)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.p.pid, signal.SIGKILL)
        if self.alive():
            self.p.wait(10)

    def stop(self, timeout: float = 15.0) -> int:
        if self.alive():
            self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(5)
            raise AssertionError(f"{self.log.name}: did not stop within {timeout:g} s") from None


class Peers:
    """Every process a test started; all stopped at its end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[Proc] = []

    def add(self, proc: Proc) -> Proc:
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        for p in self.procs:
            p.kill_group()

    # -- DCMTK ------------------------------------------------------------------------
    def storescp(self, name: str, aet: str, port: int = 0) -> tuple[Proc, Path, int]:
        need("storescp")
        port = port or free_port()
        out = self.tmp / name / "in"
        out.mkdir(parents=True, exist_ok=True)
        proc = self.add(Proc(["storescp", "-aet", aet, "+xa", "-od", str(out), str(port)],
                             self.tmp / name, "storescp"))
        wait_until(lambda: port_open(port), f"{name} listening")
        return proc, out, port

    # -- the gateway ----------------------------------------------------------------
    def gateway(self, spool: Path, forward: list[str], key_file: Path, *,
                extra: list[str] = (), name: str = "gateway", port: int = 0,
                host: str = "127.0.0.2") -> tuple[Proc, int]:
        port = port or free_port(host)
        cmd = [sys.executable, "-m", "pacsguard", "-v", "gateway", "--listen", f"{host}:{port}",
               "--ae-title", "PACSGUARD", "--spool", str(spool), "--key-file", str(key_file),
               "-j", "2", "--retry-base", "0.2", "--retry-cap", "1"]
        for f in forward:
            cmd += ["--forward", f]
        cmd += list(extra)
        env = {**PEER_ENV, "PYTHONPATH": os.pathsep.join(sys.path)}
        proc = self.add(Proc(cmd, self.tmp / name, name, env=env))
        wait_until(lambda: port_open(port, host) or not proc.alive(), "the gateway listening")
        assert proc.alive(), proc.log.read_text()
        return proc, port

    # -- Orthanc ----------------------------------------------------------------------
    def orthanc(self, name: str, aet: str = "ORTHANC",
                modalities: dict[str, Any] | None = None) -> tuple[Proc, int, int]:
        need("Orthanc")
        d = self.tmp / name
        d.mkdir(parents=True, exist_ok=True)
        dicom, http = free_port(), free_port()
        cfg: dict[str, Any] = {
            "Name": name, "StorageDirectory": str(d / "db"), "IndexDirectory": str(d / "db"),
            "HttpPort": http, "DicomPort": dicom, "DicomAet": aet,
            "RemoteAccessAllowed": True, "AuthenticationEnabled": False,
            "DicomCheckCalledAet": False, "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowStore": True, "DicomAlwaysAllowFind": True,
            "DicomAlwaysAllowGet": True, "DicomAlwaysAllowMove": True,
            "DicomModalities": modalities or {}, "StableAge": 1}
        if Path(ORTHANC_PLUGIN).exists():
            cfg["Plugins"] = [ORTHANC_PLUGIN]
            cfg["DicomWeb"] = {"Enable": True, "Root": "/dicom-web/", "Ssl": False}
        (d / "config.json").write_text(json.dumps(cfg))
        proc = self.add(Proc(["Orthanc", f"--logfile={d / 'orthanc.log'}",
                              str(d / "config.json")], d, "orthanc"))
        wait_until(lambda: http_get(http, "/system")[0] == 200 and port_open(dicom),
                   f"{name} up")
        return proc, dicom, http


def http_get(port: int, path: str, data: bytes | None = None,
             host: str = "127.0.0.1") -> tuple[int, bytes]:
    req = urllib.request.Request(f"http://{host}:{port}{path}", data=data)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except OSError:
        return 0, b""


def orthanc_sop_uids(http: int) -> set[str]:
    code, body = http_get(http, "/instances?expand")
    assert code == 200
    return {i["MainDicomTags"]["SOPInstanceUID"] for i in json.loads(body)}


def orthanc_upload(http: int, files: list[Path]) -> None:
    for f in files:
        code, _ = http_get(http, "/instances", f.read_bytes())
        assert code == 200


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway key and self-signed certificate for localhost: (key.pem, cert.pem)."""
    folder.mkdir(parents=True, exist_ok=True)
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost"],
                   check=True, capture_output=True, timeout=60)
    return key, cert


def make_inputs(folder: Path, per_patient: int = 6, rows: int = 32) -> list[Path]:
    """Two patients, one CT series each (small slices: the tests are about delivery)."""
    for n, patient in enumerate(PATIENTS[:2]):
        write_ct_series(folder / f"p{n}", n_slices=per_patient, rows=rows, cols=rows,
                        patient=patient, seed=n)
    return sorted(folder.rglob("*.dcm"))


def deid_reference(inputs: Path, out: Path, key_file: Path) -> dict[str, bytes]:
    """``pacsguard deid`` on the same files, same key: SOP Instance UID -> output bytes."""
    rc = subprocess.run([sys.executable, "-m", "pacsguard", "-q", "deid", str(inputs), str(out),
                         "--key-file", str(key_file), "--no-progress", "-j", "1"],
                        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
                        timeout=300, capture_output=True)
    assert rc.returncode == 0, rc.stderr.decode()
    return {str(dcmread(f, stop_before_pixels=True).SOPInstanceUID): f.read_bytes()
            for f in out.rglob("*.dcm")}


def folder_uids(folder: Path) -> dict[str, bytes]:
    """What a folder destination holds: committed files only (a hidden staging file may be
    renamed away between the listing and the read), and whole ones: storescp writes its
    files in place, so one being received is left for the next look."""
    held: dict[str, bytes] = {}
    for f in folder.rglob("*"):
        if not f.is_file() or f.name.startswith(".") or f.name.endswith(".json"):
            continue
        data = f.read_bytes()
        try:
            ds = dcmread(io.BytesIO(data))
        except (InvalidDicomError, EOFError, ValueError, KeyError, struct.error):
            continue  # still being written
        pixels = ds.get_item(0x7FE00010)
        declared = getattr(pixels, "length", 0)
        if pixels is None or (declared != 0xFFFFFFFF and len(pixels.value or b"") < declared):
            continue  # cut short: still being written
        held[str(ds.SOPInstanceUID)] = data
    return held


def send(tool: str, port: int, files: list[Path], aet: str, *, host: str = "127.0.0.2",
         extra: list[str] = (), check: bool = True) -> subprocess.CompletedProcess[bytes]:
    need(tool)
    cmd = [tool, "-aet", aet, "-aec", "PACSGUARD", *extra, host, str(port), *map(str, files)]
    rc = subprocess.run(cmd, env=PEER_ENV, capture_output=True, timeout=120)
    if check:
        assert rc.returncode == 0, (rc.stdout + rc.stderr).decode(errors="replace")
    return rc


def spool_originals(spool: Path) -> list[Path]:
    """Whatever of the originals or their copies is still in the spool (should be nothing)."""
    left = []
    for sub in ("incoming", "received", "deid", "queue"):
        left += [p for p in (spool / sub).rglob("*") if p.is_file()]
    return left


def assert_no_names(*places: Path) -> None:
    """The gateway's output (files, names) and its logs name no patient (the spool's
    quarantine holds originals by design: it is skipped)."""
    for place in places:
        files = [place] if place.is_file() else [
            p for p in place.rglob("*") if p.is_file() and "quarantine" not in p.parts]
        for f in files:
            data = f.read_bytes()
            for value in NAMES:
                assert value.encode() not in data, f"{value} found in {f}"
                assert value not in str(f), f"{value} in a path"
