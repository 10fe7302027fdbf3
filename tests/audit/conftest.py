"""Fixtures for the audit tests: real peers on loopback, each in its own temp dir, stopped after.

Orthanc (permissive, hardened, echo-only), DCMTK dcmqrscp (open and locked AE on one
port) and DCMTK storescp with TLS (client certificate ignored, and required). Peers are
session-scoped (Orthanc needs ~3 s to stop) and all stopped together at the end.
The test DICOM files are generated here with pydicom: tiny CTs with obviously fake names.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

PEER_ENV = {**os.environ, "TCP_NODELAY": "1"}
ORTHANC_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"

# (patient name, patient id, [instances per study]) -- fake by construction.
FAKE_ARCHIVE = (("FAKE^ONE", "PGFAKE-001", (1, 2)), ("FAKE^TWO", "PGFAKE-002", (2,)))
FAKE_COUNTS = (2, 3, 5)  # patients, studies, instances
FAKE_STRINGS = ("FAKE^ONE", "FAKE^TWO", "PGFAKE-001", "PGFAKE-002", "FAKE", "PGFAKE")


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago (bind to 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def need(*binaries: str) -> None:
    for b in binaries:
        if shutil.which(b) is None:
            pytest.skip(f"{b} not installed (scripts/peers.sh installs it)")


def wait_until(pred: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise RuntimeError(f"peer not ready: {what}")


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def make_ct(path: Path, name: str, pid: str, study: str, series: str) -> None:
    """An 8x8 CT with a fake patient; only the structure Orthanc/dcmqrscp need."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
    ds.PatientName, ds.PatientID = name, pid
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "1", 1, 1
    ds.Modality, ds.StudyDate, ds.StudyTime = "CT", "20000101", "120000"
    ds.AccessionNumber, ds.ReferringPhysicianName = "", ""
    ds.Rows = ds.Columns = 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.PixelData = bytes(128)
    ds.save_as(path, enforce_file_format=True)


