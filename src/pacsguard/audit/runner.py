"""Runs the audit: protocol sniffing per endpoint, bounded concurrency, a global rate limit.

Every endpoint is handled by one worker thread; every new TCP connection first
passes the shared rate limiter. Whatever a peer does (refuse, drop, abort, send
garbage, stall) becomes a finding or a note on that endpoint; an unexpected bug
in one check becomes an ``audit.error`` note, never a crash of the whole run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pacsguard.audit import dicom, pdu, tls, web
from pacsguard.audit.findings import EndpointResult, Severity, finding
from pacsguard.audit.targets import Endpoint

LOG = logging.getLogger(__name__)


class RateLimiter:
    """At most ``rate`` new connections per second across all workers (0 = unlimited)."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            time.sleep(slot - now)


@dataclass
class AuditOptions:
    """Everything the runner needs besides the targets."""

    dicom: dicom.DicomOptions = field(default_factory=dicom.DicomOptions)
    web: web.WebOptions = field(default_factory=web.WebOptions)
    concurrency: int = 32
    rate: float = 200.0

    @property
    def timeout(self) -> float:
        return self.dicom.timeout


def run_audit(endpoints: list[Endpoint], opts: AuditOptions,
              progress: Callable[[EndpointResult], None] | None = None) -> list[EndpointResult]:
    """Audit every endpoint; results come back in the endpoints' order."""
    gate = RateLimiter(opts.rate)
    pool = ThreadPoolExecutor(max_workers=max(1, opts.concurrency),
                              thread_name_prefix="pacsguard-audit")
    try:
        futures = [pool.submit(_safe_audit, ep, opts, gate) for ep in endpoints]
        results = []
        for fut in futures:
            res = fut.result()
            if progress is not None:
                progress(res)
            results.append(res)
    except KeyboardInterrupt:
        # Do not start queued endpoints; running ones end within their timeouts.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    _cross_endpoint_notes(results)
    return results


def _safe_audit(ep: Endpoint, opts: AuditOptions, gate: RateLimiter) -> EndpointResult:
    res = EndpointResult(target=ep.label, host=ep.host, port=ep.port)
    try:
        audit_endpoint(ep, opts, gate, res)
    except Exception as exc:  # one broken check must not lose the other endpoints
        LOG.debug("audit of %s failed", ep.label, exc_info=True)
        res.findings.append(finding(res.target, "audit.error",
                                    f"internal error {type(exc).__name__}; other checks kept"))
    return res


def audit_endpoint(ep: Endpoint, opts: AuditOptions, gate: RateLimiter,
                   res: EndpointResult) -> None:
    """Find out what speaks on ``ep`` and run the matching checks."""
    timeout = opts.timeout
    if ep.hint in ("http", "https"):
        if _try_web(ep, ep.hint == "https", opts, gate, res):
            return
        if ep.hint == "https" and _try_tls(ep, opts, gate, res):
            return
    gate()
    called = dicom.random_ae()
    first = pdu.associate(ep.host, ep.port, called, opts.dicom.calling_ae,
                          (dicom.VERIFICATION,), timeout)
    no_tcp = first.kind == "timeout" and "TCP" in first.detail
    if first.kind in ("closed", "unreachable") or no_tcp:
        res.kind = "closed"
        if ep.explicit:
            check = "net.timeout" if first.kind == "timeout" else "net.unreachable"
            res.findings.append(finding(res.target, check, f"{first.kind}: {first.detail}"))
        return
    if first.kind in ("accepted", "rejected", "aborted"):
        dicom.audit_dicom(ep.host, ep.port, first, called, opts.dicom, gate, res)
        res.findings.append(finding(res.target, "tls.dicom.plaintext",
                                    "DICOM answers in plaintext on this port"))
        return
    # Not DICOM: HTTP (which may have answered the RQ, or waited for a full request), then TLS.
    if ep.hint == "dicom" and _try_web(ep, False, opts, gate, res):
        return
    if ep.hint != "https" and _try_tls(ep, opts, gate, res):
        return
    res.kind = "unknown"
    if first.kind == "malformed":
        res.findings.append(finding(res.target, "dicom.pdu.malformed", first.detail))
    elif first.kind == "timeout":
        res.findings.append(finding(res.target, "net.timeout",
                                    f"port open, A-ASSOCIATE-RQ unanswered: {first.detail}"))
    else:
        res.findings.append(finding(res.target, "dicom.assoc.no-answer", describe_first(first)))


