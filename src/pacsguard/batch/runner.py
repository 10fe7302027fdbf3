"""Run a de-identification over a tree: parallel workers, journal, quarantine list, summary.

Layout::

    OUT/                       de-identified DICOM files + pacsguard-summary.json (no identifiers)
    OUT.pacsguard/             beside the tree, never inside it (it names input paths)
        journal.sqlite         resume journal
        quarantine.tsv         input path, outcome, reason code, detail
        skipped.tsv            non-DICOM inputs and DICOMDIRs
        summary.json           the same summary
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pacsguard import __version__
from pacsguard.batch.crosscheck import note_written
from pacsguard.batch.journal import Journal, JournalRow
from pacsguard.batch.walk import WalkStats, iter_files
from pacsguard.batch.worker import FileWorker, Outcome, WorkerConfig, init_worker, run_one
from pacsguard.errors import InputError, OutputError

SUMMARY_NAME = "pacsguard-summary.json"


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
    progress: Callable[[int, int | None], None] | None = None  #: (done, total or None)
    file_timeout: float = 120.0  #: seconds one file may take before its worker is replaced

    @property
    def side(self) -> Path:
        return self.side_dir or self.out_dir.with_name(self.out_dir.name + ".pacsguard")


@dataclass
class Summary:
    """Counts and rates; never an identifier."""

    counts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    patients: set[str] = field(default_factory=set)
    bytes_in: int = 0
    bytes_out: int = 0
    resumed: int = 0
    seconds: float = 0.0
    loops: int = 0
    unreadable_dirs: int = 0
    links_outside: int = 0
    pixels_cleaned: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if self.counts["quarantined"] or self.counts["failed"] else 0

    def to_json(self) -> dict[str, Any]:
        processed = sum(self.counts.values())
        secs = max(self.seconds, 1e-9)
        return {
            "tool": f"pacsguard {__version__}",
            **self.meta,
            "outcomes": {k: self.counts.get(k, 0) for k in
                         ("written", "quarantined", "skipped", "failed", "duplicate")},
            "already_done": self.resumed,
            "reasons": dict(sorted(self.reasons.items())),
            "patients": len(self.patients),
            "pixels_cleaned": self.pixels_cleaned,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "seconds": round(self.seconds, 3),
            "files_per_second": round(processed / secs, 1),
            "mb_per_second": round(self.bytes_in / 1e6 / secs, 1),
            "directory_loops_skipped": self.loops,
            "links_outside_input_skipped": self.links_outside,
            "unreadable_directories": self.unreadable_dirs,
            "exit_code": self.exit_code,
        }


def _check_paths(run: DeidRun) -> None:
    for n, root in enumerate(run.inputs, 1):  # before anything is created
        if not root.exists():
            raise InputError(f"input #{n} of {len(run.inputs)} does not exist")
    out = run.out_dir.resolve()
    for root in run.inputs:
        r = root.resolve()
        if out == r or r in out.parents:
            raise OutputError("the output folder must not be inside an input folder")
        if out in r.parents:
            raise OutputError("an input lies inside the output folder")
    for d in (run.out_dir, run.side):
        _refuse_links(d)
    side = run.side.resolve()
    if side == out or out in side.parents:
        raise OutputError("the side folder (journal, quarantine list) must be outside the output")
    if run.linkage_path is not None:
        link = run.linkage_path.resolve()
        if out in link.parents:
            raise OutputError("the linkage table must not be inside the output folder")
    for d in (run.out_dir, run.side):
        try:
            d.mkdir(parents=True, exist_ok=True)
            probe = d / f".pacsguard-write-test-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise OutputError(f"cannot write to {d}: {exc.strerror or exc}") from exc


def _refuse_links(path: Path) -> None:
    """A link in the output (the folder itself, or anywhere below it) could send a write out
    of it: refused, before anything is written."""
    if path.is_symlink():
        raise OutputError("the output folder is a symbolic link; give its real path")
    if not path.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
        for name in (*dirnames, *filenames):
            if os.path.islink(os.path.join(dirpath, name)):
                raise OutputError("the output folder holds a symbolic link; refusing to write "
                                  "through it")


def run_deid(run: DeidRun) -> Summary:
    """De-identify every input file into ``run.out_dir``; resumable; returns the summary."""
    _check_paths(run)
    if run.restart:
        (run.side / "journal.sqlite").unlink(missing_ok=True)
    journal = Journal(run.side / "journal.sqlite")
    journal.bind(run.worker.key.fingerprint, run.worker.policy.digest())
    linkage = _open_linkage(run.linkage_path) if run.linkage_path else None
    summary = Summary()
    stats = WalkStats()
    gallery: list[tuple[str, Any]] = []
    kept = run.worker.policy.kept_tags()
    # With a progress bar, count the files first (a walk of names only) to show a total and ETA.
    total = (sum(1 for _ in iter_files(run.inputs, WalkStats(), exclude=(run.out_dir, run.side)))
             if run.progress else None)
    start = time.monotonic()

    def todo() -> Iterator[str]:
        for path in iter_files(run.inputs, stats, exclude=(run.out_dir, run.side)):
            key = str(path)
            prev = journal.finished(key)
            if prev is not None:
                try:
                    st = path.stat()
                except OSError:
                    prev = None
                else:
                    if (st.st_size, st.st_mtime_ns) == prev[:2] and (
                            not prev[2] or (run.out_dir / prev[2]).exists()):
                        summary.resumed += 1
                        continue
            yield key

    def record(o: Outcome) -> None:
        outcome = o.outcome
        if outcome == "written":
            outcome = _commit(run.out_dir, o, journal, summary, kept)
        summary.counts[outcome] += 1
        reason, detail = o.reason, o.detail
        if outcome == "duplicate":
            reason = "duplicate-sop-instance-uid"
            detail = "another input has the same SOP Instance UID; the first path in sort order wins"
        if reason:
            summary.reasons[reason] += 1
        if o.pseudonym:
            summary.patients.add(o.pseudonym)
        summary.bytes_in += o.bytes_in
        summary.bytes_out += o.bytes_out
        summary.pixels_cleaned += o.pixels_cleaned
        try:
            st = Path(o.input).stat()
            size, mtime = st.st_size, st.st_mtime_ns
        except OSError:
            size, mtime = o.bytes_in, 0
        journal.record(JournalRow(o.input, size, mtime, outcome, reason, detail, o.output,
                                  o.bytes_in, o.bytes_out, o.pseudonym))
        if linkage is not None and o.identity:
            linkage.execute("INSERT OR IGNORE INTO linkage VALUES (?, ?, ?)",
                            (o.identity, o.patient_name, o.pseudonym))
        if o.pixel_result is not None and outcome == "written" and len(gallery) < GALLERY_MAX:
            gallery.append((o.output, o.pixel_result))
        if run.progress:
            run.progress(sum(summary.counts.values()) + summary.resumed, total)

    try:
        _dispatch(run, todo(), record)
    finally:
        journal.close()
        if linkage is not None:
            linkage.commit()
            linkage.close()
    summary.seconds = time.monotonic() - start
    summary.loops, summary.unreadable_dirs = stats.loops, stats.unreadable_dirs
    summary.links_outside = stats.links_outside
    summary.meta = {
        "policy": run.worker.policy.to_json(),
        "key_fingerprint": run.worker.key.fingerprint,
        "workers": _workers(run.workers),
    }
    if gallery:
        _write_gallery(run.side / "gallery.html", gallery, show_values=run.worker.show_values)
        summary.meta["review_gallery"] = str(run.side / "gallery.html")
    _write_lists(run, summary)
    return summary


#: At most this many images in the review gallery (it is one self-contained page).
GALLERY_MAX = 500


def _write_gallery(path: Path, items: list[tuple[str, Any]], *, show_values: bool) -> None:
    from pacsguard.pixels.gallery import GalleryEntry, render_gallery

    page = render_gallery([GalleryEntry(label, result) for label, result in items],
                          show_values=show_values)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, path)


def _commit(out_dir: Path, o: Outcome, journal: Journal, summary: Summary,
            kept: frozenset[int] = frozenset()) -> str:
    """Rename a staged file into place. Two inputs with one SOP Instance UID: the input whose
    path sorts first wins, whatever order the workers finished in (reproducible output)."""
    staged, target = out_dir / o.staged, out_dir / o.output
    found = journal.owner(o.output)
    owner, this_run = found if found else (None, False)
    if owner is not None and owner != o.input and owner < o.input:
        staged.unlink(missing_ok=True)
        return "duplicate"
    os.replace(staged, target)  # atomic: a reader never sees half a file
    note_written(o.input, target, kept)
    if owner is not None and owner != o.input:  # the earlier owner loses its claim
        if this_run:  # an owner from an earlier run was never counted in this summary
            summary.counts["written"] -= 1
            summary.counts["duplicate"] += 1
        journal.record(JournalRow(owner, 0, 0, "duplicate", "duplicate-sop-instance-uid",
                                  "another input has the same SOP Instance UID", o.output))
    return "written"


def _workers(n: int) -> int:
    return n if n > 0 else (os.cpu_count() or 1)


def _dispatch(run: DeidRun, paths: Iterator[str], record: Callable[[Outcome], None]) -> None:
    n = _workers(run.workers)
    if run.file_timeout <= 0 and n == 1:  # no watchdog: one process runs in-line
        worker = FileWorker(run.worker)
        for p in paths:
            record(worker.process(p))
        return
    _Watchdog(run, n, record).run(paths)


class _Watchdog:
    """Workers in a process pool, each file under a deadline. At most one file per worker is
    in flight, so a file starts when it is submitted and its deadline means something. A file
    past its deadline is quarantined (``timeout``); the pool is killed and rebuilt and the
    other files in flight are resubmitted (recorded once, when they finish). A worker that
    dies (a crash, the OOM killer) breaks the pool: the files it may have held are retried one
    at a time, and one that breaks a pool alone is quarantined (``worker-crash``)."""

    def __init__(self, run: DeidRun, n: int, record: Callable[[Outcome], None]) -> None:
        self.run_cfg, self.n, self.record = run, n, record
        self.timeout = run.file_timeout if run.file_timeout > 0 else float("inf")
        self.pool = self._new_pool()
        self.inflight: dict[Future[Outcome], tuple[str, float]] = {}
        self.retry: list[str] = []
        self.suspects: set[str] = set()  #: in flight when a worker died: retried alone

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.n, initializer=init_worker,
                                   initargs=(self.run_cfg.worker,))

    def _kill_pool(self) -> None:
        procs = list(getattr(self.pool, "_processes", {}).values())  # no public API for this
        for proc in procs:
            proc.kill()
        self.pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            proc.join(5)

    def _fill(self, paths: Iterator[str], exhausted: bool) -> bool:
        while len(self.inflight) < (1 if self.suspects else self.n):
            if self.retry:
                p = self.retry.pop(0)
            elif exhausted or self.suspects:
                break
            else:
                nxt = next(paths, None)
                if nxt is None:
                    return True
                p = nxt
            self.inflight[self.pool.submit(run_one, p)] = (p, time.monotonic())
        return exhausted

    def run(self, paths: Iterator[str]) -> None:
        exhausted = False
        try:
            while True:
                exhausted = self._fill(paths, exhausted)
                if not self.inflight:
                    if self.retry:
                        continue
                    return
                soonest = min(t for _, t in self.inflight.values()) + self.timeout
                wait_for = max(0.05, min(soonest - time.monotonic(), 1.0))
                done, _ = wait(list(self.inflight), timeout=wait_for, return_when=FIRST_COMPLETED)
                broken = False
                for f in done:
                    p, _ = self.inflight.pop(f)
                    try:
                        outcome = f.result()
                    except BrokenProcessPool:
                        broken = True
                        self._crashed(p)
                        continue
                    self.suspects.discard(p)
                    self.record(outcome)
                now = time.monotonic()
                late = [f for f, (_, t) in self.inflight.items() if now - t > self.timeout]
                for f in late:
                    p, _ = self.inflight.pop(f)
                    self.suspects.discard(p)
                    self.record(_timed_out(p, self.run_cfg.file_timeout))
                if late or broken:
                    self.retry[:0] = [p for p, _ in self.inflight.values()]
                    self.inflight.clear()
                    self._kill_pool()
                    self.pool = self._new_pool()
        finally:  # interrupted: do not wait for files in flight
            if self.inflight:
                self._kill_pool()
            else:
                self.pool.shutdown(wait=True)

    def _crashed(self, path: str) -> None:
        if path in self.suspects and len(self.inflight) == 0:
            self.suspects.discard(path)  # it broke a pool on its own
            self.record(Outcome(path, "quarantined", "worker-crash",
                                "the worker process died on this file", bytes_in=_size(path)))
            return
        self.suspects.add(path)
        self.retry.append(path)


def _size(path: str) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


def _timed_out(path: str, seconds: float) -> Outcome:
    return Outcome(path, "quarantined", "timeout", f"took longer than {seconds:g} s "
                   "(--file-timeout); its worker was replaced", bytes_in=_size(path))


def _open_linkage(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE IF NOT EXISTS linkage (original_patient TEXT PRIMARY KEY, "
                   "original_name TEXT, pseudonym TEXT NOT NULL)")
        os.chmod(path, 0o600)
    except (OSError, sqlite3.Error) as exc:
        raise OutputError(f"cannot open the linkage table {path}: {exc}") from exc
    return db


def _write_lists(run: DeidRun, summary: Summary) -> None:
    data = summary.to_json()
    text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    for target in (run.out_dir / SUMMARY_NAME, run.side / "summary.json"):
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    journal = Journal(run.side / "journal.sqlite")
    try:
        for name, outcomes in (("quarantine.tsv", ("quarantined", "failed", "duplicate")),
                               ("skipped.tsv", ("skipped",))):
            rows = journal.rows(outcomes)
            tmp = run.side / (name + ".tmp")
            with tmp.open("w", encoding="utf-8") as fh:
                fh.write("input\toutcome\treason\tdetail\n")
                for r in rows:
                    fh.write("\t".join(map(tsv_field, (r.input, r.outcome, r.reason, r.detail)))
                             + "\n")
            os.replace(tmp, run.side / name)
    finally:
        journal.close()



_TSV_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def tsv_field(text: str) -> str:
    """One TSV field on one line, in UTF-8: backslash, tab, newline and CR are escaped
    (``\\``, ``\\t``, ``\\n``, ``\\r``), other control characters and the bytes of a name
    that is not UTF-8 become ``\\xNN``."""
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if ch in _TSV_ESCAPES:
            out.append(_TSV_ESCAPES[ch])
        elif 0xDC80 <= code <= 0xDCFF:  # surrogateescape: an undecodable byte of the name
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF:
            out.append(f"\\x{code & 0xFF:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)
