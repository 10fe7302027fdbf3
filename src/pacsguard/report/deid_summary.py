"""The terminal summary of a ``pacsguard deid`` run (counts and pseudonymized paths only)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["print_deid_summary"]


def print_deid_summary(data: Mapping[str, Any], summary_path: Path | str, side_dir: Path,
                       console: Console | None = None) -> None:
    """Print ``data``, the run's summary as written to ``summary_path`` (in the output folder).

    Plain data, not the runner's ``Summary``: report/ knows no batch module.
    """
    console = console or Console()
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
    full = data.get("full_path") or {}
    if full:  # the streaming path's fall-backs: same bytes, only slower
        ways = ", ".join(f"{k}: {v}" for k, v in full.items())
        console.print(f"pixel data streamed: {data.get('streamed', 0)}; full path: {ways}")
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
    folder = summary_path.parent if isinstance(summary_path, Path) else summary_path.rsplit("/", 1)[0]
    console.print(f"output: {folder}  (summary: {summary_path})")
    if data.get("review_gallery"):
        console.print(f"review gallery of cleaned images: {data['review_gallery']}")
    console.print(f"journal and quarantine list (they name input files; keep them apart): {side_dir}")
