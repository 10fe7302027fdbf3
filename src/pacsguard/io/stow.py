"""A DICOMweb STOW-RS destination: batches POSTed as one multipart/related request each."""

from __future__ import annotations

import json
import logging
import secrets
import ssl
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from pacsguard.io.forward import Delivery, Outgoing, Verdict

__all__ = ["StowDestination"]

log = logging.getLogger("pacsguard.io.stow")

#: The largest request body, so that a batch of big instances is split.
MAX_BODY = 64 << 20


class StowDestination:
    """POST ``{base}/studies``; the response's Referenced SOP Sequence (0008,1199) says
    which instances were stored, the Failed SOP Sequence (0008,1198) which were not."""

    def __init__(self, base: str, *, tls: ssl.SSLContext | None = None,
                 timeout: float = 60.0) -> None:
        self.base = base.rstrip("/")
        parts = urlsplit(self.base)  # a label for logs and metrics: never credentials or a
        port = f":{parts.port}" if parts.port else ""  # query string (tokens) in it
        self.label = f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"
        self.tls = tls
        self.timeout = timeout

    def send(self, batch: list[Outgoing]) -> list[Delivery]:
        out: list[Delivery] = []
        chunk: list[Outgoing] = []
        size = 0
        for item in batch:
            n = item.path.stat().st_size
            if chunk and size + n > MAX_BODY:
                out.extend(self._post(chunk))
                chunk, size = [], 0
            chunk.append(item)
            size += n
        if chunk:
            out.extend(self._post(chunk))
        return out

    def close(self) -> None:
        pass  # one request per batch: nothing held open

    def _post(self, batch: list[Outgoing]) -> list[Delivery]:
        boundary = f"pacsguard-{secrets.token_hex(12)}"
        parts: list[bytes] = []
        for item in batch:
            parts += [f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode(),
                      item.path.read_bytes(), b"\r\n"]
        parts.append(f"--{boundary}--\r\n".encode())
        req = urllib.request.Request(
            f"{self.base}/studies", data=b"".join(parts), method="POST", headers={
                "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
                "Accept": "application/dicom+json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.tls) as rsp:
                code, body = rsp.status, rsp.read()
        except urllib.error.HTTPError as exc:
            code, body = exc.code, exc.read()
        except (OSError, ValueError) as exc:
            log.debug("STOW-RS to %s failed: %s", self.label, type(exc).__name__)
            return [Delivery(Verdict.LINK, None, "no response")] * len(batch)
        stored, failed = _references(body)
        out = []
        for item in batch:
            if item.sop_instance_uid in stored:
                out.append(Delivery(Verdict.DELIVERED, code))
            elif item.sop_instance_uid in failed:
                reason = failed[item.sop_instance_uid]
                out.append(Delivery(Verdict.RETRY if 0xA700 <= reason < 0xA800 else
                                    Verdict.PERMANENT, reason, f"failure reason 0x{reason:04X}"))
            elif code in (200, 202) and not stored and not failed:
                out.append(Delivery(Verdict.DELIVERED, code))  # a server that lists nothing
            elif code >= 500 or code in (408, 429):
                out.append(Delivery(Verdict.RETRY, code, f"HTTP {code}"))
            else:
                out.append(Delivery(Verdict.PERMANENT, code, f"HTTP {code}"))
        return out


def _references(body: bytes) -> tuple[set[str], dict[str, int]]:
    try:
        data: Any = json.loads(body or b"{}")
    except ValueError:
        return set(), {}
    if isinstance(data, list):
        data = data[0] if data else {}
    stored: set[str] = set()
    failed: dict[str, int] = {}
    for item in (data.get("00081199") or {}).get("Value", []):
        uid = (item.get("00081155") or {}).get("Value", [""])[0]
        stored.add(str(uid))
    for item in (data.get("00081198") or {}).get("Value", []):
        uid = (item.get("00081155") or {}).get("Value", [""])[0]
        reason = (item.get("00081197") or {}).get("Value", [0xC000])[0]
        failed[str(uid)] = int(reason)
    return stored, failed
