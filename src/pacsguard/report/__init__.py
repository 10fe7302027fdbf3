"""Shared reporting: terminal tables (rich), JSON files, and self-contained HTML pages.

Used by ``scan``, ``verify`` and the de-identification summary. Nothing here decides what
is identifying: callers pass already masked values.
"""

from pacsguard.report.groups import RowGroup
from pacsguard.report.html import HtmlPage
from pacsguard.report.jsonout import write_json, write_text
from pacsguard.report.terminal import data_table, grouped_tables, make_console, summary_table

__all__ = ["HtmlPage", "RowGroup", "data_table", "grouped_tables", "make_console",
           "summary_table", "write_json", "write_text"]