def fake_archive(folder: Path) -> list[Path]:
    """Write the FAKE_ARCHIVE files: 2 patients, 3 studies, 5 instances."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name, pid, studies in FAKE_ARCHIVE:
        for instances in studies:
            study, series = generate_uid(), generate_uid()
            for _ in range(instances):
                path = folder / f"ct{len(files):03d}.dcm"
                make_ct(path, name, pid, study, series)
                files.append(path)
    return files


@dataclass
class Procs:
    """Every peer process started in the session; stopped together (TERM, then poll, KILL)."""

    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, cmd: list[str], cwd: Path) -> subprocess.Popen[bytes]:
        with (cwd / "peer.log").open("ab") as log:  # the child keeps its own descriptor
            proc = subprocess.Popen(cmd, cwd=cwd, env=PEER_ENV, stdout=log,
                                    stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        end = time.monotonic() + 8
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture(scope="session")
def procs() -> Iterator[Procs]:
    registry = Procs()
    yield registry
    registry.stop_all()


@dataclass
class Peer:
    name: str
    dicom_port: int
    http_port: int = 0
    aet: str = ""
    user: tuple[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def dicom(self) -> str:
        return f"127.0.0.1:{self.dicom_port}"

    @property
    def http(self) -> str:
        return f"127.0.0.1:{self.http_port}"


def _http(port: int, path: str, data: bytes | None = None,
          user: tuple[str, str] | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data)
    if user:
        req.add_header("Authorization",
                       "Basic " + base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except OSError:
        return 0, b""


ORTHANC_BASE: dict[str, Any] = {
    "Plugins": [ORTHANC_PLUGIN], "DicomAet": "ORTHANC", "StableAge": 2,
    "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": True,
                 "WadoRoot": "/wado", "Ssl": False},
}
ORTHANC_CONFIGS: dict[str, dict[str, Any]] = {
    "permissive": {
        "RemoteAccessAllowed": True, "AuthenticationEnabled": False, "DicomCheckCalledAet": False,
        "DicomAlwaysAllowEcho": True, "DicomAlwaysAllowStore": True, "DicomAlwaysAllowFind": True,
        "DicomAlwaysAllowGet": True, "DicomAlwaysAllowMove": True,
        "DicomModalities": {"STORESCP": ["STORESCP", "127.0.0.1", 11113]},
    },
    "hardened": {
        "RemoteAccessAllowed": False, "AuthenticationEnabled": True,
        "RegisteredUsers": {"admin": "s3cret-Pw"},
        "DicomCheckCalledAet": True, "DicomCheckModalityHost": True,
        "DicomAlwaysAllowEcho": False, "DicomAlwaysAllowStore": False,
        "DicomAlwaysAllowFind": False, "DicomAlwaysAllowFindWorklist": False,
        "DicomAlwaysAllowGet": False, "DicomAlwaysAllowMove": False,
        "DicomModalities": {"TRUSTED": {"AET": "TRUSTEDSCU", "Host": "127.0.0.1", "Port": 11113,
                                        "AllowEcho": True, "AllowFind": True, "AllowStore": True,
                                        "AllowGet": True, "AllowMove": True}},
    },
    # Echo for anyone, nothing else; web behind a published default password.
    "echo-only": {
        "RemoteAccessAllowed": True, "AuthenticationEnabled": True,
        "RegisteredUsers": {"orthanc": "orthanc"}, "DicomCheckCalledAet": True,
        "DicomAlwaysAllowEcho": True, "DicomAlwaysAllowStore": False,
        "DicomAlwaysAllowFind": False, "DicomAlwaysAllowFindWorklist": False,
        "DicomAlwaysAllowGet": False, "DicomAlwaysAllowMove": False,
        "DicomModalities": {},
    },
}
ORTHANC_USERS = {"permissive": None, "hardened": ("admin", "s3cret-Pw"),
                 "echo-only": ("orthanc", "orthanc")}


def start_orthanc(procs: Procs, tmp: Path, kind: str, files: list[Path]) -> Peer:
    need("Orthanc")
    if not Path(ORTHANC_PLUGIN).exists():
        pytest.skip("orthanc-dicomweb not installed")
    d = tmp / f"orthanc-{kind}"
    d.mkdir()
    peer = Peer(f"orthanc-{kind}", free_port(), free_port(), "ORTHANC", ORTHANC_USERS[kind])
    cfg = {**ORTHANC_BASE, **ORTHANC_CONFIGS[kind], "Name": f"PG_TEST_{kind.upper()}",
           "StorageDirectory": str(d / "db"), "IndexDirectory": str(d / "db"),
           "HttpPort": peer.http_port, "DicomPort": peer.dicom_port}
    (d / "config.json").write_text(json.dumps(cfg))
    proc = procs.start(["Orthanc", f"--logfile={d / 'orthanc.log'}", str(d / "config.json")], d)
    wait_until(lambda: proc.poll() is None and _http(peer.http_port, "/system")[0] in (200, 401),
               f"{peer.name} http")
    wait_until(lambda: port_open(peer.dicom_port), f"{peer.name} dicom")
    for f in files:
        status, _ = _http(peer.http_port, "/instances", f.read_bytes(), peer.user)
        assert status == 200, f"storing into {peer.name} failed: {status}"
    return peer


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return fake_archive(tmp_path_factory.mktemp("archive"))


@pytest.fixture(scope="session")
def orthanc_permissive(procs: Procs, tmp_path_factory: pytest.TempPathFactory,
                       archive: list[Path]) -> Peer:
    return start_orthanc(procs, tmp_path_factory.mktemp("op"), "permissive", archive)


@pytest.fixture(scope="session")
def orthanc_hardened(procs: Procs, tmp_path_factory: pytest.TempPathFactory,
                     archive: list[Path]) -> Peer:
    return start_orthanc(procs, tmp_path_factory.mktemp("oh"), "hardened", archive)


@pytest.fixture(scope="session")
def orthanc_echo_only(procs: Procs, tmp_path_factory: pytest.TempPathFactory,
                      archive: list[Path]) -> Peer:
    return start_orthanc(procs, tmp_path_factory.mktemp("oe"), "echo-only", archive)


@pytest.fixture(scope="session")
def dcmqrscp(procs: Procs, tmp_path_factory: pytest.TempPathFactory,
             archive: list[Path]) -> Peer:
    need("dcmqrscp", "dcmqridx")
    d = tmp_path_factory.mktemp("qr")
    for area in ("open", "lock"):
        (d / area).mkdir()
    port = free_port()
    (d / "dcmqrscp.cfg").write_text(f"""NetworkTCPPort  = {port}
