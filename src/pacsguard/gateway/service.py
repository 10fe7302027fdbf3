"""The gateway service: receive -> spool -> de-identify in worker processes -> forward.

Lifecycle: :meth:`Gateway.start` recovers the spool (every instance resumes from its state
on disk), starts the forwarders, the worker pool and the listener; :meth:`Gateway.stop`
(SIGTERM) stops accepting, waits for the associations in flight, lets the workers finish
and the forwarders end their batch. What is not forwarded stays in the spool for the next
start.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pacsguard.batch.worker import WorkerConfig
from pacsguard.gateway.forwarder import Backoff, Forwarder
from pacsguard.gateway.scp import AllowRule, Receiver
from pacsguard.gateway.spool import Spool
from pacsguard.gateway.status import StatusServer
from pacsguard.gateway.workers import DeidPool, Settled
from pacsguard.io.forward import destination_slug, parse_destination
from pacsguard.outcome import Outcome

__all__ = ["Gateway", "GatewayConfig"]

log = logging.getLogger("pacsguard.gateway")


@dataclass
class GatewayConfig:
    listen: tuple[str, int]
    ae_title: str
    spool: Path
    forward: list[str]
    worker: WorkerConfig
    allow: list[AllowRule] = field(default_factory=list)
    spool_max: int = 0  #: bytes; 0: no quota
    status: tuple[str, int] | None = None
    workers: int = 0
    server_tls: ssl.SSLContext | None = None
    forward_tls: ssl.SSLContext | None = None
    backoff: Backoff = field(default_factory=Backoff)
    study_quiet: float = 0.0
    max_pdu: int = 262144
    drain_timeout: float = 30.0  #: how long SIGTERM waits for associations and workers
    file_timeout: float = 120.0  #: seconds one instance may take before it is quarantined


class Gateway:
    def __init__(self, cfg: GatewayConfig) -> None:
        self.cfg = cfg
        slugs = [destination_slug(f) for f in cfg.forward]
        self.spool = Spool(cfg.spool.absolute(), slugs)
        self.forwarders = [
            Forwarder(slug, parse_destination(spec, calling_aet=cfg.ae_title, tls=cfg.forward_tls),
                      self.spool, backoff=cfg.backoff, study_quiet=cfg.study_quiet)
            for slug, spec in zip(slugs, cfg.forward, strict=True)]
        self.deidentified = 0
        self.ingested = 0
        self.quarantined = 0
        self._lock = threading.Lock()
        self.pool: DeidPool | None = None
        self.receiver: Receiver | None = None
        self.status: StatusServer | None = None
        self.stopped = threading.Event()

    def start(self, *, listen: bool = True) -> None:
        """Recover the spool and start working; ``listen=False``: no DICOM listener (pull
        feeds :meth:`ingest` itself)."""
        cfg = self.cfg
        self.spool.create()
        todo = self.spool.recover()
        self.pool = DeidPool(cfg.worker, self.spool, cfg.workers, self._settled,
                             file_timeout=cfg.file_timeout)
        for f in self.forwarders:
            f.start()
        for key in todo:
            self.pool.submit(key)
        if todo:
            log.info("resuming: %d received instance(s) to de-identify", len(todo))
        if not listen:
            return
        self.receiver = Receiver(cfg.ae_title, self.spool, allow=cfg.allow,
                                 spool_max=cfg.spool_max, on_received=self._received,
                                 ssl_context=cfg.server_tls, max_pdu=cfg.max_pdu)
        self.receiver.start(*cfg.listen)
        if cfg.status is not None:
            self.status = StatusServer(*cfg.status, snapshot=self.snapshot, healthy=self.healthy)
            self.status.start()
        host, port = self.receiver.address
        log.info("listening as %s on %s:%d, forwarding to %d destination(s)", cfg.ae_title,
                 host, port, len(self.forwarders))

    def ingest(self, temp: Path) -> None:
        """Take a file already in the spool's incoming folder (it is moved)."""
        assert self.pool is not None
        self.pool.submit(self.spool.ingest(temp))
        self.ingested += 1

    def _received(self, key: str, calling_aet: str) -> None:
        assert self.pool is not None
        self.pool.submit(key)

    def _settled(self, s: Settled) -> None:
        with self._lock:
            if s.outcome is Outcome.WRITTEN:
                self.deidentified += 1
                self.spool.add_bytes(s.size)
            elif s.outcome is not Outcome.FAILED:
                self.quarantined += 1
        if s.outcome is Outcome.WRITTEN:
            log.info("de-identified %s", s.sop_instance_uid)
            for f in self.forwarders:
                f.wake.set()
        elif s.outcome is not Outcome.FAILED:
            log.warning("quarantined an instance (%s)", s.reason)

    def healthy(self) -> bool:
        return (self.receiver is not None and not self.stopped.is_set()
                and self.receiver.server is not None)

    def snapshot(self) -> dict[str, Any]:
        counts = self.spool.counts()
        dests = {}
        for f, spec in zip(self.forwarders, self.cfg.forward, strict=True):
            dests[f.dest.label] = {
                "forwarded": f.stats.forwarded, "dead_lettered": f.stats.dead_lettered,
                "queued": counts["queued"].get(f.slug, 0), "retries": f.stats.retries,
                "up": f.stats.up, "kind": _kind(spec)}
        r = self.receiver
        return {
            "received": (r.received if r else 0) + self.ingested,
            "refused_full": r.refused_full if r else 0,
            "deidentified": self.deidentified,
            "quarantined": self.quarantined,
            "awaiting_deid": max(0, counts["awaiting_deid"]),
            "destinations": dests,
            "oldest_queued_seconds": counts["oldest_queued_seconds"],
            "spool_bytes": counts["spool_bytes"],
        }

    def stop(self) -> None:
        """Graceful: stop accepting, finish associations in flight, flush."""
        if self.stopped.is_set():
            return
        self.stopped.set()
        deadline = time.monotonic() + self.cfg.drain_timeout
        if self.receiver is not None:
            self.receiver.stop_listening()
            while self.receiver.active() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.receiver.close()
        if self.pool is not None:
            self.pool.drain(max(0.1, deadline - time.monotonic()))
            self.pool.shutdown()
        for f in self.forwarders:
            f.flush(deadline)
        for f in self.forwarders:
            f.join(max(0.1, deadline - time.monotonic()))
        if self.status is not None:
            self.status.stop()
        log.info("stopped; %d instance(s) still queued in the spool",
                 sum(len(self.spool.pending(f.slug)) for f in self.forwarders))


def _kind(spec: str) -> str:
    if spec.startswith(("http://", "https://")):
        return "stow-rs"
    return "folder" if "@" not in spec else "c-store"
