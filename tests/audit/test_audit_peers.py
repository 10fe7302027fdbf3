"""Every check's verdict against real peers on loopback: Orthanc x3, dcmqrscp, storescp +tls."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pacsguard.audit import dicom, pdu

pytestmark = [pytest.mark.slow, pytest.mark.peers, pytest.mark.timeout(120)]
Audit = Callable[..., Any]
Peer = Any


def _ae_file(tmp_path: Path, *titles: str) -> str:
    path = tmp_path / "aes.txt"
    path.write_text("# guesses\n" + "\n".join(titles) + "\n")
    return str(path)


def test_orthanc_permissive(orthanc_permissive: Peer, audit: Audit) -> None:
    p = orthanc_permissive
    run = audit(p.dicom, p.http, "--try-move-unregistered")
    assert run.rc == 1
    dcm = run.checks(p.dicom)
    assert dcm["dicom.find.anonymous"] == "critical"
    find = run.evidence("dicom.find.anonymous")
    assert "Patient Root: 2 patients" in find
    assert "Study Root: 3 studies, 5 instances" in find
    assert dcm["dicom.ae.called-not-enforced"] == "medium"
    assert dcm["dicom.ae.calling-not-enforced"] == "high"
    assert dcm["dicom.echo.open"] == "low"
    for check in ("dicom.get.negotiated", "dicom.move.negotiated", "dicom.store.negotiated",
                  "tls.dicom.plaintext"):
        assert dcm[check] == "medium", check
    assert "dicom.move.unregistered-refused" in dcm  # Orthanc answers 0xC000
    assert "OFFIS_DCMTK_367" in run.evidence("dicom.service.detected")  # Orthanc links DCMTK
    for absent in ("dicom.find.refused", "dicom.assoc.rejected", "dicom.ae.guessable"):
        assert absent not in dcm
    web = run.checks(p.http)
    assert web["web.orthanc.rest-open"] == "critical"
    assert "2 patients, 3 studies, 5 instances" in run.evidence("web.orthanc.rest-open")
    assert web["web.dicomweb.qido-open"] == "critical"
    assert web["web.viewer.open"] == "critical"  # Orthanc Explorer over plain HTTP, no auth
    assert web["web.http.plaintext"] == "medium"
    assert web["version.vulnerable"] == "high"
    assert "CVE-2023-33466" in run.evidence("version.vulnerable")
    assert "web.auth.required" not in web
    s = run.doc["summary"]
    assert (s["endpoints_found"], s["endpoints_exposed"]) == (2, 2)
    # Same host: DICOM and REST expose the same archive, counted once.
    assert (s["patients_exposed"], s["studies_exposed"], s["images_exposed"]) == (2, 3, 5)
    run.assert_no_identifiers()
    assert "critical" in run.html and "<script" not in run.html


def test_orthanc_hardened(orthanc_hardened: Peer, audit: Audit, tmp_path: Path) -> None:
    p = orthanc_hardened
    run = audit(p.dicom, p.http, "--ae-list", _ae_file(tmp_path, "ORTHANC", "PACS"))
    assert run.rc == 0  # nothing at or above high
    dcm = run.checks(p.dicom)
    rejected = run.evidence("dicom.assoc.rejected")
    assert re.search(r"random called AE PG[0-9A-F]{10} -> A-ASSOCIATE-RJ: rejected-permanent, "
                     r"source: DICOM UL service-user, reason: called-AE-title-not-recognized",
                     rejected)
    assert "ORTHANC -> A-ASSOCIATE-RJ: rejected-permanent, source: DICOM UL service-user, " \
           "reason: calling-AE-title-not-recognized" in rejected
    assert set(dcm) == {"dicom.assoc.rejected", "dicom.service.detected", "tls.dicom.plaintext"}
    web = run.checks(p.http)
    assert web["web.auth.required"] == "info"
    assert "401" in run.evidence("web.auth.required")
    assert web["web.http.plaintext"] == "medium"
    for absent in ("web.orthanc.rest-open", "web.dicomweb.qido-open", "web.viewer.open",
                   "web.auth.default-credentials"):
        assert absent not in web
    s = run.doc["summary"]
    assert (s["endpoints_found"], s["endpoints_exposed"], s["patients_exposed"]) == (2, 0, 0)


def test_orthanc_hardened_registered_caller(orthanc_hardened: Peer, audit: Audit,
                                            tmp_path: Path) -> None:
    """With the registered calling AE, ORTHANC opens and later checks use that pair."""
    p = orthanc_hardened
    run = audit(p.dicom, "--calling-ae", "TRUSTEDSCU", "--ae-list", _ae_file(tmp_path, "ORTHANC"))
    dcm = run.checks(p.dicom)
    assert "dicom.ae.guessable" in dcm
    assert "TRUSTEDSCU is registered" in run.evidence("dicom.assoc.rejected")
    assert "dicom.ae.calling-not-enforced" not in dcm
    assert "calling AE TRUSTEDSCU, called AE ORTHANC" in run.evidence("dicom.find.anonymous")


def test_orthanc_echo_only(orthanc_echo_only: Peer, audit: Audit) -> None:
    p = orthanc_echo_only
    run = audit(p.dicom, p.http)
    dcm = run.checks(p.dicom)
    assert dcm["dicom.ae.guessable"] == "low"  # random called AE refused, ORTHANC opens
    assert "called-AE-title-not-recognized" in run.evidence("dicom.ae.guessable")
    assert dcm["dicom.echo.open"] == "low"
    assert dcm["dicom.find.refused"] == "info"
    assert "aborted" in run.evidence("dicom.find.refused")
    assert "dicom.find.anonymous" not in dcm
    web = run.checks(p.http)
    assert "web.auth.required" in web
    assert "web.auth.default-credentials" not in web  # not tried unless asked
    assert run.doc["summary"]["patients_exposed"] == 0


def test_orthanc_default_credentials(orthanc_echo_only: Peer, audit: Audit) -> None:
    p = orthanc_echo_only
    run = audit(p.http, "--try-default-credentials")
    web = run.checks(p.http)
    assert web["web.auth.default-credentials"] == "critical"
    assert "'orthanc'" in run.evidence("web.auth.default-credentials")
    assert "orthanc:orthanc" not in run.out  # the password is never printed
    assert web["web.dicomweb.qido-open"] == "critical"
    assert run.doc["summary"]["patients_exposed"] == 2
    run.assert_no_identifiers()


def test_dcmqrscp_open_ae(dcmqrscp: Peer, audit: Audit, tmp_path: Path) -> None:
    run = audit(dcmqrscp.dicom, "--ae-list", _ae_file(tmp_path, "DCMQR_OPEN"),
                "--try-move-unregistered")
    assert run.rc == 1
    dcm = run.checks(dcmqrscp.dicom)
    # dcmqrscp answers success for a non-matching study without checking the destination
    assert dcm["dicom.move.unregistered-accepted"] == "medium"
    assert "0x0000" in run.evidence("dicom.move.unregistered-accepted")
    assert dcm["dicom.ae.guessable"] == "low"
    assert "dicom.ae.called-not-enforced" not in dcm  # dcmqrscp always checks the called AE
    assert dcm["dicom.ae.calling-not-enforced"] == "high"
    assert dcm["dicom.find.anonymous"] == "critical"
    find = run.evidence("dicom.find.anonymous")
    assert "2 patients" in find and "3 studies, unknown instances" in find
    s = run.doc["summary"]
    assert (s["patients_exposed"], s["studies_exposed"], s["counts_are_minimums"]) == (2, 3, True)
    run.assert_no_identifiers()


def test_dcmqrscp_locked_ae(dcmqrscp: Peer, audit: Audit, tmp_path: Path) -> None:
    run = audit(dcmqrscp.dicom, "--ae-list", _ae_file(tmp_path, "DCMQR_LOCK"))
    assert run.rc == 0
    dcm = run.checks(dcmqrscp.dicom)
    # dcmqrscp's (misleading) reason for an unknown caller on a restricted AE.
    assert "DCMQR_LOCK -> A-ASSOCIATE-RJ: rejected-permanent, source: DICOM UL service-user, " \
           "reason: called-AE-title-not-recognized" in run.evidence("dicom.assoc.rejected")
    assert not {"dicom.echo.open", "dicom.find.anonymous", "dicom.ae.guessable"} & set(dcm)


def test_storescp_tls(storescp_tls: Peer, audit: Audit) -> None:
    run = audit(storescp_tls.dicom)
    got = run.checks(storescp_tls.dicom)
    assert "TLSv1.3" in run.evidence("tls.dicom.detected")
    assert got["tls.client-cert.not-required"] == "low"
    assert got["tls.cert.untrusted"] == "low"
    assert "self-signed" in run.evidence("tls.cert.untrusted")
    assert "tls.protocol.weak" not in got and "tls.dicom.plaintext" not in got
    assert "tls.cipher.weak" not in got and "tls.cert.expired" not in got
    # DICOM checks run inside TLS too.
    assert got["dicom.ae.called-not-enforced"] == "medium"
    assert got["dicom.store.negotiated"] == "medium"
    assert got["dicom.echo.open"] == "low"
    assert "dicom.find.anonymous" not in got  # storescp has no query service


def test_null_cipher_and_expired_certificate(storescp_null_cipher: Peer, audit: Audit) -> None:
    run = audit(storescp_null_cipher.dicom)
    got = run.checks(storescp_null_cipher.dicom)
    assert "NULL-SHA (0 bits)" in run.evidence("tls.dicom.detected")
    assert got["tls.cipher.weak"] == "high"
    assert "NULL-SHA (no encryption)" in run.evidence("tls.cipher.weak")
    assert got["tls.cert.expired"] == "high"
    assert "certificate has expired" in run.evidence("tls.cert.expired")
    assert got["tls.protocol.weak"] == "medium"
    assert got["dicom.echo.open"] == "low"  # DICOM checks still ran inside the NULL "TLS"
    assert run.rc == 1  # high findings fail the default --fail-on


def test_legacy_aes_profile_is_weak_on_versions_only(storescp_aes_profile: Peer, audit: Audit) -> None:
    run = audit(storescp_aes_profile.dicom)
    got = run.checks(storescp_aes_profile.dicom)
    assert "AES128-SHA (128 bits)" in run.evidence("tls.dicom.detected")
    assert "TLSv1, TLSv1.1" in run.evidence("tls.protocol.weak")
    # Python's default client refuses AES128-SHA; trust is still judged (second handshake).
    assert "self-signed" in run.evidence("tls.cert.untrusted")
    assert "tls.cipher.weak" not in got and "tls.cert.expired" not in got


def test_storescp_tls_plaintext_fails_cleanly(storescp_tls: Peer) -> None:
    out = pdu.associate("127.0.0.1", storescp_tls.dicom_port, "TLSSCP", "PACSGUARD",
                        (dicom.VERIFICATION,), 3.0)
    assert out.kind in ("eof", "malformed")


def test_storescp_client_certificate_required(storescp_mtls: Peer, audit: Audit) -> None:
    run = audit(storescp_mtls.dicom)
    got = run.checks(storescp_mtls.dicom)
    assert got["tls.client-cert.required"] == "info"
    assert "tls.client-cert.not-required" not in got
    assert run.rc == 0


def test_all_peers_in_one_run(orthanc_permissive: Peer, orthanc_hardened: Peer,
                              dcmqrscp: Peer, storescp_tls: Peer, audit: Audit,
                              tmp_path: Path) -> None:
    """Concurrency: several peers at once give the same verdicts and a combined summary."""
    run = audit(orthanc_permissive.dicom, orthanc_hardened.dicom, dcmqrscp.dicom,
                storescp_tls.dicom, "--concurrency", "4",
                "--ae-list", _ae_file(tmp_path, "DCMQR_OPEN", "ORTHANC"))
    assert run.checks(orthanc_permissive.dicom)["dicom.find.anonymous"] == "critical"
    assert run.checks(dcmqrscp.dicom)["dicom.find.anonymous"] == "critical"
    assert "dicom.find.anonymous" not in run.checks(orthanc_hardened.dicom)
    assert "tls.dicom.detected" in run.checks(storescp_tls.dicom)
    # plaintext DICOM on a host that also offers DICOM TLS is only low
    assert run.checks(orthanc_permissive.dicom)["tls.dicom.plaintext"] == "low"
    s = run.doc["summary"]
    assert (s["endpoints_found"], s["endpoints_exposed"]) == (4, 2)
    # two archives (Orthanc 2/3/5, dcmqrscp 2/3/unknown), summed
    assert (s["patients_exposed"], s["studies_exposed"], s["images_exposed"]) == (4, 6, 5)
    assert s["counts_are_minimums"]


def test_html_report_in_a_browser(orthanc_permissive: Peer, audit: Audit, tmp_path: Path) -> None:
    """What a person sees: the DOM after Chromium rendered the page (no network, no scripts)."""
    import shutil
    import subprocess

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium not installed")
    audit(orthanc_permissive.dicom, orthanc_permissive.http)
    page = tmp_path / "audit.html"
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'chrome'}", "--dump-dom",
         page.as_uri()], capture_output=True, text=True, timeout=60, check=True).stdout
    text = re.sub(r"<[^>]+>", " ", dom)
    # summary cards: the count, then its label
    assert re.search(r"\b2\s+patients exposed", text)
    assert re.search(r"\b5\s+images exposed", text)
    assert "dicom.find.anonymous" in text and "<svg" in dom
    for fake in ("FAKE^ONE", "PGFAKE-001"):
        assert fake not in dom