MaxPDUSize      = 16384
MaxAssociations = 16
HostTable BEGIN
trustedscu = (TRUSTEDSCU, 127.0.0.1, 11113)
trusted    = trustedscu
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
DCMQR_OPEN   {d}/open   RW  (200, 1024mb)  ANY
DCMQR_LOCK   {d}/lock   RW  (200, 1024mb)  trusted
AETable END
""")
    for area in ("open", "lock"):
        subprocess.run(["dcmqridx", str(d / area), *map(str, archive)], check=True, env=PEER_ENV,
                       capture_output=True, timeout=30)
    proc = procs.start(["dcmqrscp", "-c", str(d / "dcmqrscp.cfg"), "-dhl"], d)
    wait_until(lambda: proc.poll() is None and port_open(port), "dcmqrscp")
    return Peer("dcmqrscp", port, aet="DCMQR_OPEN")


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    need("openssl")
    d = tmp_path_factory.mktemp("pki")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(d / "key.pem"), "-out", str(d / "cert.pem"), "-days", "2", "-subj",
                    "/CN=localhost"], check=True, capture_output=True, timeout=60)
    return d / "key.pem", d / "cert.pem"


@pytest.fixture(scope="session")
def expired_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate valid during 2020 only (``openssl ca`` can backdate)."""
    need("openssl")
    d = tmp_path_factory.mktemp("pki-expired")
    (d / "index.txt").write_text("")
    (d / "serial").write_text("01\n")
    (d / "ca.cnf").write_text("[ca]\ndefault_ca = ca0\n[ca0]\ndir = .\ndatabase = index.txt\n"
                              "new_certs_dir = .\nserial = serial\ndefault_md = sha256\n"
                              "policy = any\n[any]\ncommonName = supplied\n")
    run = {"check": True, "capture_output": True, "timeout": 60, "cwd": d}
    subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem",
                    "-out", "req.csr", "-subj", "/CN=localhost"], **run)
    subprocess.run(["openssl", "ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", "key.pem",
                    "-in", "req.csr", "-out", "cert.pem", "-startdate", "20200101000000Z",
                    "-enddate", "20210101000000Z"], **run)
    return d / "key.pem", d / "cert.pem"


@pytest.fixture(scope="session")
def storescp_null_cipher(procs: Procs, tmp_path_factory: pytest.TempPathFactory,
                         expired_cert: tuple[Path, Path]) -> Peer:
    """DCMTK's retired "authenticated unencrypted" profile (NULL cipher), expired certificate."""
    return _storescp_tls(procs, tmp_path_factory.mktemp("null"), expired_cert, ["+pn", "-ic"])


@pytest.fixture(scope="session")
def storescp_aes_profile(procs: Procs, tmp_path_factory: pytest.TempPathFactory,
                         tls_cert: tuple[Path, Path]) -> Peer:
    """DCMTK's retired AES profile: AES128-SHA, TLS 1.0 and up; a valid certificate."""
    return _storescp_tls(procs, tmp_path_factory.mktemp("aes"), tls_cert, ["+pa", "-ic"])


def _storescp_tls(procs: Procs, tmp: Path, cert: tuple[Path, Path], extra: list[str]) -> Peer:
    need("storescp")
    (tmp / "in").mkdir()
    port = free_port()
    proc = procs.start(["storescp", "+tls", str(cert[0]), str(cert[1]), *extra, "-aet", "TLSSCP",
                        "-od", str(tmp / "in"), str(port)], tmp)
    wait_until(lambda: proc.poll() is None and port_open(port), "storescp +tls")
    return Peer("storescp-tls", port, aet="TLSSCP")


@pytest.fixture(scope="session")
def storescp_tls(procs: Procs, tmp_path_factory: pytest.TempPathFactory,
                 tls_cert: tuple[Path, Path]) -> Peer:
    """TLS, client certificate ignored (-ic)."""
    return _storescp_tls(procs, tmp_path_factory.mktemp("tls"), tls_cert, ["-ic"])


@pytest.fixture(scope="session")
def storescp_mtls(procs: Procs, tmp_path_factory: pytest.TempPathFactory,
                  tls_cert: tuple[Path, Path]) -> Peer:
    """TLS requiring a client certificate signed by the (self-signed) server certificate."""
    return _storescp_tls(procs, tmp_path_factory.mktemp("mtls"), tls_cert,
                         ["+cf", str(tls_cert[1])])


@dataclass
class AuditRun:
    rc: int
    doc: dict[str, Any]
    out: str
    html: str

    def checks(self, target: str | None = None) -> dict[str, str]:
        """check id -> severity (the most severe one if a check appears twice)."""
        order = ["info", "low", "medium", "high", "critical"]
        got: dict[str, str] = {}
        for f in self.doc["findings"]:
            if target is None or f["target"] == target:
                prev = got.get(f["check"])
                if prev is None or order.index(f["severity"]) > order.index(prev):
                    got[f["check"]] = f["severity"]
        return got

    def evidence(self, check: str) -> str:
        return " | ".join(f["evidence"] for f in self.doc["findings"] if f["check"] == check)

    def assert_no_identifiers(self, strings: tuple[str, ...] = FAKE_STRINGS) -> None:
        blob = json.dumps(self.doc) + self.out + self.html
        for s in strings:
            assert s not in blob, "a returned identifier leaked into the output"


@pytest.fixture
def audit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., AuditRun]:
    from pacsguard.cli import main

    def run(*args: str) -> AuditRun:
        js, page = tmp_path / "audit.json", tmp_path / "audit.html"
        js.unlink(missing_ok=True)
        capsys.readouterr()
        rc = main(["audit", "--timeout", "3", "--json", str(js), "--html", str(page),
                   "--show-info", *args])
        out = capsys.readouterr().out
        return AuditRun(rc, json.loads(js.read_text()), out, page.read_text())

    return run
