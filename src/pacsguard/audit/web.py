"""Web checks (issue 5, check 8): Orthanc REST, DICOMweb QIDO-RS, web viewers, CORS, credentials.

Only counts leave this module: Orthanc's ``/statistics`` gives patient, study and
instance totals without a single identifier, and a QIDO answer is only checked
for being a non-empty JSON list. Default credentials are tried only when asked.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pacsguard.audit import versions
from pacsguard.audit.findings import EndpointResult, Severity, finding
from pacsguard.audit.identity import HTTP_USER_AGENT
from pacsguard.audit.tls import probe_context

Gate = Callable[[], None]
MAX_BODY = 256 * 1024
QIDO_ROOTS = ("/dicom-web", "/dicomweb", "/wado-rs", "/orthanc/dicom-web", "/rs",
              "/dcm4chee-arc/aets/DCM4CHEE/rs")
VIEWERS = (  # path, name, a word the page must contain (a catch-all 200 is not a viewer)
    ("/app/explorer.html", "Orthanc Explorer", "orthanc"),
    ("/ui/app/", "Orthanc Explorer 2", "orthanc"),
    ("/stone-webviewer/index.html", "Stone Web Viewer", "stone"),
    ("/osimis-viewer/app/index.html", "Osimis Web Viewer", "osimis"),
    ("/viewer", "OHIF Viewer", "ohif"),
    ("/ohif/", "OHIF Viewer", "ohif"),
)
DEFAULT_CREDENTIALS = (("orthanc", "orthanc"), ("alice", "alicePassword"), ("admin", "admin"),
                       ("admin", "password"), ("root", "root"))
PROBE_ORIGIN = "https://pacsguard-audit.invalid"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None


@dataclass
class WebOptions:
    timeout: float = 5.0
    try_default_credentials: bool = False


class Client:
    """One http(s) base; every request is a new, gated connection with a hard timeout."""

    def __init__(self, host: str, port: int, tls: bool, prefix: str, timeout: float,
                 gate: Gate, context: ssl.SSLContext | None = None) -> None:
        self.host, self.port, self.tls = host, port, tls
        self.context = context
        self.prefix = "" if prefix in ("", "/") else prefix
        self.timeout, self.gate = timeout, gate
        self.auth: str | None = None

    def get(self, path: str, headers: dict[str, str] | None = None,
            auth: tuple[str, str] | None = None) -> Response | None:
        hdrs = {"User-Agent": HTTP_USER_AGENT, "Connection": "close"}
        hdrs.update(headers or {})
        creds = auth
        if creds is not None:
            token = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
            hdrs["Authorization"] = "Basic " + token
        elif self.auth:
            hdrs["Authorization"] = self.auth
        conn: http.client.HTTPConnection
        if self.tls:
            conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=self.context or probe_context())
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.gate()
        # http.client's timeout is per socket operation: a peer dripping one byte at a
        # time would never trip it. The watchdog bounds the whole request.
        watchdog = threading.Timer(self.timeout * 2, _hang_up, (conn,))
        watchdog.daemon = True
        watchdog.start()
        try:
            conn.request("GET", self.prefix + path, headers=hdrs)
            resp = conn.getresponse()
            body = resp.read(MAX_BODY)
            return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
        except (OSError, http.client.HTTPException, ssl.SSLError, ValueError):
            return None
        finally:
            watchdog.cancel()
            conn.close()


def _hang_up(conn: http.client.HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # wakes up a blocked recv in the worker


def sniff(host: str, port: int, tls: bool, prefix: str, timeout: float, gate: Gate,
          context: ssl.SSLContext | None = None) -> Response | None:
    """GET / (or the URL's path): a Response if the port speaks HTTP."""
    return Client(host, port, tls, prefix, timeout, gate, context).get("/")


def audit_web(client: Client, first: Response, opts: WebOptions, res: EndpointResult) -> None:
    """Run the web checks on an endpoint that answered HTTP."""
    res.kind = "https" if client.tls else "http"
    server = first.headers.get("server", "")
    res.findings.append(finding(res.target, "web.service.detected",
                                f"{'HTTPS' if client.tls else 'HTTP'} {first.status} on /"
                                + (f", Server: {server[:60]}" if server else "")))
    medical = [*_orthanc(client, opts, res), *_qido(client, res), *_viewers(client, res)]
    if not medical:
        return
    if not client.tls:
        res.findings.append(finding(res.target, "web.http.plaintext",
                                    "served over plain HTTP: " + ", ".join(medical)
                                    + "; credentials and images cross the network in clear"))
    _cors(client, res)


def _orthanc(client: Client, opts: WebOptions, res: EndpointResult) -> list[str]:
    resp = client.get("/system")
    if resp is None:
        return []
    if resp.status == 401 and "orthanc" in resp.headers.get("www-authenticate", "").lower():
        res.product = "Orthanc"
        res.findings.append(finding(res.target, "web.auth.required",
                                    "Orthanc REST /system answers 401 without credentials"))
        if not (opts.try_default_credentials and _default_credentials(client, res)):
            return ["Orthanc REST (authenticated)"]
        resp = client.get("/system")
        if resp is None or resp.status != 200:
            return ["Orthanc REST"]
    data = resp.json() if resp.status == 200 else None
    if not isinstance(data, dict) or "Version" not in data or "DicomAet" not in data:
        return []
    version = str(data.get("Version", ""))
    res.product, res.version = "Orthanc", version
    res.findings.append(finding(res.target, "version.detected", f"Orthanc {version} (/system)"))
    for sev, vuln in versions.vulnerabilities("Orthanc", version):
        res.findings.append(finding(res.target, "version.vulnerable", vuln, Severity.parse(sev)))
    if client.auth is None:
        stats = _statistics(client, res)
        level = Severity.CRITICAL if res.exposure.patients else Severity.HIGH
        res.findings.append(finding(res.target, "web.orthanc.rest-open",
                                    f"/system and /statistics answer without authentication: "
                                    f"{stats}", level))
    else:
        _statistics(client, res)
    return ["Orthanc REST"]


def _statistics(client: Client, res: EndpointResult) -> str:
    resp = client.get("/statistics")
    data = resp.json() if resp is not None and resp.status == 200 else None
    if not isinstance(data, dict):
        return "counts unavailable"
    exp = res.exposure
    nums = [data.get(k) for k in ("CountPatients", "CountStudies", "CountInstances")]
    if all(isinstance(n, int) for n in nums):
        exp.patients, exp.studies, exp.instances = (int(n) for n in nums)  # type: ignore[arg-type]
        return f"{exp.patients} patients, {exp.studies} studies, {exp.instances} instances"
    return "counts unavailable"


def _default_credentials(client: Client, res: EndpointResult) -> bool:
    for user, password in DEFAULT_CREDENTIALS:
        resp = client.get("/system", auth=(user, password))
        if resp is not None and resp.status == 200:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            client.auth = "Basic " + token
            res.findings.append(finding(res.target, "web.auth.default-credentials",
                                        f"user {user!r} with its published default password "
                                        "is accepted by the Orthanc REST API"))
            return True
    return False


def _qido(client: Client, res: EndpointResult) -> list[str]:
    for root in QIDO_ROOTS:
        resp = client.get(root + "/studies?limit=1", {"Accept": "application/dicom+json"})
        if resp is None:
            continue
        if resp.status in (401, 403):
            res.findings.append(finding(res.target, "web.auth.required",
                                        f"QIDO-RS {root}/studies answers {resp.status}"))
            return [f"DICOMweb {root} (authenticated)"]
        data = resp.json() if resp.status == 200 else None
        if resp.status == 204 or isinstance(data, list):
            found = bool(data)
            how = "with default credentials" if client.auth else "without authentication"
            sev = Severity.CRITICAL if found else Severity.HIGH
            what = "at least one study" if found else "an empty result"
            res.findings.append(finding(res.target, "web.dicomweb.qido-open",
                                        f"GET {root}/studies?limit=1 {how} returned {what} "
                                        "(content not kept)", sev))
            if found and not res.exposure.studies:
                res.exposure.studies = 1
                res.exposure.truncated = True
            return [f"DICOMweb {root}"]
    return []


def _viewers(client: Client, res: EndpointResult) -> list[str]:
    found: list[str] = []
    names: set[str] = set()
    for path, name, marker in VIEWERS:
        if name in names:
            continue
        resp = client.get(path)
        if resp is None or resp.status != 200:
            continue
        if marker not in resp.body[:MAX_BODY].decode("utf-8", "replace").lower():
            continue
        how = "with default credentials" if client.auth else "without authentication"
        plain = not client.tls
        sev = Severity.CRITICAL if plain and not client.auth else Severity.HIGH
        res.findings.append(finding(res.target, "web.viewer.open",
                                    f"{name} at {path} loads {how}"
                                    + (" over plain HTTP" if plain else ""), sev))
        found.append(f"{name} at {path}")
        names.add(name)
    return found


def _cors(client: Client, res: EndpointResult) -> None:
    for path in ("/system", "/dicom-web/studies?limit=1", "/"):
        resp = client.get(path, {"Origin": PROBE_ORIGIN})
        if resp is None:
            continue
        origin = resp.headers.get("access-control-allow-origin", "")
        creds = resp.headers.get("access-control-allow-credentials", "").lower() == "true"
        if creds and origin in ("*", PROBE_ORIGIN):
            how = "wildcard" if origin == "*" else "reflected arbitrary origin"
            res.findings.append(finding(res.target, "web.cors.wildcard-credentials",
                                        f"{path}: Access-Control-Allow-Origin {how} with "
                                        "Access-Control-Allow-Credentials: true"))
            return
