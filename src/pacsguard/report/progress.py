"""A progress bar on stderr (rich), or nothing when stderr is not a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


@contextmanager
def progress_bar(label: str, *, enabled: bool) -> Iterator[Callable[[int, int | None], None]]:
    """Yield ``tick(done, total)``; the bar shows counts and files/s, never a file name."""
    if not enabled:
        yield lambda done, total: None
        return
    columns = (SpinnerColumn(), TextColumn(label), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]} files/s"), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None, rate="-")

        def tick(done: int, total: int | None) -> None:
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = f"{done / elapsed:.0f}" if elapsed > 0.5 else "-"
            bar.update(task, completed=done, total=total, rate=rate)

        yield tick


@contextmanager
def study_bars(*, enabled: bool) -> Iterator[Callable[[str], Callable[[int, int | None], None]]]:
    """Yield ``new_bar(label) -> tick(done, total)``: one bar per study (labels are counts,
    never a UID or a name)."""
    if not enabled:
        yield lambda label: (lambda done, total: None)
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:

        def new_bar(label: str) -> Callable[[int, int | None], None]:
            task = bar.add_task(label, total=None)

            def tick(done: int, total: int | None) -> None:
                bar.update(task, completed=done, total=total)

            return tick

        yield new_bar
