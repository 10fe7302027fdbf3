"""Raw DICOM Upper Layer association probes (PS3.8 section 9), with hard deadlines.

The audit's detection and AE-title checks only need A-ASSOCIATE-RQ and the
answer, so they use this small encoder/decoder instead of a full DICOM stack:
it decodes every reject and abort field, tolerates garbage (a malformed PDU is
an outcome, not an exception) and never waits longer than its deadline, even
for a peer that drips one byte at a time.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pacsguard.dicom.identity import (
    PACSGUARD_IMPLEMENTATION_CLASS_UID,
    PACSGUARD_IMPLEMENTATION_VERSION_NAME,
)

APP_CONTEXT = "1.2.840.10008.3.1.1.1"
TRANSFER_SYNTAXES = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1")  # implicit, explicit VR LE
MAX_PDU_BODY = 1 << 20  # an association answer larger than this is not a real one

# PS3.8 9.3.4 (A-ASSOCIATE-RJ), table 9-21.
REJECT_RESULT = {1: "rejected-permanent", 2: "rejected-transient"}
REJECT_SOURCE = {
    1: "DICOM UL service-user",
    2: "DICOM UL service-provider (ACSE related function)",
    3: "DICOM UL service-provider (Presentation related function)",
}
REJECT_REASON = {
    1: {1: "no-reason-given", 2: "application-context-name-not-supported",
        3: "calling-AE-title-not-recognized", 7: "called-AE-title-not-recognized"},
    2: {1: "no-reason-given", 2: "protocol-version-not-supported"},
    3: {0: "reserved", 1: "temporary-congestion", 2: "local-limit-exceeded"},
}
# PS3.8 9.3.8 (A-ABORT), table 9-26.
ABORT_SOURCE = {0: "DICOM UL service-user", 1: "reserved", 2: "DICOM UL service-provider"}
ABORT_REASON = {0: "reason-not-specified", 1: "unrecognized-PDU", 2: "unexpected-PDU",
                4: "unrecognized-PDU-parameter", 5: "unexpected-PDU-parameter",
                6: "invalid-PDU-parameter-value"}
# PS3.8 9.3.3.2 presentation context results.
CONTEXT_RESULT = {0: "acceptance", 1: "user-rejection", 2: "no-reason",
                  3: "abstract-syntax-not-supported", 4: "transfer-syntaxes-not-supported"}

Wrapper = Callable[[socket.socket], socket.socket]


@dataclass
class Outcome:
    """The answer to one A-ASSOCIATE-RQ.

    ``kind`` is one of: accepted, rejected, aborted, closed (connection refused),
    unreachable, timeout, eof (peer closed without answering), malformed,
    http (the port speaks HTTP), tls-error.
    """

    kind: str
    detail: str = ""
    result: int = 0
    source: int = 0
    reason: int = 0
    impl_uid: str = ""
    impl_version: str = ""
    contexts: dict[int, int] = field(default_factory=dict)  # context id -> result

    @property
    def reject_text(self) -> str:
        src = REJECT_SOURCE.get(self.source, f"source {self.source}")
        reason = REJECT_REASON.get(self.source, {}).get(self.reason, f"reason {self.reason}")
        res = REJECT_RESULT.get(self.result, f"result {self.result}")
        return f"{res}, source: {src}, reason: {reason}"

    def accepted_ids(self) -> set[int]:
        return {cid for cid, res in self.contexts.items() if res == 0}


def _ae(title: str) -> bytes:
    raw = title.encode("ascii", "replace")[:16]
    return raw.ljust(16, b" ")


def _item(kind: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", kind, 0, len(payload)) + payload


def _uid(uid: str) -> bytes:
    return uid.encode("ascii")


def build_associate_rq(called: str, calling: str, abstract_syntaxes: Sequence[str]) -> bytes:
    """Encode an A-ASSOCIATE-RQ; each abstract syntax is its own context (ids 1, 3, ...)."""
    body = struct.pack(">HH", 1, 0) + _ae(called) + _ae(calling) + bytes(32)
    body += _item(0x10, _uid(APP_CONTEXT))
    for n, abstract in enumerate(abstract_syntaxes):
        sub = _item(0x30, _uid(abstract))
        sub += b"".join(_item(0x40, _uid(ts)) for ts in TRANSFER_SYNTAXES)
        body += _item(0x20, struct.pack(">BBBB", 2 * n + 1, 0, 0, 0) + sub)
    user = _item(0x51, struct.pack(">I", 16384))
    user += _item(0x52, _uid(PACSGUARD_IMPLEMENTATION_CLASS_UID))
    user += _item(0x55, PACSGUARD_IMPLEMENTATION_VERSION_NAME.encode("ascii"))
    body += _item(0x50, user)
    return struct.pack(">BBI", 0x01, 0, len(body)) + body


RELEASE_RQ = struct.pack(">BBIxxxx", 0x05, 0, 4)


def _recv_exact(sock: socket.socket, size: int, deadline: float) -> bytes:
    buf = b""
    while len(buf) < size:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)
        chunk = sock.recv(min(size - len(buf), 65536))
        if not chunk:
            raise EOFError(len(buf))
        buf += chunk
    return buf


def read_pdu(sock: socket.socket, deadline: float) -> tuple[int, bytes]:
    """Read one PDU: (type, body). Raises TimeoutError, EOFError or ValueError (malformed)."""
    head = _recv_exact(sock, 6, deadline)
    kind, _, length = struct.unpack(">BBI", head)
    if kind not in (1, 2, 3, 4, 5, 6, 7):
        raise ValueError(head)
    if length > MAX_PDU_BODY:
        raise ValueError(f"PDU length {length}")
    return kind, _recv_exact(sock, length, deadline)


def _sub_items(data: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos + 4 <= len(data):
        kind, _, length = struct.unpack_from(">BBH", data, pos)
        if pos + 4 + length > len(data):
            raise ValueError("item overruns PDU")
        out.append((kind, data[pos + 4: pos + 4 + length]))
        pos += 4 + length
    if pos != len(data):
        raise ValueError("trailing bytes")
    return out


def parse_accept(body: bytes, outcome: Outcome) -> None:
    """Fill contexts and the peer's implementation identity from an A-ASSOCIATE-AC body."""
    if len(body) < 68:
        raise ValueError("short A-ASSOCIATE-AC")
    for kind, data in _sub_items(body[68:]):
        if kind == 0x21 and len(data) >= 4:
            outcome.contexts[data[0]] = data[2]
        elif kind == 0x50:
            for sub, value in _sub_items(data):
                text = value.decode("ascii", "replace").strip(" \x00")
                if sub == 0x52:
                    outcome.impl_uid = text
                elif sub == 0x55:
                    outcome.impl_version = text


