"""De-identification in worker processes: receiving never waits for OCR.

Each worker builds the same :class:`~pacsguard.pipeline.Deidentifier` as ``pacsguard deid``
(same policy and key: same bytes, names and UIDs) and settles one spool ID at a time: the
copy is queued for every destination, or the original goes to quarantine with its reason.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread

from pacsguard.batch.worker import WorkerConfig
from pacsguard.gateway.spool import Committed, Spool
from pacsguard.outcome import Outcome
from pacsguard.pipeline import Deidentifier

__all__ = ["DeidPool", "Settled"]

log = logging.getLogger("pacsguard.gateway")


@dataclass(frozen=True)
class Settled:
    key: str
    outcome: Outcome
    reason: str = ""
    sop_instance_uid: str = ""  #: de-identified
    size: int = 0  #: bytes of the copy added to the spool


_PIPE: Deidentifier | None = None
_SPOOL: Spool | None = None


def _init(cfg: WorkerConfig, root: Path, destinations: list[str]) -> None:
    global _PIPE, _SPOOL
    _die_with_parent()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the service decides when to stop
    _PIPE = Deidentifier(cfg.policy, cfg.key)
    _SPOOL = Spool(root, destinations)


def _die_with_parent() -> None:
    """A worker must not outlive a SIGKILLed gateway (it would hold the spool): it watches
    its parent. (PR_SET_PDEATHSIG would fire when the *thread* that forked it ends.)"""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _ready() -> int:
    return os.getpid()


def settle(key: str) -> Settled:
    """De-identify one received original and record the outcome in the spool."""
    assert _PIPE is not None and _SPOOL is not None, "_init was not called"
    spool = _SPOOL
    result = _PIPE.process(spool.original(key), key)
    if result.written and result.data is not None:
        meta = dcmread(io.BytesIO(result.data), stop_before_pixels=True,
                       specific_tags=["SOPClassUID"]).file_meta
        spool.commit_deid(key, result.data, Committed(
            name=result.name, sop_instance_uid=result.sop_instance_uid,
            sop_class_uid=str(meta.get("MediaStorageSOPClassUID", "")),
            transfer_syntax=str(meta.get("TransferSyntaxUID", "")),
            study_uid=result.name.split("/")[1], arrived=int(key.split("-")[0]) / 1e9))
        return Settled(key, Outcome.WRITTEN, "", result.sop_instance_uid, len(result.data))
    spool.quarantine_original(key, result.reason or str(result.outcome), result.detail)
    return Settled(key, result.outcome, result.reason)


class DeidPool:
    """A process pool fed with spool IDs; ``on_settled`` is called in a pool thread."""

    def __init__(self, cfg: WorkerConfig, spool: Spool, workers: int,
                 on_settled: Callable[[Settled], None]) -> None:
        self.cfg, self.spool = cfg, spool
        self.n = workers if workers > 0 else (os.cpu_count() or 1)
        self.on_settled = on_settled
        self._lock = threading.Lock()
        self._pool = self._new_pool()
        self.inflight: set[str] = set()
        self._idle = threading.Condition(self._lock)
        self._crashes: dict[str, int] = {}
        self.retry_after = 5.0  #: seconds before an instance the spool could not record is redone

    def _new_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(max_workers=self.n, initializer=_init,
                                   initargs=(self.cfg, self.spool.root, self.spool.destinations))
        # Start every worker now, from this thread, rather than lazily from a receiving one.
        for f in [pool.submit(_ready) for _ in range(self.n)]:
            f.result(timeout=120)
        return pool

    def submit(self, key: str) -> None:
        with self._lock:
            if key in self.inflight:
                return
            self.inflight.add(key)
            try:
                fut = self._pool.submit(settle, key)
            except BrokenProcessPool:  # broken between two instances: a new pool
                self._pool.shutdown(wait=False)
                self._pool = self._new_pool()
                fut = self._pool.submit(settle, key)
        fut.add_done_callback(functools.partial(self._done, key))

    def _done(self, key: str, fut: Future[Settled]) -> None:
        try:
            settled = fut.result()
        except BrokenProcessPool:
            # A worker died (OOM killer, a crash): the original is still in the spool; it is
            # retried in a new pool, and quarantined if it breaks that one alone too.
            with self._lock:
                self.inflight.discard(key)
                self._pool.shutdown(wait=False)
                self._pool = self._new_pool()
            log.warning("a de-identification worker died; retrying its instance")
            self._retry_or_quarantine(key)
            return
        except Exception as exc:  # an error of the spool itself (disk full): retried later
            log.error("de-identification could not be recorded (%s); retrying in %g s",
                      type(exc).__name__, self.retry_after)
            settled = Settled(key, Outcome.FAILED, "spool-error")
            timer = threading.Timer(self.retry_after, self.submit, (key,))
            timer.daemon = True
            timer.start()
        with self._lock:
            self.inflight.discard(key)
            self._idle.notify_all()
        self.on_settled(settled)

    def _retry_or_quarantine(self, key: str) -> None:
        n = self._crashes.get(key, 0) + 1
        self._crashes[key] = n
        if n >= 2:
            self.spool.quarantine_original(key, "worker-crash", "the worker process died on this file")
            self.on_settled(Settled(key, Outcome.QUARANTINED, "worker-crash"))
            with self._lock:
                self._idle.notify_all()
            return
        self.submit(key)

    def drain(self, timeout: float) -> bool:
        """Wait until nothing is in flight; False on timeout."""
        with self._lock:
            return self._idle.wait_for(lambda: not self.inflight, timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
