"""Terminal output with rich: a key/value summary and data tables."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.console import Console, Group, RenderableType
from rich.constrain import Constrain
from rich.table import Table
from rich.text import Text

from pacsguard.report.groups import RowGroup

__all__ = ["data_table", "grouped_tables", "make_console", "summary_table"]


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


def grouped_tables(title: str, columns: Sequence[str], groups: Sequence[RowGroup],
                   ratios: Sequence[int], width: int, max_rows: int | None = None,
                   min_widths: Sequence[int] = ()) -> RenderableType:
    """Each group as its full title on a line of its own, then its rows, in ``width`` columns.

    A rich table has no cell spanning all columns, so every group is a table of its own;
    the same ``width`` and column ``ratios`` make their columns line up under the one header.
    A column is never narrower than its header nor than its entry in ``min_widths``.
    Past ``max_rows`` rows a last line says how many rows were left out.
    """
    mins = [max([len(col), *min_widths[i:i + 1]]) for i, col in enumerate(columns)]
    # Fixed widths computed here, not rich ratios: every group's table must come out the
    # same, and rich treats a ratio column's width as fixed rather than as a minimum.
    sizes = _share(width - 2 * (len(columns) - 1), ratios, mins)

    def table(header: bool) -> Table:
        t = Table(box=None, show_header=header, header_style="bold", pad_edge=False)
        for col, size in zip(columns, sizes, strict=True):
            t.add_column(col, overflow="fold", width=size)
        return t

    parts: list[RenderableType] = [Text(title, style="bold italic"), table(True)]
    budget = max_rows if max_rows is not None else sum(len(g.rows) for g in groups)
    left_out = 0
    for group in groups:
        if budget <= 0:
            left_out += len(group.rows)
            continue
        # "──" marks a group even where bold is lost (piped output, CI logs). A grid of
        # marker and path: a path has no space to wrap at, and in one Text rich would move
        # it whole to the line after the marker.
        heading = Table.grid(padding=(0, 1), expand=True)
        heading.add_column(width=2, style="dim")
        heading.add_column(ratio=1, overflow="fold")
        label = Text(group.title, style="bold")
        if group.note:
            label.append(f"  {group.note}", style="dim")
        heading.add_row("──", label)
        rows = table(False)
        for row in group.rows[:budget]:
            # Text cells: values come from files and must never be read as rich markup.
            rows.add_row(*(Text(str(v)) for v in row))
        left_out += max(0, len(group.rows) - budget)
        budget -= len(group.rows)
        parts.extend([Constrain(heading, width), rows])
    if left_out:
        parts.append(Text(f"... {left_out} more (see the JSON or HTML report)"))
    return Group(*parts)


def _share(total: int, ratios: Sequence[int], mins: Sequence[int]) -> list[int]:
    """Split ``total`` cells by ``ratios``; a column whose share is below its minimum gets
    the minimum and the others share the rest."""
    pinned: dict[int, int] = {}
    while True:
        free = [i for i in range(len(ratios)) if i not in pinned]
        rest = max(0, total - sum(pinned.values()))
        weight = sum(ratios[i] for i in free) or 1
        share = {i: rest * ratios[i] // weight for i in free}
        short = {i: mins[i] for i in free if share[i] < mins[i]}
        if not short:
            break
        pinned.update(short)
    sizes = [pinned.get(i, share.get(i, 0)) for i in range(len(ratios))]
    if free:  # integer division leaves a few cells: the widest free column takes them
        widest = max(free, key=lambda i: sizes[i])
        sizes[widest] += max(0, total - sum(sizes))
    return sizes


def _plain(value: object) -> str:
    # rich markup is off per cell by escaping brackets: values may contain "[".
    return str(value).replace("[", "\\[")