def _connect(host: str, port: int, timeout: float) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def associate(
    host: str,
    port: int,
    called: str,
    calling: str,
    abstract_syntaxes: Sequence[str],
    timeout: float,
    wrap: Wrapper | None = None,
) -> Outcome:
    """Send one A-ASSOCIATE-RQ and decode the answer; release if accepted. Never raises on I/O."""
    try:
        sock = _connect(host, port, timeout)
    except ConnectionRefusedError:
        return Outcome("closed", "connection refused")
    except TimeoutError:
        return Outcome("timeout", f"no TCP answer within {timeout:g} s")
    except OSError as exc:
        return Outcome("unreachable", exc.strerror or type(exc).__name__)
    try:
        if wrap is not None:
            sock = wrap(sock)
        return _exchange(sock, called, calling, abstract_syntaxes, timeout)
    except TimeoutError:
        return Outcome("timeout", f"no complete answer within {timeout:g} s")
    except OSError as exc:
        kind = "tls-error" if wrap is not None else "eof"
        return Outcome(kind, str(exc) or type(exc).__name__)
    finally:
        sock.close()


def _exchange(sock: socket.socket, called: str, calling: str,
              abstract_syntaxes: Sequence[str], timeout: float) -> Outcome:
    deadline = time.monotonic() + timeout
    sock.settimeout(timeout)
    sock.sendall(build_associate_rq(called, calling, abstract_syntaxes))
    try:
        kind, body = read_pdu(sock, deadline)
    except EOFError as exc:
        got = exc.args[0] if exc.args else 0
        return Outcome("eof", "peer closed the connection without answering"
                       + (f" (after {got} bytes)" if got else ""))
    except ValueError as exc:
        head = exc.args[0] if exc.args and isinstance(exc.args[0], bytes) else b""
        if head.startswith(b"HTTP/"):
            return Outcome("http", "the port answered with HTTP")
        return Outcome("malformed", "answer is not a valid DICOM UL PDU")
    if kind == 0x02:
        out = Outcome("accepted")
        try:
            parse_accept(body, out)
        except (ValueError, struct.error):
            return Outcome("malformed", "A-ASSOCIATE-AC could not be decoded")
        _release(sock, deadline)
        return out
    if kind == 0x03 and len(body) >= 4:
        return Outcome("rejected", result=body[1], source=body[2], reason=body[3])
    if kind == 0x07 and len(body) >= 4:
        src = ABORT_SOURCE.get(body[2], f"source {body[2]}")
        reason = ABORT_REASON.get(body[3], f"reason {body[3]}")
        return Outcome("aborted", f"A-ABORT, source: {src}, reason: {reason}",
                       source=body[2], reason=body[3])
    return Outcome("malformed", f"unexpected PDU type 0x{kind:02x} in answer to A-ASSOCIATE-RQ")


def _release(sock: socket.socket, deadline: float) -> None:
    """Polite A-RELEASE; a peer that does not answer is simply dropped."""
    try:
        sock.sendall(RELEASE_RQ)
        read_pdu(sock, min(deadline, time.monotonic() + 2.0))
    except (OSError, EOFError, ValueError, TimeoutError):
        pass
