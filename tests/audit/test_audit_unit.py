"""Targets, scope guard, PDU encoding, fingerprints, findings, reports and CLI errors (no peers)."""

from __future__ import annotations

import ipaddress
import re
import socket
import struct
from pathlib import Path
from typing import Any

import pytest

from pacsguard.audit import pdu, report, versions
from pacsguard.audit.findings import (
    CHECKS,
    EndpointResult,
    Exposure,
    Severity,
    finding,
    summarize,
)
from pacsguard.audit.identity import DEFAULT_CALLING_AE
from pacsguard.audit.scope import in_default_scope
from pacsguard.audit.targets import DICOM_PORTS, HTTP_PORTS, parse_targets
from pacsguard.cli import main
from pacsguard.dicom.identity import (
    PACSGUARD_IMPLEMENTATION_CLASS_UID,
    PACSGUARD_IMPLEMENTATION_VERSION_NAME,
)
from pacsguard.errors import ScopeError, UsageError

# -- targets


def test_host_expands_to_default_ports() -> None:
    eps = parse_targets(["127.0.0.1"])
    assert sorted(e.port for e in eps) == sorted(DICOM_PORTS + HTTP_PORTS)
    assert {e.hint for e in eps if e.port in DICOM_PORTS} == {"dicom"}
    assert next(e for e in eps if e.port == 443).hint == "https"
    assert not any(e.explicit for e in eps)


def test_host_port_url_ipv6_and_dedup() -> None:
    eps = parse_targets(["127.0.0.2:4242", "http://127.0.0.3:8042/orthanc/", "[::1]:104",
                         "127.0.0.2:4242"])
    labels = [e.label for e in eps]
    assert labels == ["127.0.0.2:4242", "http://127.0.0.3:8042/orthanc", "[::1]:104"]
    assert all(e.explicit for e in eps)


def test_cidr_and_file(tmp_path: Path) -> None:
    listing = tmp_path / "targets.txt"
    listing.write_text("# our archives\n127.0.0.0/30  # two hosts\n\nlocalhost:11112\n")
    eps = parse_targets([f"@{listing}"])
    hosts = {e.host for e in eps}
    assert hosts == {"127.0.0.1", "127.0.0.2"}
    assert len(eps) == 2 * len(DICOM_PORTS + HTTP_PORTS)  # localhost:11112 is a duplicate


@pytest.mark.parametrize("bad", ["127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1:x", "10.0.0.0/8",
                                 "127.0.0.1/33", "ftp://127.0.0.1/", "@/nonexistent/list"])
def test_bad_targets_are_usage_errors(bad: str) -> None:
    with pytest.raises(UsageError):
        parse_targets([bad])


@pytest.mark.parametrize("ip", ["127.0.0.1", "127.9.9.9", "10.1.2.3", "172.16.0.1",
                                "192.168.1.1", "::1", "fd00::1", "169.254.1.1"])
def test_private_and_loopback_in_scope(ip: str) -> None:
    assert in_default_scope(ipaddress.ip_address(ip))


@pytest.mark.parametrize("target", ["8.8.8.8", "93.184.216.34:104", "1.1.1.0/30",
                                    "http://9.9.9.9/", "2001:4860:4860::8888",
                                    "[::ffff:8.8.8.8]:104", "0.0.0.0", "224.0.0.1",
                                    "10.0.0.0/28, 8.8.8.8"])
