"""The coordinator of a batch run: schedule every handle on an executor, commit what workers
staged, keep the journal and the summary. It writes no report: :func:`pacsguard.batch.run.
run_deid` adds those.

Layout::

    OUT/                       de-identified DICOM files + pacsguard-summary.json (no identifiers)
    OUT.pacsguard/             beside the tree, never inside it (it names input paths)
        journal.sqlite         resume journal
        quarantine.tsv         input path, outcome, reason code, detail
        skipped.tsv            non-DICOM inputs and DICOMDIRs
        summary.json           the same summary
"""

from __future__ import annotations

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
from pacsguard.batch.worker import Processed, WorkerConfig
from pacsguard.errors import OutputError
from pacsguard.io.sinks import FolderSink, Sink, refuse_links
from pacsguard.io.sources import FolderSource, Source
from pacsguard.outcome import Outcome
from pacsguard.pipeline import InstanceResult

__all__ = ["DeidRun", "DeidRunner", "workers_for"]

#: A progress callback: (instances done, total or None).
Progress = Callable[[int, int | None], None]


@dataclass
class DeidRun:
    """Everything one ``pacsguard deid`` run needs."""

    inputs: list[Path]
    out_dir: Path
    worker: WorkerConfig
    side_dir: Path | None = None
    workers: int = 0  #: 0: all cores
    linkage_path: Path | None = None
    restart: bool = False
    progress: Progress | None = None
    file_timeout: float = 120.0  #: seconds one file may take before its worker is replaced

    @property
    def side(self) -> Path:
        return self.side_dir or self.out_dir.with_name(self.out_dir.name + ".pacsguard")


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
        self.folder = FolderSource(run.inputs, exclude=(run.out_dir, run.side))
        self.source: Source = source or self.folder
        self.sink: Sink = sink or FolderSink(run.out_dir)
        self.executor: Executor = executor or LocalExecutor(
            run.worker, self.source, self.sink, workers=workers_for(run.workers),
            file_timeout=run.file_timeout)
        self.summary = Summary()
        self._kept = run.worker.policy.kept_tags()
        self._total: int | None = None

    def check(self) -> None:
        """Everything that can be refused is refused before anything is written."""
        run = self.run_cfg
        self.folder.check()
        out = run.out_dir.resolve()
        for root in run.inputs:
            r = root.resolve()
            if out == r or r in out.parents:
                raise OutputError("the output folder must not be inside an input folder")
            if out in r.parents:
                raise OutputError("an input lies inside the output folder")
        refuse_links(run.side)
        side = run.side.resolve()
        if side == out or out in side.parents:
            raise OutputError("the side folder (journal, quarantine list) must be outside the output")
        if run.linkage_path is not None and out in run.linkage_path.resolve().parents:
            raise OutputError("the linkage table must not be inside the output folder")
        self.sink.prepare()
        FolderSink(run.side).prepare()

    def run(self) -> Summary:
        """De-identify every input; resumable; returns the summary (also kept as
        ``self.summary``)."""
        run = self.run_cfg
        self.check()
        if run.restart:
            (run.side / "journal.sqlite").unlink(missing_ok=True)
        if run.progress:  # a walk of names only, for a total and an ETA
            self._total = self.folder.count() if self.source is self.folder else None
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
        stats = self.folder.stats
        summary.loops, summary.unreadable_dirs = stats.loops, stats.unreadable_dirs
        summary.links_outside = stats.links_outside
        summary.meta = {
            "policy": run.worker.policy.to_json(),
            "key_fingerprint": run.worker.key.fingerprint,
            "workers": workers_for(run.workers),
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
