"""The audit's findings model: severities, the catalogue of stable check ids, and the summary.

Evidence strings carry only protocol facts and counts (AE titles the auditor chose,
reject reasons, numbers of matches), never an identifier returned by a peer.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

from pacsguard.errors import UsageError


class Severity(enum.IntEnum):
    """Ordered severities; comparisons follow the order below."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError as exc:
            names = ", ".join(s.label for s in cls)
            raise UsageError(f"unknown severity {text!r} (choose one of: {names})") from exc


@dataclass(frozen=True)
class Check:
    """One kind of finding: a stable id, a title and the standard remediation."""

    id: str
    title: str
    severity: Severity
    remediation: str


_S = Severity
_CHECKS = (
    # -- 1. detection and fingerprint
    Check("dicom.service.detected", "DICOM service detected", _S.INFO,
          "Make sure this DICOM port is meant to be reachable from where the audit ran."),
    Check("dicom.assoc.rejected", "DICOM association rejected", _S.INFO,
          "None: the peer refused the association (reason decoded in the evidence)."),
    Check("dicom.assoc.aborted", "Peer aborted the association request", _S.INFO,
          "None needed if intended; check the peer's log for the abort reason."),
    Check("dicom.assoc.no-answer", "Port open but no DICOM answer", _S.INFO,
          "None; the port did not answer an A-ASSOCIATE-RQ within the timeout."),
    Check("dicom.pdu.malformed", "Peer sent a malformed PDU", _S.LOW,
          "Check the software on this port; it does not speak valid DICOM UL."),
    # -- 2. AE titles
    Check("dicom.ae.called-not-enforced", "Any called AE title is accepted", _S.MEDIUM,
          "Enable called AE title checking (Orthanc: DicomCheckCalledAet=true)."),
    Check("dicom.ae.calling-not-enforced", "Unknown calling AE titles are accepted", _S.HIGH,
          "Accept associations only from registered modalities (calling AE + host); "
          "Orthanc: DicomAlwaysAllow*=false and DicomModalities; dcmqrscp: no ANY in AETable."),
    Check("dicom.ae.guessable", "Called AE title guessed from a short list", _S.LOW,
          "Use a site-specific called AE title; do not rely on it as the only control."),
    # -- 3-6. services for an unknown AE
    Check("dicom.echo.open", "C-ECHO answered for an unknown AE", _S.LOW,
          "Answer C-ECHO only for registered AEs if the peer allows it."),
    Check("dicom.find.anonymous", "Anonymous C-FIND returns patient data", _S.CRITICAL,
          "Refuse C-FIND from unknown AEs (Orthanc: DicomAlwaysAllowFind=false; "
          "dcmqrscp: restrict the AETable entry); put the archive behind a VPN or firewall."),
    Check("dicom.find.refused", "C-FIND refused for an unknown AE", _S.INFO,
          "None: queries from the audit's AE title were refused."),
    Check("dicom.worklist.open", "Modality Worklist C-FIND open", _S.HIGH,
          "Answer worklist queries only for registered modalities."),
    Check("dicom.get.negotiated", "C-GET contexts accepted for an unknown AE", _S.MEDIUM,
          "Reject retrieval contexts from unknown AEs (negotiation only was tested)."),
    Check("dicom.move.negotiated", "C-MOVE contexts accepted for an unknown AE", _S.MEDIUM,
          "Reject retrieval contexts from unknown AEs (negotiation only was tested)."),
    Check("dicom.move.unregistered-accepted", "C-MOVE to an unregistered destination not refused",
          _S.HIGH, "Only move to registered destination AEs."),
    Check("dicom.move.unregistered-refused", "C-MOVE to an unregistered destination refused",
          _S.INFO, "None."),
    Check("dicom.store.negotiated", "C-STORE contexts accepted for an unknown AE", _S.MEDIUM,
          "Accept storage only from registered modalities (negotiation only was tested)."),
    # -- 7. TLS
    Check("tls.dicom.plaintext", "DICOM offered without TLS", _S.MEDIUM,
          "Offer DICOM over TLS (PS3.15 B.1, port 2762) and close the plaintext port."),
    Check("tls.dicom.detected", "DICOM over TLS detected", _S.INFO, "None."),
    Check("tls.protocol.weak", "Obsolete TLS protocol version accepted", _S.MEDIUM,
          "Allow TLS 1.2 and 1.3 only (RFC 8996, BCP 195)."),
    Check("tls.cipher.weak", "Weak TLS cipher accepted", _S.MEDIUM,
          "Allow only ciphers of at least 128-bit strength with forward secrecy; never NULL "
          "encryption or anonymous key exchange (high when those are accepted)."),
    Check("tls.cert.untrusted", "TLS certificate not trusted by the system store", _S.LOW,
          "Use a certificate from the site's CA; pin it on the peers."),
    Check("tls.cert.expired", "TLS certificate expired or not yet valid", _S.HIGH,
          "Renew the certificate."),
    Check("tls.client-cert.required", "TLS client certificate required", _S.INFO, "None."),
    Check("tls.client-cert.not-required", "TLS client certificate not required", _S.LOW,
          "Require client certificates from DICOM peers (mutual TLS) where possible."),
    # -- 8. web
    Check("web.service.detected", "HTTP service detected", _S.INFO, "None."),
    Check("web.orthanc.rest-open", "Orthanc REST API open without authentication", _S.CRITICAL,
          "Set AuthenticationEnabled=true with strong RegisteredUsers, or a reverse proxy "
          "with authentication; RemoteAccessAllowed=false if not needed."),
    Check("web.auth.required", "Authentication required", _S.INFO, "None."),
    Check("web.auth.default-credentials", "Default credentials accepted", _S.CRITICAL,
          "Change the default password; remove example users."),
    Check("web.dicomweb.qido-open", "DICOMweb QIDO-RS open without authentication", _S.CRITICAL,
          "Require authentication (OAuth 2 / basic over TLS) on the DICOMweb root."),
    Check("web.viewer.open", "Web viewer reachable without authentication", _S.HIGH,
          "Put the viewer behind authentication and TLS."),
    Check("web.http.plaintext", "Medical imaging web service over plain HTTP", _S.MEDIUM,
          "Serve it over HTTPS only; redirect or close plain HTTP."),
    Check("web.cors.wildcard-credentials", "CORS allows any origin with credentials", _S.HIGH,
          "Allow only the site's own origins; never reflect arbitrary origins with credentials."),
    # -- 9. versions
    Check("version.vulnerable", "Version with known vulnerabilities", _S.HIGH,
          "Upgrade to a fixed release (see the CVE ids)."),
    Check("version.detected", "Software version disclosed", _S.INFO, "None."),
    # -- run notes
    Check("net.unreachable", "Target unreachable", _S.INFO,
          "None; check the address if the target was expected to be up."),
    Check("net.timeout", "Peer too slow, check abandoned", _S.INFO,
          "None; raise --timeout if the peer is known to be slow."),
    Check("audit.error", "Check failed unexpectedly", _S.INFO,
          "Rerun with -vvv and report the bug; other endpoints were audited normally."),
)
CHECKS: dict[str, Check] = {c.id: c for c in _CHECKS}