def test_public_targets_refused_without_connecting(target: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the scope guard let a connection through")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(ScopeError):
        parse_targets([t.strip() for t in target.split(",")])


def test_allow_public_is_explicit() -> None:
    eps = parse_targets(["8.8.8.8:104"], allow_public=True)  # parsed only, never contacted here
    assert eps[0].label == "8.8.8.8:104"


def test_cli_refuses_public_target(capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("connection attempted")

    monkeypatch.setattr(socket, "create_connection", no_network)
    assert main(["audit", "127.0.0.1:104", "8.8.4.4"]) == 2
    err = capsys.readouterr().err
    assert "outside loopback and private ranges" in err and "--allow-public" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("args", [["--fail-on", "severe"], ["--timeout", "0"],
                                  ["--calling-ae", "X" * 17], ["--ae-list", "/nonexistent"]])
def test_cli_usage_errors(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "127.0.0.1:9", *args]) == 2
    assert capsys.readouterr().err.count("\n") == 1


# -- identity and PDUs


def test_identity() -> None:
    assert re.fullmatch(r"2\.25\.[1-9]\d*", PACSGUARD_IMPLEMENTATION_CLASS_UID)
    assert len(PACSGUARD_IMPLEMENTATION_CLASS_UID) <= 64
    assert PACSGUARD_IMPLEMENTATION_VERSION_NAME == "PACSGUARD_010" and DEFAULT_CALLING_AE == "PACSGUARD"


def test_associate_rq_layout() -> None:
    raw = pdu.build_associate_rq("ORTHANC", "PACSGUARD", ("1.2.840.10008.1.1", "1.2.3"))
    kind, _, length = struct.unpack(">BBI", raw[:6])
    assert (kind, length) == (1, len(raw) - 6)
    assert raw[10:26] == b"ORTHANC".ljust(16) and raw[26:42] == b"PACSGUARD".ljust(16)
    assert PACSGUARD_IMPLEMENTATION_CLASS_UID.encode() in raw
    assert PACSGUARD_IMPLEMENTATION_VERSION_NAME.encode() in raw
    assert raw.count(b"\x20\x00") >= 2  # two presentation contexts


@pytest.mark.parametrize(("result", "source", "reason", "text"), [
    (1, 1, 3, "rejected-permanent, source: DICOM UL service-user, "
              "reason: calling-AE-title-not-recognized"),
    (1, 1, 7, "rejected-permanent, source: DICOM UL service-user, "
              "reason: called-AE-title-not-recognized"),
    (1, 2, 2, "rejected-permanent, source: DICOM UL service-provider (ACSE related function), "
              "reason: protocol-version-not-supported"),
    (2, 3, 1, "rejected-transient, source: DICOM UL service-provider (Presentation related "
              "function), reason: temporary-congestion"),
    (1, 1, 9, "rejected-permanent, source: DICOM UL service-user, reason: reason 9"),
])
def test_reject_decoding(result: int, source: int, reason: int, text: str) -> None:
    out = pdu.Outcome("rejected", result=result, source=source, reason=reason)
    assert out.reject_text == text


def test_accept_parsing() -> None:
    user = b"".join(pdu._item(k, v) for k, v in ((0x51, b"\0\0\x40\0"),
                                                 (0x52, b"1.2.276.0.7230010.3.0.3.6.6"),
                                                 (0x55, b"OFFIS_DCMTK_366")))
    body = bytes(68) + pdu._item(0x21, b"\x01\x00\x00\x00") + pdu._item(0x21, b"\x03\x00\x03\x00")
    out = pdu.Outcome("accepted")
    pdu.parse_accept(body + pdu._item(0x50, user), out)
    assert out.contexts == {1: 0, 3: 3} and out.accepted_ids() == {1}
    assert (out.impl_uid, out.impl_version) == ("1.2.276.0.7230010.3.0.3.6.6", "OFFIS_DCMTK_366")
    with pytest.raises(ValueError):
        pdu.parse_accept(bytes(68) + b"\x21\x00\xff\xff", pdu.Outcome("accepted"))


# -- fingerprints and the CVE table


@pytest.mark.parametrize(("uid", "name", "product", "version"), [
    ("1.2.276.0.7230010.3.0.3.6.7", "OFFIS_DCMTK_367", "DCMTK", "3.6.7"),
    ("1.2.276.0.7230010.3.0.3.6.4", "", "DCMTK", ""),
    ("1.2.826.0.1.3680043.9.3811.3.0.4", "PYNETDICOM_304", "pynetdicom", "3.0.4"),
    ("1.2.40.0.13.1.3", "dcm4che-5.31.0", "dcm4che", "5.31.0"),
    ("1.2.3.4", "SOMETHING", "", ""),
])
def test_fingerprint(uid: str, name: str, product: str, version: str) -> None:
    assert versions.fingerprint(uid, name) == (product, version)


def test_vulnerability_table() -> None:
    old = " ".join(e for _, e in versions.vulnerabilities("DCMTK", "3.6.6"))
    assert all(c in old for c in ("CVE-2022-2119", "CVE-2022-2120", "CVE-2022-2121",
                                  "CVE-2024-28130"))
    assert versions.vulnerabilities("DCMTK", "3.6.9") == []
    assert versions.vulnerabilities("Orthanc", "1.12.5") == []
    assert versions.vulnerabilities("Orthanc", "") == []
    assert "CVE-2023-33466" in versions.vulnerabilities("Orthanc", "1.11.3")[0][1]


# -- findings, summary, reports


def test_severity_order_and_parse() -> None:
    assert Severity.parse("High") == Severity.HIGH > Severity.MEDIUM
    with pytest.raises(UsageError):
        Severity.parse("urgent")
    assert all(c.remediation and c.title for c in CHECKS.values())


def _result(host: str, port: int, pats: int | None, exposed: bool) -> EndpointResult:
    res = EndpointResult(f"{host}:{port}", host, port, kind="dicom",
                         exposure=Exposure(pats, pats, pats))
    if exposed:
        res.findings.append(finding(res.target, "dicom.find.anonymous", "counts"))
    return res


def test_summary_counts_each_archive_once() -> None:
    results = [_result("127.0.0.1", 4242, 10, True), _result("127.0.0.1", 8042, 10, True),
               _result("127.0.0.1", 11112, 4, True), _result("127.0.0.2", 104, 10, True),
               _result("127.0.0.3", 104, 99, False), EndpointResult("127.0.0.4:1", "127.0.0.4", 1)]
    s = summarize(results)
    assert (s.endpoints_probed, s.endpoints_found, s.endpoints_exposed) == (6, 5, 4)
    # 127.0.0.1:4242 and :8042 report the same archive: counted once.
    assert (s.patients_exposed, s.images_exposed) == (24, 24)
    assert s.by_severity["critical"] == 4 and not s.counts_are_minimums


def test_html_is_self_contained_and_escaped() -> None:
    res = _result("127.0.0.1", 104, 1, True)
    res.findings.append(finding(res.target, "dicom.service.detected", "<script>alert(1)</script>"))
    page = report.render_html(res.findings, summarize([res]), [res.target])
    assert "<script" not in page and "&lt;script&gt;" in page
    assert not re.search(r"""(src|href)\s*=|@import|url\(""", page)
    assert not re.search(r"https?://", page)  # inline SVG needs no namespace URL
    assert page.count('class="card bad"') == 4  # the exposed counts: endpoints, patients...


def test_json_document_schema() -> None:
    res = _result("127.0.0.1", 104, 3, True)
    doc = report.to_document(res.findings, summarize([res]), [res.target])
    assert doc["schema"] == "pacsguard-audit/1"
    assert doc["tool"]["implementation_class_uid"] == PACSGUARD_IMPLEMENTATION_CLASS_UID
    f = doc["findings"][0]
    assert set(f) == {"id", "target", "check", "title", "severity", "evidence", "remediation"}
    assert f["id"] == "dicom.find.anonymous@127.0.0.1:104" and f["severity"] == "critical"
    assert set(doc["summary"]) >= {"endpoints_found", "endpoints_exposed", "patients_exposed",
                                   "studies_exposed", "images_exposed"}
