"""``run_deid``: a whole ``pacsguard deid`` run as a library call: the runner, its hooks,
then the files a run leaves (summary, quarantine and skipped lists, review gallery)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pacsguard.batch.hooks import GalleryCollector, LinkageTable, RunHook
from pacsguard.batch.journal import Journal, JournalRow
from pacsguard.batch.runner import DeidRun, DeidRunner
from pacsguard.batch.summary import SUMMARY_NAME, Summary
from pacsguard.dicom.payload import Payload
from pacsguard.outcome import Outcome
from pacsguard.report.deid_files import summary_text, write_lists, write_summary

__all__ = ["run_deid"]


def run_deid(run: DeidRun) -> Summary:
    """De-identify every input file into ``run.out_dir``; resumable; returns the summary."""
    hooks: list[RunHook] = []
    gallery = GalleryCollector()
    runner = DeidRunner(run, hooks=[gallery])
    runner.check()  # before the linkage table is created
    if run.linkage_path is not None:
        hooks.append(LinkageTable(run.linkage_path))
    runner.hooks.extend(hooks)
    summary = runner.run()
    if gallery.items:
        page = run.side / "gallery.html"
        _write_gallery(page, gallery.items, show_values=run.worker.show_values)
        summary.meta["review_gallery"] = str(page)
    data = summary.to_json()
    if isinstance(run.out_dir, Path):
        write_summary(data, [run.out_dir / SUMMARY_NAME, run.side / "summary.json"])
    else:  # an object store: the same bytes, through the sink (one PUT)
        write_summary(data, [run.side / "summary.json"])
        sink = runner.sink
        sink.commit(sink.stage(SUMMARY_NAME, Payload(summary_text(data).encode()), SUMMARY_NAME),
                    SUMMARY_NAME)
    with Journal(run.side / "journal.sqlite") as journal:
        write_lists(run.side, {
            "quarantine.tsv": _rows(journal.rows(
                (Outcome.QUARANTINED, Outcome.FAILED, Outcome.DUPLICATE))),
            "skipped.tsv": _rows(journal.rows((Outcome.SKIPPED,))),
        })
    return summary


def _rows(rows: list[JournalRow]) -> list[tuple[str, str, str, str]]:
    return [(r.input, r.outcome, r.reason, r.detail) for r in rows]


def _write_gallery(path: Path, items: list[tuple[str, Any]], *, show_values: bool) -> None:
    from pacsguard.pixels.gallery import gallery_entry
    from pacsguard.report.gallery import write_gallery

    write_gallery(path, [gallery_entry(label, result) for label, result in items],
                  show_values=show_values)
