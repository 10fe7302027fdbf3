"""The coordinator of a batch run: schedule every handle on an executor, commit what workers
staged, keep the journal and the summary. It writes no report: :func:`pacsguard.batch.run.
run_deid` adds those.

Layout::

    OUT/                       de-identified DICOM files + pacsguard-summary.json (no identifiers)
                               (a folder, or an object store prefix: s3://BUCKET/PREFIX)
    OUT.pacsguard/             beside the tree, never inside it (it names input paths);
                               always on local disk (--side-dir when OUT is an object store)
        journal.sqlite         resume journal
        quarantine.tsv         input path, outcome, reason code, detail
        skipped.tsv            non-DICOM inputs and DICOMDIRs
        summary.json           the same summary
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pacsguard.batch.crosscheck import note_written
from pacsguard.batch.executor import Executor, LocalExecutor
from pacsguard.batch.hooks import RunHook
from pacsguard.batch.journal import Journal, JournalRow
from pacsguard.batch.summary import Summary
from pacsguard.batch.worker import FileWorker, Processed, WorkerConfig
from pacsguard.errors import OutputError, UsageError
from pacsguard.io.objectstore import ObjectSink, ObjectSource, split_url
from pacsguard.io.sinks import FolderSink, Sink
from pacsguard.io.sources import FolderSource, Source
from pacsguard.outcome import Outcome
from pacsguard.pipeline import InstanceResult

__all__ = ["DeidRun", "DeidRunner", "Location", "workers_for"]

#: A local path, or an object store URL (``s3://BUCKET/PREFIX``, ``gs://``, ``az://``).
Location = Path | str

log = logging.getLogger("pacsguard.batch")

#: A progress callback: (instances done, total or None).
Progress = Callable[[int, int | None], None]


@dataclass
class DeidRun:
    """Everything one ``pacsguard deid`` run needs. Inputs and output are local paths or
    object store URLs (a ``str``); the inputs are all of one kind."""

    inputs: Sequence[Location]
    out_dir: Location
    worker: WorkerConfig
    side_dir: Path | None = None
    workers: int = 0  #: 0: all cores
    linkage_path: Path | None = None
    restart: bool = False
    progress: Progress | None = None
    file_timeout: float = 120.0  #: seconds one file may take before its worker is replaced
    executor: str = "local"  #: "local" (process pool) or "dask"
    scheduler: str | None = None  #: a Dask scheduler's address; None: a LocalCluster
    batch_size: int = 0  #: files per Dask task (0: sized from the cluster)

    @property
    def side(self) -> Path:
        if self.side_dir is not None:
            return self.side_dir
        if isinstance(self.out_dir, str):
            raise UsageError("--side-dir is required when OUT is an object store (the journal "
                             "and the quarantine list stay on local disk)")
        return self.out_dir.with_name(self.out_dir.name + ".pacsguard")

    @property
    def local_inputs(self) -> list[Path]:
        return [p for p in self.inputs if isinstance(p, Path)]

    @property
    def remote_inputs(self) -> list[str]:
        return [p for p in self.inputs if isinstance(p, str)]


def workers_for(n: int) -> int:
    return n if n > 0 else (os.cpu_count() or 1)


class DeidRunner:
    """Runs one :class:`DeidRun`: resumable, one outcome per input, recorded in the journal.

    ``hooks`` are told of every settled instance (linkage table, gallery); ``progress`` of
    the count. Source, sink and executor default to a folder tree, a folder tree and local
    worker processes.
    """

    def __init__(self, run: DeidRun, *, hooks: Sequence[RunHook] = (),
                 source: Source | None = None, sink: Sink | None = None,
                 executor: Executor | None = None) -> None:
        self.run_cfg = run
        self.hooks = list(hooks)
        if run.local_inputs and run.remote_inputs:
            raise UsageError("inputs are either all local or all in object stores")
        exclude = (run.out_dir, run.side) if isinstance(run.out_dir, Path) else (run.side,)
        self.folder = FolderSource(run.local_inputs, exclude=exclude) if run.local_inputs else None
        self.source: Source = source or self.folder or ObjectSource(run.remote_inputs)
        self.sink: Sink = sink or (FolderSink(run.out_dir) if isinstance(run.out_dir, Path)
                                   else ObjectSink(run.out_dir))
        self.executor: Executor = executor or self._executor()
        self.summary = Summary()
        self._kept = run.worker.policy.kept_tags()
        self._total: int | None = None
        self._restorer: FileWorker | None = None
        self._checked = False

    def _executor(self) -> Executor:
        run = self.run_cfg
        if run.executor == "dask":
            from pacsguard.batch.cluster import DaskExecutor

            return DaskExecutor(run.worker, self.source, self.sink, scheduler=run.scheduler,
                                workers=workers_for(run.workers), batch_size=run.batch_size)
        return LocalExecutor(run.worker, self.source, self.sink, workers=workers_for(run.workers),
                             file_timeout=run.file_timeout)

    def check(self) -> None:
        """Everything that can be refused is refused before anything is written. Once: it
        walks the output tree for links, which a resumed large run should not pay twice."""
        if self._checked:
            return
        run = self.run_cfg
        side = run.side  # a remote output without --side-dir is refused here
        if self.folder is not None:
            self.folder.check()
        elif isinstance(self.source, ObjectSource):
            self.source.check()
        if isinstance(run.out_dir, Path):
            out = run.out_dir.resolve()
            for root in run.local_inputs:
                r = root.resolve()
                if out == r or r in out.parents:
                    raise OutputError("the output folder must not be inside an input folder")
                if out in r.parents:
                    raise OutputError("an input lies inside the output folder")
            if side.resolve() == out or out in side.resolve().parents:
                raise OutputError("the side folder (journal, quarantine list) must be outside "
                                  "the output")
            if run.linkage_path is not None and out in run.linkage_path.resolve().parents:
                raise OutputError("the linkage table must not be inside the output folder")
        else:
            out_url = "/".join(split_url(run.out_dir))
            for url in run.remote_inputs:
                in_url = "/".join(split_url(url))
                if out_url == in_url or out_url.startswith(in_url + "/"):
                    raise OutputError("the output must not be inside an input")
                if in_url.startswith(out_url + "/"):
                    raise OutputError("an input lies inside the output")
        self.sink.prepare()
        FolderSink(side).prepare()  # refuses links in the side folder too
        self._checked = True

    def run(self) -> Summary:
        """De-identify every input; resumable; returns the summary (also kept as
        ``self.summary``)."""
        run = self.run_cfg
        self.check()
        if run.restart:
            (run.side / "journal.sqlite").unlink(missing_ok=True)
        if run.progress and self.folder is not None and self.source is self.folder:
            self._total = self.folder.count()  # a walk of names only, for a total and an ETA
        start = time.monotonic()
        with Journal(run.side / "journal.sqlite") as journal:
            journal.bind(run.worker.key.fingerprint, run.worker.policy.digest())
            try:
                self.executor.run(self._todo(journal), lambda p: self._record(journal, p))
            finally:
                for hook in self.hooks:
                    hook.close()
        summary = self.summary
        summary.seconds = time.monotonic() - start
        if self.folder is not None:
            stats = self.folder.stats
            summary.loops, summary.unreadable_dirs = stats.loops, stats.unreadable_dirs
            summary.links_outside = stats.links_outside
        threads = getattr(self.executor, "threads", 0)  # a cluster says how many it had
        summary.meta = {
            "policy": run.worker.policy.to_json(),
            "key_fingerprint": run.worker.key.fingerprint,
            "executor": run.executor,
            "workers": threads or workers_for(run.workers),
        }
        return summary

    def _todo(self, journal: Journal) -> Iterator[str]:
        for handle in self.source.handles():
            prev = journal.finished(handle)
            if prev is not None:
                stamp = self.source.stamp(handle)
                if stamp == prev[:2] and (not prev[2] or self.sink.exists(prev[2])):
                    self.summary.resumed += 1
                    continue
            yield handle

    def _record(self, journal: Journal, processed: Processed) -> None:
        result = processed.result
        if result.written:
            result = self._commit(journal, result, processed.staged)
        summary = self.summary
        summary.counts[result.outcome] += 1
        if result.reason:
            summary.reasons[result.reason] += 1
        if result.pseudonym:
            summary.patients.add(result.pseudonym)
        summary.bytes_in += result.bytes_in
        summary.bytes_out += processed.size
        summary.pixels_cleaned += result.pixels_cleaned
        if result.written:
            summary.ways[result.full_path or "streamed"] += 1
        stamp = self.source.stamp(result.handle) or (result.bytes_in, 0)
        journal.record(JournalRow(result.handle, stamp[0], stamp[1], result.outcome, result.reason,
                                  result.detail, result.name, result.bytes_in,
                                  processed.size, result.pseudonym))
        for hook in self.hooks:
            hook.on_result(result)
        if self.run_cfg.progress:
            self.run_cfg.progress(sum(summary.counts.values()) + summary.resumed, self._total)

    def _commit(self, journal: Journal, result: InstanceResult, staged: str) -> InstanceResult:
        """Rename a staged file into place. Two inputs with one SOP Instance UID: the input whose
        path sorts first wins, whatever order the workers finished in (reproducible output)."""
        found = journal.owner(result.name)
        owner, this_run = found if found else (None, False)
        if owner is not None and owner != result.handle and owner < result.handle:
            self.sink.discard(staged)
            if self.sink.in_place:  # this loser's PUT replaced the owner's object
                self._rewrite(owner, result.name)
            return replace(result, outcome=Outcome.DUPLICATE,
                           reason="duplicate-sop-instance-uid",
                           detail="another input has the same SOP Instance UID; the first path "
                           "in sort order wins")
        self.sink.commit(staged, result.name)
        if isinstance(self.sink, FolderSink) and self.source is self.folder:
            note_written(result.handle, self.sink.path(result.name), self._kept)
        if owner is not None and owner != result.handle:  # the earlier owner loses its claim
            if this_run:  # an owner from an earlier run was never counted in this summary
                self.summary.counts[Outcome.WRITTEN] -= 1
                self.summary.counts[Outcome.DUPLICATE] += 1
            journal.record(JournalRow(owner, 0, 0, Outcome.DUPLICATE, "duplicate-sop-instance-uid",
                                      "another input has the same SOP Instance UID", result.name))
        return result

    def _rewrite(self, owner: str, name: str) -> None:
        """Write the owner's instance again, here (rare: two inputs with one SOP Instance UID
        on a sink that writes in place). The same key and policy give the same bytes."""
        if self._restorer is None:
            self._restorer = FileWorker(self.run_cfg.worker, self.source, self.sink)
        again = self._restorer.process(owner)
        if again.result.written and again.result.name == name:
            self.sink.commit(again.staged, name)
        else:  # the owner's input changed since: nothing to restore, and a loser's bytes stay
            log.warning("an instance claimed by two inputs could not be written again (%s)",
                        again.result.reason or "renamed")