def describe_first(first: pdu.Outcome) -> str:
    return f"port open, not DICOM, HTTP or TLS ({dicom.describe(first)})"


def _try_web(ep: Endpoint, use_tls: bool, opts: AuditOptions, gate: RateLimiter,
             res: EndpointResult) -> bool:
    info = None
    if use_tls:
        gate()
        info = tls.sniff(ep.host, ep.port, opts.timeout)
        if info is None:
            return False
    ctx = info.context if info is not None else None
    first = web.sniff(ep.host, ep.port, use_tls, ep.path, opts.timeout, gate, ctx)
    if first is None:
        return False
    if info is not None:
        tls.tls_checks(ep.host, ep.port, info, opts.timeout, gate, res, "HTTP")
    client = web.Client(ep.host, ep.port, use_tls, ep.path, opts.timeout, gate, ctx)
    web.audit_web(client, first, opts.web, res)
    return True


def _try_tls(ep: Endpoint, opts: AuditOptions, gate: RateLimiter, res: EndpointResult) -> bool:
    """TLS on this port? Then DICOM over TLS, else HTTPS, else a TLS service we cannot see into."""
    gate()
    info = tls.sniff(ep.host, ep.port, opts.timeout)
    if info is None:
        return False
    transport = dicom.Transport(info.context or tls.probe_context())
    gate()
    called = dicom.random_ae()
    first = pdu.associate(ep.host, ep.port, called, opts.dicom.calling_ae,
                          (dicom.VERIFICATION,), opts.timeout, transport.wrap())
    if first.kind in ("accepted", "rejected", "aborted"):
        tls.tls_checks(ep.host, ep.port, info, opts.timeout, gate, res, "DICOM")
        tls.client_cert_finding(res, False, "")
        dicom.audit_dicom(ep.host, ep.port, first, called, opts.dicom, gate, res, transport)
        return True
    if _try_web(ep, True, opts, gate, res):
        return True
    res.kind = "dicom-tls" if ep.hint == "dicom" else "tls"
    tls.tls_checks(ep.host, ep.port, info, opts.timeout, gate, res,
                   "DICOM" if ep.hint == "dicom" else "a TLS service")
    if first.kind == "timeout":
        res.findings.append(finding(res.target, "net.timeout",
                                    f"TLS handshake done, then no answer: {first.detail}"))
    elif tls.client_cert_required(first.detail):
        tls.client_cert_finding(res, True, first.detail)
    else:
        # The server dropped the session right after a handshake without a client
        # certificate; with TLS 1.3 the alert can be lost in the race with the close.
        tls.client_cert_finding(res, True, f"most likely; {first.kind}: {first.detail}")
    return True


def _cross_endpoint_notes(results: list[EndpointResult]) -> None:
    """Tell, on each plaintext DICOM finding, whether the host also offers DICOM over TLS."""
    tls_ports: dict[str, list[int]] = {}
    for res in results:
        if res.kind == "dicom-tls":
            tls_ports.setdefault(res.host, []).append(res.port)
    for res in results:
        for i, f in enumerate(res.findings):
            if f.check != "tls.dicom.plaintext":
                continue
            ports = tls_ports.get(res.host)
            extra = (f"; DICOM TLS also offered on port(s) {', '.join(map(str, ports))}"
                     if ports else "; no DICOM TLS port found among the audited ports")
            sev = Severity.LOW if ports else f.severity
            res.findings[i] = type(f)(f.target, f.check, sev, f.evidence + extra, f.remediation)
