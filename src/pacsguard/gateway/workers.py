"""De-identification in worker processes: receiving never waits for OCR.

Each worker builds the same :class:`~pacsguard.pipeline.Deidentifier` as ``pacsguard deid``
(same policy and key: same bytes, names and UIDs) and settles one spool ID at a time: the
copy is queued for every destination, or the original goes to quarantine with its reason.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from pacsguard.batch.executor import QUEUED_PER_WORKER, StartClock
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
    if result.written and result.payload is not None:
        spool.commit_deid(key, result.payload, Committed(
            name=result.name, sop_instance_uid=result.sop_instance_uid,
            sop_class_uid=result.sop_class_uid, transfer_syntax=result.transfer_syntax,
            study_uid=result.name.split("/")[1], arrived=int(key.split("-")[0]) / 1e9))
        return Settled(key, Outcome.WRITTEN, "", result.sop_instance_uid, result.payload.size)
    spool.quarantine_original(key, result.reason or str(result.outcome), result.detail)
    return Settled(key, result.outcome, result.reason)


class DeidPool:
    """A process pool fed with spool IDs, two instances queued per worker (a worker never
    waits for this process, busy receiving, to hand it the next); ``on_settled`` is called
    once per ID. An instance's deadline counts from when it can have started
    (:class:`~pacsguard.batch.executor.StartClock`).

    An instance past ``file_timeout`` seconds is quarantined (``timeout``) and the pool is
    replaced (the others in flight are redone). A worker that dies breaks the pool: the IDs
    in flight are redone in a new one, and one that breaks a pool twice is quarantined
    (``worker-crash``). The original stays in the spool until then, whatever happens.
    """

    def __init__(self, cfg: WorkerConfig, spool: Spool, workers: int,
                 on_settled: Callable[[Settled], None], *, file_timeout: float = 120.0) -> None:
        self.cfg, self.spool = cfg, spool
        self.n = workers if workers > 0 else (os.cpu_count() or 1)
        self.on_settled = on_settled
        self.file_timeout = file_timeout
        self.retry_after = 5.0  #: seconds before an instance the spool could not record is redone
        # Re-entrant: a future's callback runs in the submitting thread when it is already done
        # (or cancelled by a pool replacement) while the lock is held.
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._backlog: deque[str] = deque()
        self._queued: set[str] = set()
        self.inflight: dict[str, tuple[Future[Settled], float, int]] = {}
        self._clock: StartClock[str] = StartClock(self.n)
        self._crashes: dict[str, int] = {}
        self._generation = 0
        self._pool = self._new_pool()
        self._closed = threading.Event()
        self._monitor = threading.Thread(target=self._watch, name="deid-watchdog", daemon=True)
        self._monitor.start()

    def _new_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(max_workers=self.n, initializer=_init,
                                   initargs=(self.cfg, self.spool.root, self.spool.destinations))
        # Start every worker now, from this thread, rather than lazily from a receiving one.
        for f in [pool.submit(_ready) for _ in range(self.n)]:
            f.result(timeout=120)
        return pool

    def submit(self, key: str) -> None:
        with self._lock:
            if key in self.inflight or key in self._queued:
                return
            self._queued.add(key)
            self._backlog.append(key)
            self._fill()

    def _fill(self) -> None:
        """Called with the lock held."""
        while (self._backlog and len(self.inflight) < QUEUED_PER_WORKER * self.n
               and not self._closed.is_set()):
            key = self._backlog.popleft()
            self._queued.discard(key)
            try:
                fut = self._pool.submit(settle, key)
            except BrokenProcessPool:  # broken between two instances
                self._replace_pool()
                fut = self._pool.submit(settle, key)
            self.inflight[key] = (fut, time.monotonic(), self._generation)
            fut.add_done_callback(functools.partial(self._done, key, self._generation))

    def _replace_pool(self) -> None:
        """Called with the lock held: kill the workers (a stuck one too) and start anew."""
        procs = list(getattr(self._pool, "_processes", {}).values())  # no public API for this
        self._generation += 1  # first: callbacks of the old pool's futures see they are stale
        for proc in procs:
            proc.kill()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()

    def _done(self, key: str, generation: int, fut: Future[Settled]) -> None:
        settled: Settled | None = None
        with self._lock:
            current = self.inflight.get(key)
            if current is None or current[0] is not fut:
                return  # already settled by the watchdog, or redone in a newer pool
            del self.inflight[key]
            self._clock.forget(key)
            try:
                settled = fut.result()
            except (BrokenProcessPool, CancelledError):
                # A worker died (OOM killer, a crash): everything in flight is redone in a
                # new pool; an instance that breaks a pool twice is quarantined.
                if generation == self._generation:
                    log.warning("a de-identification worker died; redoing its instances")
                    self._replace_pool()
                n = self._crashes.get(key, 0) + 1
                self._crashes[key] = n
                if n < 2:
                    self._backlog.appendleft(key)
                    self._queued.add(key)
                else:
                    settled = self._quarantine(key, "worker-crash",
                                               "the worker process died on this file")
            except Exception as exc:  # an error of the spool itself (disk full): retried later
                log.error("de-identification could not be recorded (%s); retrying in %g s",
                          type(exc).__name__, self.retry_after)
                settled = Settled(key, Outcome.FAILED, "spool-error")
                timer = threading.Timer(self.retry_after, self.submit, (key,))
                timer.daemon = True
                timer.start()
            self._fill()
            self._idle.notify_all()
        if settled is not None:
            self.on_settled(settled)

    def _quarantine(self, key: str, reason: str, detail: str) -> Settled:
        try:
            self.spool.quarantine_original(key, reason, detail)
        except OSError:
            return Settled(key, Outcome.FAILED, "spool-error")
        return Settled(key, Outcome.QUARANTINED, reason)

    def _watch(self) -> None:
        while not self._closed.wait(0.5):
            if self.file_timeout <= 0:
                continue
            late: list[Settled] = []
            with self._lock:
                now = time.monotonic()
                stuck = [k for k, t in self._clock.running(self.inflight).items()
                         if k in self.inflight and now - t > self.file_timeout]
                if not stuck:
                    continue
                for key in stuck:
                    del self.inflight[key]
                    late.append(self._quarantine(key, "timeout", f"took longer than "
                                                 f"{self.file_timeout:g} s; its worker was "
                                                 "replaced"))
                redo = list(self.inflight)
                self.inflight.clear()
                self._clock.clear()
                self._replace_pool()
                for key in reversed(redo):
                    self._backlog.appendleft(key)
                    self._queued.add(key)
                self._fill()
                self._idle.notify_all()
            for s in late:
                log.warning("quarantined an instance that took longer than %g s",
                            self.file_timeout)
                self.on_settled(s)

    def drain(self, timeout: float) -> bool:
        """Wait until nothing is in flight or queued; False on timeout."""
        with self._lock:
            return self._idle.wait_for(lambda: not self.inflight and not self._backlog, timeout)

    def shutdown(self) -> None:
        self._closed.set()
        with self._lock:
            self._backlog.clear()
            self._queued.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)
