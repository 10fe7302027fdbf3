"""``--executor dask``: the same worker on a Dask cluster (``distributed``, the ``dask`` extra).

Tasks are batches of handles; at most ``2 x worker threads`` of them (never more than
:data:`MAX_TASKS`) are with the scheduler at once, so a run of 10^8 instances never puts
10^8 tasks, or its listing, in memory anywhere. Each Dask worker process builds its
:class:`~pacsguard.batch.worker.FileWorker` once (per thread) and keeps it for every task of
the run. Workers stage outputs through the sink; the coordinator, here, alone commits them
and records outcomes. A worker lost mid-task: the scheduler runs its task again elsewhere
(staging names are derived from the handle, so a retry rewrites the same temporary file or
the same object, never a second one). A batch that kills workers ``allowed-failures`` times
is split, and a file that alone kills its worker is quarantined (``worker-crash``), as on
the local executor. A task that fails otherwise (the scheduler lost, workers without
pacsguard) stops the run with exit 2; a rerun resumes from the journal.

Task keys name no input (a dashboard shows keys), and a task never raises: a traceback in
a worker's log would quote its arguments, which hold input paths.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import threading
import time
import uuid
from collections.abc import Iterator
from itertools import islice
from typing import Any

from pacsguard.batch.executor import Record
from pacsguard.batch.worker import FileWorker, Processed, WorkerConfig
from pacsguard.errors import PacsguardError, UsageError
from pacsguard.io.sinks import Sink
from pacsguard.io.sources import Source
from pacsguard.outcome import Outcome
from pacsguard.pipeline import InstanceResult
from pacsguard.pixels.ocrenv import THREADS_VAR

__all__ = ["MAX_TASKS", "DaskExecutor", "batch_size_for", "run_batch"]

log = logging.getLogger("pacsguard.batch")

#: The most tasks the scheduler ever holds for one run (it stays responsive well below 10^5).
MAX_TASKS = 100_000


def batch_size_for(threads: int) -> int:
    """Files per task: 16 on a small cluster (a tail of a few seconds at most), growing with
    the cluster so that the scheduler sees about one task per thread every few seconds (a
    thousand threads at ~50 files/s each: ~1,000 files per task, ~50 tasks/s)."""
    return max(16, min(1024, threads))


class DaskExecutor:
    """Runs every handle on a Dask cluster: ``scheduler`` (an address, e.g.
    ``tcp://10.0.0.9:8786``; dask-jobqueue and the Kubernetes operator give one), else a
    LocalCluster of ``workers`` single-threaded processes."""

    def __init__(self, cfg: WorkerConfig, source: Source, sink: Sink, *, scheduler: str | None,
                 workers: int, batch_size: int = 0) -> None:
        self.cfg, self.source, self.sink = cfg, source, sink
        self.scheduler = scheduler
        self.workers = workers
        self.batch_size = batch_size
        # One digest names this run's worker in every Dask worker process.
        self.token = hashlib.sha256(pickle.dumps((cfg, source, sink))).hexdigest()[:32]
        self.threads = 0

    def run(self, handles: Iterator[str], record: Record) -> None:
        try:
            import distributed
        except ImportError as exc:
            raise UsageError("--executor dask needs Dask: pip install 'pacsguard[dask]'") from exc
        dist: Any = distributed  # partly typed: its constructors are not
        Client, LocalCluster = dist.Client, dist.LocalCluster
        # Importing distributed set its loggers to INFO; follow pacsguard's -q/-v instead.
        level = logging.getLogger("pacsguard").getEffectiveLevel()
        logging.getLogger("distributed").setLevel(max(level, logging.WARNING)
                                                  if level > logging.DEBUG else logging.INFO)
        cluster: Any = None
        if self.scheduler:
            try:
                client = Client(self.scheduler, timeout=10)
            except OSError as exc:
                raise UsageError(f"cannot reach the Dask scheduler at {self.scheduler} "
                                 f"({type(exc).__name__})") from exc
        else:
            cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None,
                                   scheduler_kwargs={"dashboard": False},
                                   silence_logs=logging.ERROR)
            client = Client(cluster)
        try:
            _Driver(self, client, record).run(handles)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


class _Driver:
    """Bounded submission and ``as_completed``: what one run keeps in flight."""

    def __init__(self, ex: DaskExecutor, client: Any, record: Record) -> None:
        self.ex, self.client, self.record = ex, client, record
        self.inflight: dict[Any, list[str]] = {}
        self.run_id = uuid.uuid4().hex[:12]
        self.n = 0
        self.singles: list[str] = []  #: handles of a split batch, each run alone
        self._sized = 0.0
        self._resize()

    def _resize(self) -> None:
        """Size batches and the window from the threads the cluster has now (it may grow)."""
        threads = sum(self.client.nthreads().values())
        self.ex.threads = threads
        self.bs = self.ex.batch_size or batch_size_for(threads)
        self.window = min(MAX_TASKS, max(2, 2 * threads))
        self._sized = time.monotonic()

    def _submit(self, handles: list[str], ac: Any) -> None:
        self.n += 1
        fut = self.client.submit(run_batch, self.ex.token, self.ex.cfg, self.ex.source,
                                 self.ex.sink, handles, key=f"pacsguard-{self.run_id}-{self.n}",
                                 pure=False)
        self.inflight[fut] = handles
        ac.add(fut)

    def _fill(self, handles: Iterator[str], ac: Any) -> None:
        if time.monotonic() - self._sized > 5.0:
            self._resize()
        while len(self.inflight) < self.window:
            if self.singles:
                self._submit([self.singles.pop(0)], ac)
                continue
            batch = list(islice(handles, self.bs))
            if not batch:
                return
            self._submit(batch, ac)

    def run(self, handles: Iterator[str]) -> None:
        import distributed

        dist: Any = distributed
        ac: Any = dist.as_completed()
        try:
            self._fill(handles, ac)
            while self.inflight:
                fut = next(ac)
                batch = self.inflight.pop(fut)
                self._settle(fut, batch)
                self._fill(handles, ac)
        finally:  # interrupted: let the cluster drop what this run has in flight
            if self.inflight:
                self.client.cancel(list(self.inflight))

    def _settle(self, fut: Any, batch: list[str]) -> None:
        from distributed.scheduler import KilledWorker

        try:
            answers: list[Processed] = fut.result()
        except KilledWorker:  # the batch killed workers allowed-failures times
            log.warning("a batch of %d file(s) killed its workers", len(batch))
            if len(batch) > 1:
                self.singles.extend(batch)  # find the one that kills its worker
                return
            stamp = self.ex.source.stamp(batch[0])
            self.record(Processed(InstanceResult(
                Outcome.QUARANTINED, batch[0], "worker-crash",
                "the worker process died on this file", bytes_in=stamp[0] if stamp else 0)))
            return
        except Exception as exc:  # the task never ran (run_batch itself never raises)
            raise _lost(exc) from exc
        for processed in answers:
            self.record(processed)


def _lost(exc: BaseException) -> PacsguardError:
    """The cluster, not a file, failed: stop (the journal keeps what is done; rerun)."""
    name = type(exc).__name__
    if isinstance(exc, ImportError):
        return PacsguardError(f"the Dask workers cannot run pacsguard ({name}): install "
                              "pacsguard[dask] (and the store's extra) on every worker")
    return PacsguardError(f"lost the Dask cluster ({name}); rerun the same command to resume")


# -- in the Dask worker processes --------------------------------------------------------
_WORKERS: dict[tuple[str, int], FileWorker] = {}
_LOCK = threading.Lock()


def run_batch(token: str, cfg: WorkerConfig, source: Source, sink: Sink,
              handles: list[str]) -> list[Processed]:
    """One task: every handle through this process's worker (built once per run and thread).
    Never raises: a traceback in a worker's log would quote the handles."""
    slot = (token, threading.get_ident())
    with _LOCK:
        worker = _WORKERS.get(slot)
    if worker is None:
        # One OCR thread per task thread, as in the local pool, whether or not a nanny
        # started this worker (pacsguard.pixels.ocrenv counts on a parent process).
        os.environ.setdefault(THREADS_VAR, "1")
        try:
            worker = FileWorker(cfg, source, sink)
        except Exception as exc:  # raising would make Dask log the task, handles included
            return [Processed(InstanceResult(
                Outcome.QUARANTINED, handle, "processing-error",
                f"unexpected {type(exc).__name__} while starting the worker"))
                for handle in handles]
        with _LOCK:
            if len(_WORKERS) >= 64:  # pipelines of earlier runs on a long-lived cluster
                _WORKERS.clear()
            _WORKERS[slot] = worker
    out: list[Processed] = []
    for handle in handles:
        try:
            out.append(worker.process(handle))
        except Exception as exc:  # a bug: FileWorker.process handles every bad instance
            out.append(Processed(InstanceResult(
                Outcome.QUARANTINED, handle, "processing-error",
                f"unexpected {type(exc).__name__} while de-identifying")))
    return out
