"""Rows shown under a heading, shared by the HTML page and the terminal tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["RowGroup"]


class RowGroup(NamedTuple):
    """Rows that belong together (the alarms of one output file, say).

    ``label`` is what the heading shows where room is short (the HTML page, which puts
    ``title`` on hover); the terminal has no hover, so it prints ``title`` in full.
    ``note`` follows the label in a muted style (a count, a summary).
    """

    label: str
    title: str
    rows: Sequence[Sequence[object]]
    note: str = ""
