"""TLS checks (issue 5, check 7): TLS or not, versions, cipher, certificate validity.

The probing context verifies nothing (it must talk to self-signed test peers);
certificate trust is judged by separate handshakes against the system store and
against the peer's own certificate, so no private ``ssl`` API is needed.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from pacsguard.audit.findings import EndpointResult, Severity, finding

Gate = Callable[[], None]
_CLIENT_CERT_HINTS = ("certificate required", "alert bad certificate", "alert handshake failure",
                      "peer did not return a certificate", "alert certificate unknown")


def probe_context() -> ssl.SSLContext:
    """A client context that accepts any certificate: used to look, never to trust."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


@dataclass
class TlsInfo:
    version: str
    cipher: str
    bits: int
    cert_der: bytes | None
    context: ssl.SSLContext | None = None  # the client context that got through


def handshake(host: str, port: int, timeout: float, ctx: ssl.SSLContext | None = None) -> TlsInfo:
    """Complete a TLS handshake and describe it. Raises OSError (ssl.SSLError) on failure."""
    with socket.create_connection((host, port), timeout=timeout) as raw:
        raw.settimeout(timeout)
        # The socket timeout is per read: a dripping peer is cut off by the watchdog.
        watchdog = threading.Timer(timeout * 2, _hang_up, (raw,))
        watchdog.daemon = True
        watchdog.start()
        try:
            with (ctx or probe_context()).wrap_socket(raw) as tls:
                cipher = tls.cipher()
                return TlsInfo(tls.version() or "", cipher[0] if cipher else "",
                               int(cipher[2]) if cipher and cipher[2] else 0,
                               tls.getpeercert(binary_form=True))
        finally:
            watchdog.cancel()


def _hang_up(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def sniff(host: str, port: int, timeout: float) -> TlsInfo | None:
    """Return the handshake description if the port speaks TLS, else None.

    A server that only offers obsolete versions fails a modern handshake, so a
    legacy context (TLS 1.0 and up, any cipher) gets a second try.
    """
    try:
        info = handshake(host, port, timeout)
        info.context = probe_context()
        return info
    except ssl.SSLError:
        pass
    except (OSError, ValueError):
        return None
    legacy = _legacy_context(ssl.TLSVersion.TLSv1, ssl.TLSVersion.MAXIMUM_SUPPORTED)
    if legacy is None:
        return None
    try:
        info = handshake(host, port, timeout, legacy)
    except (OSError, ValueError):
        return None
    info.context = legacy
    return info


def client_cert_required(message: str) -> bool:
    """Does an error raised after the handshake mean the server wanted a client certificate?"""
    low = message.lower()
    return any(h in low for h in _CLIENT_CERT_HINTS)


_WARNINGS_LOCK = threading.Lock()


def _legacy_context(version: ssl.TLSVersion, maximum: ssl.TLSVersion | None = None,
                    ciphers: str = "ALL:COMPLEMENTOFALL",  # every suite, NULL ones included
                    ctx: ssl.SSLContext | None = None) -> ssl.SSLContext | None:
    """A context offering obsolete versions and ``ciphers`` (Python warns that they are
    deprecated: we know). ``ctx`` is adjusted instead of a new non-verifying one."""
    ctx = ctx or probe_context()
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            ctx.set_ciphers(f"{ciphers}:@SECLEVEL=0")
            ctx.minimum_version = version
            ctx.maximum_version = maximum or version
        except (ValueError, ssl.SSLError):
            return None  # this OpenSSL cannot even offer it
    return ctx


#: Suites nobody should accept: what OpenSSL 3 can still offer of them (RC4, DES and
#: export suites are gone from its default provider). Offered alone, up to TLS 1.2 (TLS 1.3
#: has no weak suites), so a server that accepts one is caught even if it prefers others.
_WEAK_SUITES = (("no encryption", "eNULL"), ("no server authentication", "aNULL:!eNULL"))


def _attempt(host: str, port: int, timeout: float, gate: Gate,
             ctx: ssl.SSLContext | None) -> TlsInfo | None:
    """One rate-limited handshake with ``ctx``; None if this OpenSSL cannot offer it or the
    server refuses."""
    if ctx is None:
        return None
    gate()
    try:
        return handshake(host, port, timeout, ctx)
    except (OSError, ValueError):
        return None


def _weak_ciphers(host: str, port: int, timeout: float, gate: Gate) -> list[str]:
    accepted = []
    for label, spec in _WEAK_SUITES:
        ctx = _legacy_context(ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_2, spec)
        info = _attempt(host, port, timeout, gate, ctx)
        if info is not None:
            accepted.append(f"{info.cipher} ({label})")
    return accepted


def _weak_versions(host: str, port: int, timeout: float, gate: Gate) -> list[str]:
    accepted = []
    for name, ver in (("TLSv1", ssl.TLSVersion.TLSv1), ("TLSv1.1", ssl.TLSVersion.TLSv1_1)):
        info = _attempt(host, port, timeout, gate, _legacy_context(ver))
        if info is not None and info.version == name:
            accepted.append(name)
    return accepted


def _verifying_context(cadata: bytes | None, legacy: bool) -> ssl.SSLContext | None:
    if cadata is None:
        ctx = ssl.create_default_context()
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cadata=cadata)
    ctx.check_hostname = False
    if legacy:
        return _legacy_context(ssl.TLSVersion.TLSv1, ssl.TLSVersion.MAXIMUM_SUPPORTED, ctx=ctx)
    return ctx