@dataclass(frozen=True)
class Finding:
    """One result. ``target`` is ``host:port`` or a URL; ``check`` is a stable id."""

    target: str
    check: str
    severity: Severity
    evidence: str
    remediation: str

    @property
    def id(self) -> str:
        return f"{self.check}@{self.target}"

    def to_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "target": self.target,
            "check": self.check,
            "title": CHECKS[self.check].title,
            "severity": self.severity.label,
            "evidence": self.evidence,
            "remediation": self.remediation,
        }


def finding(target: str, check: str, evidence: str, severity: Severity | None = None) -> Finding:
    """Build a finding from the catalogue (its default severity unless overridden)."""
    spec = CHECKS[check]  # KeyError here is a programming error, not user input
    return Finding(target, check, spec.severity if severity is None else severity, evidence,
                   spec.remediation)


@dataclass
class Exposure:
    """What one endpoint discloses to an unknown caller (counts only; None = not measured)."""

    patients: int | None = None
    studies: int | None = None
    instances: int | None = None
    truncated: bool = False  # the bound (--max-results) stopped the count: numbers are minimums


@dataclass
class EndpointResult:
    """Everything the audit learnt about one host:port."""

    target: str
    host: str
    port: int
    kind: str = "closed"  # closed | dicom | dicom-tls | http | https | unknown
    product: str = ""
    version: str = ""
    findings: list[Finding] = field(default_factory=list)
    exposure: Exposure = field(default_factory=Exposure)

    @property
    def found(self) -> bool:
        return self.kind not in ("closed", "unknown")

    @property
    def exposed(self) -> bool:
        return any(f.severity >= Severity.HIGH and f.check in _EXPOSURE_CHECKS
                   for f in self.findings)


# Findings that mean "someone unknown can read images or patient data here".
_EXPOSURE_CHECKS = frozenset({
    "dicom.find.anonymous", "dicom.worklist.open", "web.orthanc.rest-open",
    "web.dicomweb.qido-open", "web.viewer.open", "web.auth.default-credentials",
})


@dataclass
class Summary:
    """The researchers' table for this run."""

    endpoints_probed: int = 0
    endpoints_found: int = 0
    endpoints_exposed: int = 0
    patients_exposed: int = 0
    studies_exposed: int = 0
    images_exposed: int = 0
    counts_are_minimums: bool = False
    by_severity: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def summarize(results: list[EndpointResult]) -> Summary:
    """Aggregate endpoint results into the researchers' table.

    Exposure is summed over exposed endpoints, except that identical counts on the
    same host are taken once: one archive often answers on several ports (Orthanc
    on DICOM and REST), and counting it twice would overstate the exposure.
    """
    summary = Summary(endpoints_probed=len(results))
    seen: set[tuple[str, int, int, int]] = set()
    for res in results:
        summary.endpoints_found += res.found
        summary.endpoints_exposed += res.exposed
        if not res.exposed:
            continue
        exp = res.exposure
        if exp.truncated or None in (exp.patients, exp.studies, exp.instances):
            summary.counts_are_minimums = True  # bounded by C-CANCEL, or a count not disclosed
        key = (res.host, exp.patients or 0, exp.studies or 0, exp.instances or 0)
        if key in seen:
            continue
        seen.add(key)
        summary.patients_exposed += key[1]
        summary.studies_exposed += key[2]
        summary.images_exposed += key[3]
    for sev in Severity:
        summary.by_severity[sev.label] = sum(
            1 for r in results for f in r.findings if f.severity == sev)
    return summary


def all_findings(results: list[EndpointResult]) -> list[Finding]:
    """Every finding, most severe first, then by target and check id (stable output)."""
    out = [f for r in results for f in r.findings]
    out.sort(key=lambda f: (-f.severity, f.target, f.check))
    return out
