"""Target parsing: hosts, host:port, CIDR blocks, http(s) URLs and ``@file`` lists.

Every target is resolved and scope-checked here, before the runner opens a single
connection.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pacsguard.audit.scope import check_scope
from pacsguard.errors import NetworkError, UsageError

DICOM_PORTS = (104, 11112, 2761, 2762, 4242)
HTTP_PORTS = (80, 443, 8042, 8080)
MAX_ADDRESSES = 4096  # a typo like /8 must not start a 16-million-host scan


@dataclass(frozen=True, order=True)
class Endpoint:
    """One host:port to audit. ``hint`` orders the protocol sniffing; ``path`` is a URL base."""

    host: str
    port: int
    hint: str = "dicom"  # dicom | http | https
    path: str = ""
    explicit: bool = False  # named with its port by the user: report even if unreachable

    @property
    def label(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.path:
            return f"{self.hint}://{host}:{self.port}{self.path}"
        return f"{host}:{self.port}"


def _default_endpoints(host: str) -> list[Endpoint]:
    eps = [Endpoint(host, p, "dicom") for p in DICOM_PORTS]
    eps += [Endpoint(host, p, "https" if p == 443 else "http") for p in HTTP_PORTS]
    return eps


def _resolve(name: str, allow_public: bool) -> list[str]:
    try:
        return [str(ipaddress.ip_address(name))] if _is_ip(name) else _lookup(name, allow_public)
    except ValueError as exc:
        raise NetworkError(f"invalid address {name!r}") from exc


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _lookup(name: str, allow_public: bool) -> list[str]:
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise NetworkError(f"cannot resolve target {name!r}") from exc
    addrs = sorted({str(info[4][0]) for info in infos})
    for addr in addrs:  # every address the name maps to must be in scope
        check_scope(ipaddress.ip_address(addr), name, allow_public)
    return addrs[:1]


def _port(text: str, label: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UsageError(f"invalid port in target {label!r}")
    return int(text)


def _parse_one(raw: str, allow_public: bool) -> list[Endpoint]:
    text = raw.strip()
    if "://" in text:
        return _parse_url(text, allow_public)
    if "/" in text:
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError as exc:
            raise UsageError(f"invalid CIDR block {text!r}") from exc
        if net.num_addresses > MAX_ADDRESSES:
            raise UsageError(f"CIDR block {text!r} has more than {MAX_ADDRESSES} addresses")
        # Check the whole block first: a refused block contacts nobody.
        check_scope(net.network_address, text, allow_public)
        check_scope(net.broadcast_address, text, allow_public)
        hosts = list(net.hosts()) if net.num_addresses > 2 else list(net)
        return [ep for ip in hosts for ep in _default_endpoints(str(ip))]
    host, port = text, None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
    elif text.count(":") == 1:
        host, port = text.split(":")
    addrs = _resolve(host, allow_public)
    for addr in addrs:
        check_scope(ipaddress.ip_address(addr), text, allow_public)
    if port is None:
        return [ep for a in addrs for ep in _default_endpoints(a)]
    num = _port(port, text)
    hint = "https" if num == 443 else ("http" if num in HTTP_PORTS else "dicom")
    return [Endpoint(a, num, hint, explicit=True) for a in addrs]


def _parse_url(text: str, allow_public: bool) -> list[Endpoint]:
    url = urllib.parse.urlsplit(text)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise UsageError(f"unsupported URL {text!r} (use http:// or https://)")
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError as exc:
        raise UsageError(f"invalid port in target {text!r}") from exc
    addrs = _resolve(url.hostname, allow_public)
    for addr in addrs:
        check_scope(ipaddress.ip_address(addr), text, allow_public)
    path = url.path.rstrip("/")
    return [Endpoint(a, port, url.scheme, path or "/", explicit=True) for a in addrs]


def _expand_files(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if not item.startswith("@"):
            out.append(item)
            continue
        try:
            lines = Path(item[1:]).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read target list {item[1:]!r}") from exc
        out.extend(s for line in lines if (s := line.split("#", 1)[0].strip()))
    return out


def parse_targets(items: Iterable[str], allow_public: bool = False) -> list[Endpoint]:
    """Expand, resolve and scope-check targets; the result is de-duplicated and sorted.

    Raises
    ------
    UsageError
        Malformed target, unreadable ``@file`` or no target at all.
    ScopeError
        A target outside loopback/private ranges without ``allow_public``.
    """
    seen: dict[tuple[str, int], Endpoint] = {}
    for raw in _expand_files(items):
        for ep in _parse_one(raw, allow_public):
            key = (ep.host, ep.port)
            # An explicit URL wins over a guessed default port on the same socket.
            if key not in seen or ep.path:
                seen[key] = ep
    if not seen:
        raise UsageError("no target given")
    if len(seen) > MAX_ADDRESSES * 4:
        raise UsageError(f"too many endpoints ({len(seen)}); split the audit")
    return sorted(seen.values())
