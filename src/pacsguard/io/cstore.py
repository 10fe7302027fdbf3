"""A C-STORE SCU destination: one association kept open between batches and reused while
the contexts it accepted cover what is queued (presentation contexts are proposed from
the SOP classes and transfer syntaxes of the batch)."""

from __future__ import annotations

import logging
import ssl
from typing import Any

from pynetdicom import AE, _config
from pynetdicom.association import Association

from pacsguard.io.forward import AeAddress, Delivery, Outgoing, Verdict
from pacsguard.io.netopts import NODELAY

__all__ = ["CStoreDestination", "classify_store_status"]

log = logging.getLogger("pacsguard.io.cstore")

#: Statuses worth another try later: out of resources, a busy or limited peer.
_TRANSIENT = range(0xA700, 0xA800)
_TRANSIENT_OTHER = frozenset({0x0213, 0x0210, 0x0211})
#: Warnings: the peer stored the instance (coerced, not matching, elements discarded).
_WARNINGS = frozenset({0x0001, 0x0107, 0x0116, 0xB000, 0xB006, 0xB007})

#: The most contexts one association may propose (PS3.8: 128 odd context IDs).
MAX_CONTEXTS = 128


def classify_store_status(status: int) -> Verdict:
    if status == 0x0000 or status in _WARNINGS:
        return Verdict.DELIVERED
    if status in _TRANSIENT or status in _TRANSIENT_OTHER:
        return Verdict.RETRY
    return Verdict.PERMANENT


def keep_responses(assoc: Association) -> Association:
    """Work around a race in pynetdicom 3.0: the association's reactor thread can take a
    C-STORE response off the queue between two requests (its pause flag is read stale) and
    drop it as an "unexpected service message"; the sender then waits for its DIMSE timeout.
    A response the reactor takes is put back for the waiting sender instead. Returns
    ``assoc`` (any pynetdicom sender that sends C-STOREs in a row needs it)."""
    serve = assoc._serve_request

    def serve_requests_only(msg: Any, context_id: int) -> None:
        if not msg.is_valid_request:
            assoc.dimse.msg_queue.put((context_id, msg))
            return
        serve(msg, context_id)

    assoc._serve_request = serve_requests_only  # type: ignore[method-assign]
    return assoc


class CStoreDestination:
    """Stores to a remote AE. Not thread-safe: one forwarder thread owns it."""

    def __init__(self, address: AeAddress, *, calling_aet: str,
                 tls: ssl.SSLContext | None = None, max_pdu: int = 0,
                 timeout: float = 30.0) -> None:
        self.address = address
        self.label = address.aet
        self.calling_aet = calling_aet
        self.tls = tls
        self.max_pdu = max_pdu
        self.timeout = timeout
        self._assoc: Association | None = None
        self._contexts: set[tuple[str, str]] = set()
        self._msg_id = 0
        _config.STORE_SEND_CHUNKED_DATASET = True  # stream each file from disk

    def _associate(self, wanted: set[tuple[str, str]]) -> Association | None:
        ae = AE(ae_title=self.calling_aet)
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = self.timeout
        ae.connection_timeout = min(self.timeout, 10.0)
        ae.maximum_pdu_size = self.max_pdu
        for sop_class, syntax in sorted(wanted)[:MAX_CONTEXTS]:
            ae.add_requested_context(sop_class, syntax)
        kwargs: dict[str, Any] = {"ae_title": self.address.aet, "max_pdu": self.max_pdu,
                                  "evt_handlers": [NODELAY]}
        if self.tls is not None:
            kwargs["tls_args"] = (self.tls, None)
        assoc = ae.associate(self.address.host, self.address.port, **kwargs)
        if not assoc.is_established:
            return None
        keep_responses(assoc)
        self._contexts = {(str(cx.abstract_syntax), str(cx.transfer_syntax[0]))
                          for cx in assoc.accepted_contexts}
        self._msg_id = 0
        return assoc

    def send(self, batch: list[Outgoing]) -> list[Delivery]:
        wanted = {(o.sop_class_uid, o.transfer_syntax) for o in batch}
        assoc = self._assoc
        if assoc is not None and (not assoc.is_established or not wanted <= self._contexts):
            self.close()
            assoc = None
        if assoc is None:
            try:
                assoc = self._associate(wanted)
            except (OSError, RuntimeError, ValueError) as exc:
                log.debug("association to %s failed: %s", self.label, type(exc).__name__)
                assoc = None
            if assoc is None:
                return [Delivery(Verdict.LINK, None, "association failed")] * len(batch)
            self._assoc = assoc
        out: list[Delivery] = []
        for n, item in enumerate(batch):
            if (item.sop_class_uid, item.transfer_syntax) not in self._contexts:
                out.append(Delivery(Verdict.PERMANENT, None, "the destination accepted no "
                                    "presentation context for this SOP class and transfer syntax"))
                continue
            try:
                self._msg_id = self._msg_id % 65535 + 1  # unique per association
                rsp = assoc.send_c_store(item.path, msg_id=self._msg_id)
            except (OSError, RuntimeError, ValueError, AttributeError) as exc:
                log.debug("C-STORE to %s failed: %s", self.label, type(exc).__name__)
                rsp = None
            status = getattr(rsp, "Status", None) if rsp is not None else None
            if status is None:  # no answer: aborted, timed out, link broke
                self.close()
                out.extend([Delivery(Verdict.LINK, None, "no response")] * (len(batch) - n))
                return out
            verdict = classify_store_status(int(status))
            out.append(Delivery(verdict, int(status), f"status 0x{int(status):04X}"))
        return out

    def close(self) -> None:
        assoc, self._assoc = self._assoc, None
        if assoc is not None and assoc.is_established:
            try:
                assoc.release()
            except Exception:  # a broken link: nothing left to release
                assoc.abort()
