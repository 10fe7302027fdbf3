"""The receiving side: a C-STORE SCP for every storage SOP class (plus C-ECHO), with the
calling AE title and host checked against ``--allow`` and the called AE title against our own.

Datasets are received in chunks straight to a file in the spool (pynetdicom's
``STORE_RECV_CHUNKED_DATASET``), so memory stays flat whatever the size. Success is answered
only once that file and its folder are fsync'd; a full spool answers 0xA700.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import ssl
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pynetdicom import _config, dimse_messages, evt
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from pacsguard.errors import UsageError
from pacsguard.gateway.spool import Spool
from pacsguard.io.netopts import NODELAY
from pacsguard.io.retrieve import storage_scp_ae

__all__ = ["AllowRule", "Receiver", "parse_allow"]

log = logging.getLogger("pacsguard.gateway")

OUT_OF_RESOURCES = 0xA700
CANNOT_UNDERSTAND = 0xC000
NOT_AUTHORIZED = 0x0124


@dataclass(frozen=True)
class AllowRule:
    aet: str
    host: str | None = None

    def matches(self, aet: str, host: str) -> bool:
        return aet == self.aet and (self.host is None or self.host == host)


def parse_allow(text: str) -> AllowRule:
    aet, _, host = text.partition("@")
    if not aet or len(aet) > 16 or "\\" in aet:
        raise UsageError(f"--allow {text!r}: expected AET or AET@HOST")
    return AllowRule(aet, host or None)


class Receiver:
    """Wraps a pynetdicom AE serving in its own threads (one per association)."""

    def __init__(self, ae_title: str, spool: Spool, *, allow: list[AllowRule],
                 spool_max: int, on_received: Callable[[str, str], None],
                 ssl_context: ssl.SSLContext | None = None, max_pdu: int = 262144) -> None:
        self.spool = spool
        self.allow = allow
        self.spool_max = spool_max
        self.on_received = on_received
        self.ssl_context = ssl_context
        self.received = 0
        self.refused_full = 0
        self.rejected_associations = 0
        _config.STORE_RECV_CHUNKED_DATASET = True
        # pynetdicom writes each incoming dataset to a temporary file: in the spool, so that
        # making it durable is an fsync and a rename (same file system); and through a file
        # that remembers a failed write (a full disk) instead of raising in pynetdicom's
        # reactor thread, which would kill the association without an answer.
        incoming = spool.incoming

        def temp_file(**_: Any) -> SpoolTempFile:
            return SpoolTempFile(incoming)

        dimse_messages.NamedTemporaryFile = temp_file  # type: ignore[attr-defined,assignment]
        ae = storage_scp_ae(ae_title, max_pdu=max_pdu, every_class=True)
        ae.require_called_aet = True
        ae.maximum_associations = 64
        ae.add_supported_context(Verification)
        self.ae = ae
        self.server: Any = None

    def start(self, host: str, port: int) -> None:
        handlers: list[Any] = [(evt.EVT_C_STORE, self._on_store), (evt.EVT_C_ECHO, lambda e: 0x0000),
                    (evt.EVT_REQUESTED, self._on_requested),
                    (evt.EVT_ABORTED, self._on_closed), (evt.EVT_CONN_CLOSE, self._on_closed),
                    NODELAY]
        self.server = self.ae.start_server((host, port), block=False, evt_handlers=handlers,
                                           ssl_context=self.ssl_context)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    def stop_listening(self) -> None:
        """Stop accepting new associations; those in flight go on."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def active(self) -> int:
        # only established ones: a bare connection (a port probe) has nothing to finish
        return len([a for a in self.ae.active_associations if a.is_acceptor and a.is_established])

    def close(self) -> None:
        self.ae.shutdown()

    # -- handlers (pynetdicom isolates their exceptions: a failure answers an error) ---
    def _on_requested(self, event: Any) -> None:
        rq = event.assoc.requestor.primitive
        calling = str(rq.calling_ae_title).strip()
        host = str(event.assoc.requestor.address)
        if self.allow and not any(r.matches(calling, host) for r in self.allow):
            self.rejected_associations += 1
            log.warning("rejected an association from %s at %s (not in --allow)", calling, host)
            event.assoc.acse.send_reject(0x01, 0x01, 0x03)  # calling AE title not recognised
            event.assoc.kill()

    def _on_store(self, event: Any) -> int:
        try:
            return self._store(event)
        except Exception as exc:  # a bug: answer a failure, drop the partial file, go on
            log.error("could not take a received instance (%s)", type(exc).__name__)
            path = getattr(event.request, "_dataset_path", None)
            if isinstance(path, Path):
                path.unlink(missing_ok=True)
            return CANNOT_UNDERSTAND

    def _store(self, event: Any) -> int:
        temp = Path(event.dataset_path)
        failed = getattr(event.request._dataset_file, "failed", None)
        if failed is not None:
            temp.unlink(missing_ok=True)
            self.refused_full += 1
            log.warning("could not write a received instance to the spool (%s): answered Out "
                        "of Resources", errno.errorcode.get(failed, failed))
            return OUT_OF_RESOURCES
        if self.spool.bytes >= self.spool_max > 0:
            temp.unlink(missing_ok=True)
            self.refused_full += 1
            log.warning("spool over --spool-max: answered Out of Resources")
            return OUT_OF_RESOURCES
        try:
            key = self.spool.ingest(temp)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                self.refused_full += 1
                log.warning("spool disk full: answered Out of Resources")
                return OUT_OF_RESOURCES
            log.error("could not store a received instance (%s)", type(exc).__name__)
            return CANNOT_UNDERSTAND
        self.received += 1
        self.on_received(key, str(event.assoc.requestor.ae_title).strip())
        return 0x0000

    def _on_closed(self, event: Any) -> None:
        """A sender that aborts mid-instance leaves a partial temporary file: dropped (it was
        never acknowledged)."""
        msg = getattr(getattr(event.assoc, "dimse", None), "message", None)
        fh = getattr(msg, "_data_set_file", None)
        path = getattr(msg, "_data_set_path", None)
        if fh is not None:
            with contextlib.suppress(OSError):
                fh.close()
        if isinstance(path, Path) and path.parent == self.spool.incoming:
            path.unlink(missing_ok=True)


class SpoolTempFile:
    """What pynetdicom writes a received dataset into: a file in the spool's incoming
    folder whose write errors are kept (``failed``: the errno) rather than raised."""

    def __init__(self, folder: Path) -> None:
        fd, name = tempfile.mkstemp(suffix=".dcm", dir=folder)
        self.name = name
        self._fh = os.fdopen(fd, "wb")
        self.failed: int | None = None

    @property
    def file(self) -> SpoolTempFile:  # pynetdicom calls ``.file.flush()``
        return self

    def write(self, data: bytes) -> int:
        if self.failed is None:
            try:
                self._fh.write(data)
            except OSError as exc:
                self.failed = exc.errno or errno.EIO
        return len(data)

    def flush(self) -> None:
        if self.failed is None:
            try:
                self._fh.flush()
            except OSError as exc:
                self.failed = exc.errno or errno.EIO

    def close(self) -> None:
        try:
            self._fh.close()
        except OSError as exc:
            self.failed = self.failed or exc.errno or errno.EIO


def server_tls(cert: Path, key: Path, ca: Path | None, require_client_cert: bool) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    if ca is not None:
        ctx.load_verify_locations(ca)
        ctx.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    elif require_client_cert:
        raise UsageError("--require-client-cert needs --tls-ca")
    return ctx
