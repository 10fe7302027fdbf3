"""Executors: run the worker on every handle, and hand each answer back to the coordinator.

``local`` is a process pool on this machine, each file under a deadline (the watchdog). The
coordinator (:mod:`pacsguard.batch.runner`) alone records outcomes; an executor only
schedules.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from itertools import islice
from typing import Generic, Protocol, TypeVar

from pacsguard.batch.worker import FileWorker, Processed, WorkerConfig, init_worker, run_one
from pacsguard.io.sinks import Sink
from pacsguard.io.sources import Source
from pacsguard.outcome import Outcome
from pacsguard.pipeline import InstanceResult

__all__ = ["QUEUED_PER_WORKER", "Executor", "LocalExecutor", "StartClock"]

Record = Callable[[Processed], None]
#: files in flight per worker: one running, one waiting its turn (a worker never waits for
#: its coordinator to hand it the next)
QUEUED_PER_WORKER = 2
K = TypeVar("K", bound=Hashable)


class StartClock(Generic[K]):
    """When each task of a process pool may have started. The pool runs tasks in submission
    order, ``workers`` at a time, so a task's clock starts when it is among the oldest
    ``workers`` still in flight; a deadline counts from there, not from its submission."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._started: dict[K, float] = {}

    def running(self, inflight: Iterable[K]) -> dict[K, float]:
        """The tasks that may be running, of ``inflight`` (oldest first), with their start."""
        now = time.monotonic()
        for key in list(islice(inflight, self.workers)):
            self._started.setdefault(key, now)
        return dict(self._started)

    def forget(self, key: K) -> None:
        self._started.pop(key, None)

    def clear(self) -> None:
        self._started.clear()


class Executor(Protocol):
    def run(self, handles: Iterator[str], record: Record) -> None:
        """Process every handle; call ``record`` once per handle, in the calling thread."""
        ...


class LocalExecutor:
    """Worker processes on this machine, two files queued per worker (a worker never waits
    for the coordinator to hand it the next one).

    A file's deadline counts from when it can have started (:class:`StartClock`). A file
    past its deadline is quarantined (``timeout``); the pool is killed and rebuilt and the
    other files in flight are resubmitted (recorded once, when they finish). A worker that
    dies (a crash, the OOM killer) breaks the pool: the files it may have held are retried one
    at a time, and one that breaks a pool alone is quarantined (``worker-crash``). With one
    worker and no deadline, files run in-line in this process.
    """

    def __init__(self, cfg: WorkerConfig, source: Source, sink: Sink, *, workers: int,
                 file_timeout: float) -> None:
        self.cfg, self.source, self.sink = cfg, source, sink
        self.n = workers
        self.file_timeout = file_timeout

    def run(self, handles: Iterator[str], record: Record) -> None:
        if self.file_timeout <= 0 and self.n == 1:
            worker = FileWorker(self.cfg, self.source, self.sink)
            for h in handles:
                record(worker.process(h))
            return
        _Watchdog(self, record).run(handles)


class _Watchdog:
    def __init__(self, ex: LocalExecutor, record: Record) -> None:
        self.ex, self.record = ex, record
        self.timeout = ex.file_timeout if ex.file_timeout > 0 else float("inf")
        self.pool = self._new_pool()
        self.inflight: dict[Future[Processed], tuple[str, float]] = {}
        self.clock: StartClock[Future[Processed]] = StartClock(ex.n)
        self.retry: list[str] = []
        self.suspects: set[str] = set()  #: in flight when a worker died: retried alone

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.ex.n, initializer=init_worker,
                                   initargs=(self.ex.cfg, self.ex.source, self.ex.sink))

    def _kill_pool(self) -> None:
        procs = list(getattr(self.pool, "_processes", {}).values())  # no public API for this
        for proc in procs:
            proc.kill()
        self.pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            proc.join(5)

    def _fill(self, handles: Iterator[str], exhausted: bool) -> bool:
        while len(self.inflight) < (1 if self.suspects else QUEUED_PER_WORKER * self.ex.n):
            if self.retry:
                h = self.retry.pop(0)
            elif exhausted or self.suspects:
                break
            else:
                nxt = next(handles, None)
                if nxt is None:
                    return True
                h = nxt
            self.inflight[self.pool.submit(run_one, h)] = (h, time.monotonic())
        return exhausted

    def run(self, handles: Iterator[str]) -> None:
        exhausted = False
        try:
            while True:
                exhausted = self._fill(handles, exhausted)
                if not self.inflight:
                    if self.retry:
                        continue
                    return
                running = self.clock.running(self.inflight)
                soonest = min(running.values()) + self.timeout
                wait_for = max(0.05, min(soonest - time.monotonic(), 1.0))
                done, _ = wait(list(self.inflight), timeout=wait_for, return_when=FIRST_COMPLETED)
                broken = False
                for f in done:
                    h, _ = self.inflight.pop(f)
                    self.clock.forget(f)
                    try:
                        processed = f.result()
                    except BrokenProcessPool:
                        broken = True
                        self._crashed(h)
                        continue
                    self.suspects.discard(h)
                    self.record(processed)
                now = time.monotonic()
                late = [f for f, t in running.items()
                        if f in self.inflight and now - t > self.timeout]
                for f in late:
                    h, _ = self.inflight.pop(f)
                    self.suspects.discard(h)
                    self.record(self._rejected(h, "timeout", f"took longer than "
                                f"{self.ex.file_timeout:g} s (--file-timeout); its worker was "
                                "replaced"))
                if late or broken:
                    self.retry[:0] = [h for h, _ in self.inflight.values()]
                    self.inflight.clear()
                    self.clock.clear()
                    self._kill_pool()
                    self.pool = self._new_pool()
        finally:  # interrupted: do not wait for files in flight
            if self.inflight:
                self._kill_pool()
            else:
                self.pool.shutdown(wait=True)

    def _crashed(self, handle: str) -> None:
        if handle in self.suspects and len(self.inflight) == 0:
            self.suspects.discard(handle)  # it broke a pool on its own
            self.record(self._rejected(handle, "worker-crash",
                                       "the worker process died on this file"))
            return
        self.suspects.add(handle)
        self.retry.append(handle)

    def _rejected(self, handle: str, code: str, detail: str) -> Processed:
        stamp = self.ex.source.stamp(handle)
        return Processed(InstanceResult(Outcome.QUARANTINED, handle, code, detail,
                                        bytes_in=stamp[0] if stamp else 0))
