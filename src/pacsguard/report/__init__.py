"""Shared reporting: terminal tables (rich), JSON files, and self-contained HTML pages.

Used by ``scan``, ``verify``, ``audit`` and ``deid`` (its summary and review gallery).
Nothing here decides what is identifying: callers pass plain, already masked values, and
nothing here imports a domain module. ``html`` owns every HTML page's shell and styles;
``files.write_atomic`` is how every report reaches the disk.
"""

from pacsguard.report.files import write_atomic
from pacsguard.report.groups import RowGroup
from pacsguard.report.html import HtmlPage
from pacsguard.report.jsonout import write_json, write_text
from pacsguard.report.terminal import data_table, grouped_tables, make_console, summary_table

__all__ = ["HtmlPage", "RowGroup", "data_table", "grouped_tables", "make_console",
           "summary_table", "write_atomic", "write_json", "write_text"]
