"""Peers in the test process: pynetdicom SCPs and raw sockets that abort, garble, stall or drip.

Whatever they do must become a finding or a note, never a crash or a hang.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydicom.dataset import Dataset

from pacsguard.audit import openpeer

pytestmark = pytest.mark.timeout(60)
Audit = Callable[..., Any]


class RawPeer:
    """A TCP listener on 127.0.0.1 whose per-connection behaviour is a function."""

    def __init__(self, behaviour: Callable[[socket.socket, threading.Event], None]) -> None:
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = int(self.sock.getsockname()[1])
        self.behaviour = behaviour
        self.threads: list[threading.Thread] = []
        self.accepted = 0
        self.main = threading.Thread(target=self._serve, daemon=True)
        self.main.start()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            t = threading.Thread(target=self._one, args=(conn,), daemon=True)
            t.start()
            self.threads.append(t)

    def _one(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            self.behaviour(conn, self.stop)

    def close(self) -> None:
        self.stop.set()
        self.main.join(5)
        self.sock.close()
        for t in self.threads:
            t.join(5)


def _read_some(conn: socket.socket) -> bytes:
    conn.settimeout(2)
    try:
        return conn.recv(4096)
    except OSError:
        return b""


def _reply(data: bytes) -> Callable[[socket.socket, threading.Event], None]:
    def behaviour(conn: socket.socket, stop: threading.Event) -> None:
        _read_some(conn)
        conn.sendall(data)
        stop.wait(0.2)
    return behaviour


def _silent(conn: socket.socket, stop: threading.Event) -> None:
    _read_some(conn)
    stop.wait(20)  # holds the connection open without a word


def _drip(conn: socket.socket, stop: threading.Event) -> None:
    _read_some(conn)
    for byte in b"\x02\x00\x00\x00\x00\x44" + bytes(0x44):  # a plausible A-ASSOCIATE-AC
        if stop.wait(0.3):
            return
        conn.sendall(bytes([byte]))


@pytest.fixture
def raw_peer() -> Iterator[Callable[..., RawPeer]]:
    peers: list[RawPeer] = []

    def make(behaviour: Callable[[socket.socket, threading.Event], None]) -> RawPeer:
        peer = RawPeer(behaviour)
        peers.append(peer)
        return peer

    yield make
    for p in peers:
        p.close()


@pytest.mark.parametrize(("behaviour", "check", "words"), [
    (_reply(b"\x07\x00\x00\x00\x00\x04\x00\x00\x02\x01"), "dicom.assoc.aborted",
     "A-ABORT, source: DICOM UL service-provider, reason: unrecognized-PDU"),
    (_reply(b"\x03\x00\x00\x00\x00\x04\x00\x02\x03\x02"), "dicom.assoc.rejected",
     "rejected-transient, source: DICOM UL service-provider (Presentation related function), "
     "reason: local-limit-exceeded"),
    (_reply(b"\x02\x00\x00\x00\x00\x05hello"), "dicom.pdu.malformed", "could not be decoded"),
    (_reply(b"\xde\xad\xbe\xef" * 8), "dicom.pdu.malformed", "not a valid DICOM UL PDU"),
    (_reply(b""), "dicom.assoc.no-answer", "closed the connection"),
    (_silent, "net.timeout", "A-ASSOCIATE-RQ unanswered"),
    (_drip, "net.timeout", "no complete answer"),
])
def test_misbehaving_raw_peer(raw_peer: Callable[..., RawPeer], audit: Audit,
                              behaviour: Callable[[socket.socket, threading.Event], None],
                              check: str, words: str) -> None:
    peer = raw_peer(behaviour)
    run = audit(peer.target, "--timeout", "1")
    assert check in run.checks(peer.target)
    assert words in run.evidence(check)
    assert "audit.error" not in run.checks()
    assert run.rc == 0


def test_unreachable_explicit_port_is_a_note(audit: Audit) -> None:
    with socket.socket() as s:  # bound, never listening: connection refused
        s.bind(("127.0.0.1", 0))
        target = f"127.0.0.1:{s.getsockname()[1]}"
        run = audit(target)
    assert run.checks(target) == {"net.unreachable": "info"}
    assert run.doc["summary"]["endpoints_found"] == 0
    assert run.rc == 0


@pytest.fixture
def scp() -> Iterator[Callable[..., int]]:
    """Start in-process pynetdicom SCPs on free loopback ports; shut them down after."""
    from pynetdicom import AE, evt

    servers: list[Any] = []

    def start(contexts: tuple[str, ...], handlers: list[tuple[Any, Any]]) -> int:
        ae = AE(ae_title="TESTSCP")
        for uid in contexts:
            ae.add_supported_context(uid)
        server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=handlers)
        servers.append(server)
        return int(server.server_address[1])

    start.evt = evt  # type: ignore[attr-defined]
    yield start
    for server in servers:
        server.shutdown()


FIND = "1.2.840.10008.5.1.4.1.2.2.1"
ECHO = "1.2.840.10008.1.1"


def test_openpeer_critical_counts_without_identifiers(audit: Audit) -> None:
    server = openpeer.serve(0, block=False)
    try:
        target = f"127.0.0.1:{server.server_address[1]}"
        run = audit(target, "--fail-on", "critical")
    finally:
        server.shutdown()
    assert run.rc == 1
    assert run.checks(target)["dicom.find.anonymous"] == "critical"
    pats, studies, images = openpeer.expected_counts()
    s = run.doc["summary"]
    assert (s["patients_exposed"], s["studies_exposed"], s["images_exposed"]) == (pats, studies,
                                                                                  images)
    assert "pynetdicom" in run.evidence("dicom.service.detected")
    run.assert_no_identifiers(tuple(n for n, _, _ in openpeer.FAKE_PATIENTS)
                              + tuple(i for _, i, _ in openpeer.FAKE_PATIENTS)
                              + (openpeer.ROOT,))


def test_find_is_cancelled_at_the_bound(scp: Callable[..., int], audit: Audit) -> None:
    sent = []

    def many(event: Any) -> Iterator[tuple[int, Dataset | None]]:
        for i in range(200):
            if event.is_cancelled:
                yield 0xFE00, None
                return
            ds = Dataset()
            ds.QueryRetrieveLevel = "STUDY"
            ds.StudyInstanceUID = f"2.25.{i + 1}"
            sent.append(i)
            yield 0xFF00, ds
            # A real archive takes a moment per match; without it the 200 matches were all
            # queued before the C-CANCEL arrived on a busy machine (1 run in ~15).
            time.sleep(0.02)
        yield 0x0000, None

    port = scp((ECHO, FIND), [(scp.evt.EVT_C_FIND, many)])  # type: ignore[attr-defined]
    target = f"127.0.0.1:{port}"
    run = audit(target, "--max-results", "5")
    assert "Study Root: 5 studies" in run.evidence("dicom.find.anonymous")
    assert "stopped by C-CANCEL at --max-results 5" in run.evidence("dicom.find.anonymous")
    assert len(sent) < 200  # the peer saw the cancel
    s = run.doc["summary"]
    assert (s["studies_exposed"], s["counts_are_minimums"]) == (5, True)


def test_peer_aborting_the_find(scp: Callable[..., int], audit: Audit) -> None:
    def abort(event: Any) -> Iterator[tuple[int, Dataset | None]]:
        event.assoc.abort()
        yield from ()

    port = scp((ECHO, FIND), [(scp.evt.EVT_C_FIND, abort)])  # type: ignore[attr-defined]
    target = f"127.0.0.1:{port}"
    run = audit(target)
    got = run.checks(target)
    assert got["dicom.find.refused"] == "info"
    assert "dicom.find.anonymous" not in got and "audit.error" not in got


def test_slow_echo_times_out_cleanly(scp: Callable[..., int], audit: Audit) -> None:
    release = threading.Event()

    def slow(event: Any) -> int:
        release.wait(10)
        return 0x0000

    port = scp((ECHO,), [(scp.evt.EVT_C_ECHO, slow)])  # type: ignore[attr-defined]
    target = f"127.0.0.1:{port}"
    try:
        run = audit(target, "--timeout", "1")
    finally:
        release.set()
    got = run.checks(target)
    assert "dicom.echo.open" not in got
    assert got["dicom.ae.called-not-enforced"] == "medium"  # association checks still done
    assert "audit.error" not in got


class _FakeOrthanc(BaseHTTPRequestHandler):
    version = "1.12.5"

    def do_GET(self) -> None:
        routes: dict[str, Any] = {
            "/system": {"Version": self.version, "DicomAet": "FAKE", "Name": "fake"},
            "/statistics": {"CountPatients": 7, "CountStudies": 9, "CountInstances": 40},
        }
        body = json.dumps(routes.get(self.path.split("?")[0], {})).encode()
        self.send_response(200 if self.path in routes else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Credentials", "true")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize(("version", "cves"), [("1.12.5", []),
                                               ("1.5.7", ["CVE-2025-0896", "CVE-2023-33466"])])
def test_fake_orthanc_rest_cors_and_versions(audit: Audit, version: str,
                                             cves: list[str]) -> None:
    handler = type("H", (_FakeOrthanc,), {"version": version})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/"
        run = audit(url)
    finally:
        httpd.shutdown()
        httpd.server_close()
    got = run.checks()
    assert got["web.orthanc.rest-open"] == "critical"
    assert got["web.cors.wildcard-credentials"] == "high"
    assert "wildcard" in run.evidence("web.cors.wildcard-credentials")
    assert f"Orthanc {version}" in run.evidence("version.detected")
    vulns = run.evidence("version.vulnerable")
    for cve in cves:
        assert cve in vulns
    assert ("version.vulnerable" in got) == bool(cves)
    s = run.doc["summary"]
    assert (s["patients_exposed"], s["studies_exposed"], s["images_exposed"]) == (7, 9, 40)


def test_many_endpoints_bounded_concurrency(raw_peer: Callable[..., RawPeer], audit: Audit,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """16 silent peers, --concurrency 4: audited in parallel, never more than 4 at once."""
    from pacsguard.audit import runner

    lock, live, peak = threading.Lock(), [0], [0]
    original = runner.audit_endpoint

    def counted(*args: Any) -> None:
        with lock:
            live[0] += 1
            peak[0] = max(peak[0], live[0])
        try:
            original(*args)
        finally:
            with lock:
                live[0] -= 1

    monkeypatch.setattr(runner, "audit_endpoint", counted)
    peers = [raw_peer(_silent) for _ in range(16)]
    run = audit(*[p.target for p in peers], "--timeout", "0.3", "--concurrency", "4",
                "--rate", "0")
    assert all("net.timeout" in run.checks(p.target) for p in peers)
    assert 1 < peak[0] <= 4


def test_open_worklist(scp: Callable[..., int], audit: Audit) -> None:
    mwl = "1.2.840.10008.5.1.4.31"

    def items(event: Any) -> Iterator[tuple[int, Dataset | None]]:
        for n in range(2):
            ds = Dataset()
            ds.PatientID = f"FAKE-MWL-{n}"
            yield 0xFF00, ds
        yield 0x0000, None

    port = scp((ECHO, mwl), [(scp.evt.EVT_C_FIND, items)])  # type: ignore[attr-defined]
    target = f"127.0.0.1:{port}"
    run = audit(target)
    assert run.checks(target)["dicom.worklist.open"] == "high"
    assert "2 scheduled items" in run.evidence("dicom.worklist.open")
    run.assert_no_identifiers(("FAKE-MWL-0", "FAKE-MWL-1"))


@pytest.mark.parametrize("legacy", [False, True])
def test_https_orthanc_and_obsolete_tls(audit: Audit, tls_cert: tuple[Any, Any],
                                        legacy: bool) -> None:
    import ssl
    import warnings

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(tls_cert[1]), str(tls_cert[0]))
    if legacy:  # a server stuck on TLS 1.0/1.1 (deprecated in Python, on purpose here)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.set_ciphers("ALL:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOrthanc)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        run = audit(f"https://127.0.0.1:{httpd.server_address[1]}/")
    finally:
        httpd.shutdown()
        httpd.server_close()
    got = run.checks()
    assert got["web.orthanc.rest-open"] == "critical"
    assert "web.http.plaintext" not in got
    assert ("HTTPS" in run.evidence("web.service.detected")
            and "over TLS: TLSv1" in run.evidence("web.service.detected"))
    if legacy:
        assert got["tls.protocol.weak"] == "medium"
        assert "TLSv1, TLSv1.1" in run.evidence("tls.protocol.weak")
    else:
        assert "tls.protocol.weak" not in got
        assert "self-signed" in run.evidence("tls.cert.untrusted")