def _verify(host: str, port: int, timeout: float, cadata: bytes | None) -> str:
    """'' if a verifying handshake succeeds, else OpenSSL's verify message.

    A server that only speaks suites or versions a modern client refuses fails before its
    certificate is judged; the handshake is then tried again offering everything, so that
    an expired certificate behind obsolete settings is still seen.
    """
    for legacy in (False, True):
        ctx = _verifying_context(cadata, legacy)
        if ctx is None:
            return ""
        try:
            handshake(host, port, timeout, ctx)
        except ssl.SSLCertVerificationError as exc:
            return str(exc.verify_message or exc.reason or "verification failed")
        except ssl.SSLError:
            continue  # refused before the certificate was judged (suites, versions...)
        except (OSError, ValueError):
            return ""  # failed for another reason: not a verdict on trust
        return ""
    return ""  # both refused (a client certificate wanted...): not a verdict on trust


def _not_after(host: str, port: int, timeout: float, der: bytes) -> str:
    for legacy in (False, True):
        try:
            ctx = _verifying_context(der, legacy)
            if ctx is None:
                return ""
            with socket.create_connection((host, port), timeout=timeout) as raw, \
                    ctx.wrap_socket(raw) as tls:
                cert = tls.getpeercert()
        except ssl.SSLError:
            continue
        except (OSError, ValueError):
            return ""
        value = cert.get("notAfter") if cert else None
        return value if isinstance(value, str) else ""
    return ""


def tls_checks(host: str, port: int, info: TlsInfo, timeout: float, gate: Gate,
               res: EndpointResult, what: str) -> None:
    """Versions, cipher and certificate findings for a port already known to speak TLS."""
    target = res.target
    res.findings.append(finding(target, "tls.dicom.detected" if what == "DICOM"
                                else "web.service.detected",
                                f"{what} over TLS: {info.version}, {info.cipher} "
                                f"({info.bits} bits)"))
    weak = _weak_versions(host, port, timeout, gate)
    if weak:
        res.findings.append(finding(target, "tls.protocol.weak",
                                    f"handshake succeeded with {', '.join(weak)}"))
    if info.bits and info.bits < 128:
        res.findings.append(finding(target, "tls.cipher.weak",
                                    f"negotiated {info.cipher} with {info.bits}-bit keys"))
    broken = _weak_ciphers(host, port, timeout, gate)
    if broken:
        # Data in clear or to anyone in the middle: as bad as no TLS.
        res.findings.append(finding(target, "tls.cipher.weak",
                                    f"handshake succeeded offering only {', '.join(broken)}",
                                    Severity.HIGH))
    if info.cert_der is None:
        return
    gate()
    system = _verify(host, port, timeout, None)
    gate()
    pinned = _verify(host, port, timeout, info.cert_der)
    expiry = _not_after(host, port, timeout, info.cert_der) if not pinned else ""
    if pinned and ("expired" in pinned or "not yet valid" in pinned):
        res.findings.append(finding(target, "tls.cert.expired", f"certificate: {pinned}"))
    if system:
        extra = f"; valid until {expiry}" if expiry else ""
        res.findings.append(finding(target, "tls.cert.untrusted",
                                    f"system trust store says: {system}{extra}"))


def client_cert_finding(res: EndpointResult, required: bool, detail: str) -> None:
    if required:
        res.findings.append(finding(res.target, "tls.client-cert.required",
                                    f"the server ended the session without a client "
                                    f"certificate ({detail})"))
    else:
        res.findings.append(finding(res.target, "tls.client-cert.not-required",
                                    "the service answered a client without a certificate",
                                    Severity.LOW))
