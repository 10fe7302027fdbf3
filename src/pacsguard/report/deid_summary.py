"""The terminal summary of a ``pacsguard deid`` run (counts and pseudonymized paths only)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from pacsguard.batch.summary import SUMMARY_NAME, Summary


def print_deid_summary(summary: Summary, out_dir: Path, side_dir: Path,
                       console: Console | None = None) -> None:
    console = console or Console()
    data = summary.to_json()
    table = Table(title="pacsguard deid", show_header=True, header_style="bold")
    table.add_column("outcome")
    table.add_column("files", justify="right")
    for name, count in data["outcomes"].items():
        if count or name in ("written", "quarantined"):
            table.add_row(name, str(count))
    if data["already_done"]:
        table.add_row("already done (resumed)", str(data["already_done"]))
    console.print(table)
    if data["reasons"]:
        reasons = ", ".join(f"{k}: {v}" for k, v in data["reasons"].items())
        console.print(f"reasons: {reasons}")
    bugs = data["reasons"].get("processing-error", 0)
    if bugs:
        console.print(f"[bold red]{bugs} file(s) hit an unexpected error (processing-error): "
                      "that is a bug in pacsguard, not in the files. They were quarantined; rerun "
                      "with -vv to log the exception type, and please report it.[/]")
    if data.get("links_outside_input_skipped"):
        console.print(f"{data['links_outside_input_skipped']} link(s) to outside the input "
                      "skipped (links are followed only inside the input folder)")
    console.print(
        f"{data['patients']} patient(s); {data['seconds']} s; {data['files_per_second']} files/s; "
        f"{data['mb_per_second']} MB/s; key fingerprint {data['key_fingerprint']}")
    console.print(f"output: {out_dir}  (summary: {out_dir / SUMMARY_NAME})")
    if data.get("review_gallery"):
        console.print(f"review gallery of cleaned images: {data['review_gallery']}")
    console.print(f"journal and quarantine list (they name input files; keep them apart): {side_dir}")
