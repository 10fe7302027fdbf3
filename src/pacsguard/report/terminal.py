"""Terminal output with rich: a key/value summary and data tables."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

__all__ = ["data_table", "make_console", "summary_table"]


def make_console(stderr: bool = False) -> Console:
    """A console that never interprets markup in data (values come from files)."""
    stream = sys.stderr if stderr else sys.stdout
    # Piped output (CI logs, files) gets room for the wide leak tables.
    width = None if stream.isatty() else 160
    return Console(file=stream, highlight=False, soft_wrap=False, width=width)


def summary_table(title: str, rows: Sequence[tuple[str, object]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left", box=None, pad_edge=False,
                  min_width=len(title) + 2)
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(str(key), str(value))
    return table


def data_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]],
               max_rows: int | None = None) -> Table:
    """A table of ``rows``; past ``max_rows`` a last line says how many were left out."""
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col, overflow="fold")
    shown = rows if max_rows is None else rows[:max_rows]
    for row in shown:
        table.add_row(*(_plain(v) for v in row))
    if max_rows is not None and len(rows) > max_rows:
        table.add_row(f"... {len(rows) - max_rows} more (see the JSON or HTML report)",
                      *[""] * (len(columns) - 1))
    return table


def _plain(value: object) -> str:
    # rich markup is off per cell by escaping brackets: values may contain "[".
    return str(value).replace("[", "\\[")
