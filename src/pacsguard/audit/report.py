"""Audit output: a terminal table (rich), a JSON document and a self-contained HTML page.

The HTML page is built on the shared base (``report.html``), which escapes every text
(evidence may quote what a peer announced) and loads nothing from the network.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from pacsguard import __version__
from pacsguard.audit.findings import CHECKS, Finding, Severity, Summary
from pacsguard.dicom.identity import (
    PACSGUARD_IMPLEMENTATION_CLASS_UID,
    PACSGUARD_IMPLEMENTATION_VERSION_NAME,
)
from pacsguard.report.files import write_atomic
from pacsguard.report.html import HtmlPage, badge, code, lines, small

SCHEMA = "pacsguard-audit/1"
_STYLE = {Severity.CRITICAL: "bold white on red", Severity.HIGH: "bold red",
          Severity.MEDIUM: "yellow", Severity.LOW: "cyan", Severity.INFO: "dim"}
_COLOR = {Severity.CRITICAL: "#8b0000", Severity.HIGH: "#d9342b", Severity.MEDIUM: "#e8a317",
          Severity.LOW: "#2b7bb9", Severity.INFO: "#888888"}


def to_document(findings: list[Finding], summary: Summary, targets: list[str]) -> dict[str, Any]:
    """The JSON document (schema ``pacsguard-audit/1``, described in docs/audit.md)."""
    return {
        "schema": SCHEMA,
        "tool": {"name": "pacsguard", "version": __version__,
                 "implementation_class_uid": PACSGUARD_IMPLEMENTATION_CLASS_UID,
                 "implementation_version_name": PACSGUARD_IMPLEMENTATION_VERSION_NAME},
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "targets": targets,
        "summary": summary.to_json(),
        "findings": [f.to_json() for f in findings],
    }


def write_json(path: Path, doc: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(doc, indent=2, sort_keys=False) + "\n")


def print_terminal(findings: list[Finding], summary: Summary, stream: TextIO,
                   min_severity: Severity = Severity.LOW) -> None:
    """Findings at or above ``min_severity`` as a table, then the summary table."""
    console = Console(file=stream, width=max(100, Console(file=stream).width), soft_wrap=False)
    shown = [f for f in findings if f.severity >= min_severity]
    table = Table(title="pacsguard audit: findings", show_lines=False, expand=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("target", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("evidence", ratio=1)
    for f in shown:
        table.add_row(f"[{_STYLE[f.severity]}]{f.severity.label}[/]", f.target, f.check,
                      _escape(f.evidence))
    if shown:
        console.print(table)
    hidden = len(findings) - len(shown)
    if hidden:
        console.print(f"({hidden} informational note(s) not shown: --show-info, --json or --html)")
    console.print(_summary_table(summary))


def _escape(text: str) -> str:
    return text.replace("[", "\\[")


def summary_rows(summary: Summary) -> list[tuple[str, str]]:
    plus = "+" if summary.counts_are_minimums else ""
    return [
        ("endpoints probed", str(summary.endpoints_probed)),
        ("endpoints found (DICOM, DICOMweb, web)", str(summary.endpoints_found)),
        ("endpoints exposed", str(summary.endpoints_exposed)),
        ("patients exposed", f"{summary.patients_exposed}{plus}"),
        ("studies exposed", f"{summary.studies_exposed}{plus}"),
        ("images exposed", f"{summary.images_exposed}{plus}"),
    ]


def _summary_table(summary: Summary) -> Table:
    table = Table(title="summary")
    table.add_column("what")
    table.add_column("count", justify="right")
    for what, count in summary_rows(summary):
        table.add_row(what, count)
    sev = ", ".join(f"{k}: {v}" for k, v in reversed(summary.by_severity.items()))
    table.caption = f"findings by severity: {sev}"
    return table


def write_html(path: Path, findings: list[Finding], summary: Summary, targets: list[str]) -> None:
    write_atomic(path, render_html(findings, summary, targets))


def render_html(findings: list[Finding], summary: Summary, targets: list[str]) -> str:
    """The audit page on the shared HTML base: summary cards, a chart, the findings."""
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = HtmlPage("pacsguard audit report",
                    f"Generated {when} by pacsguard {__version__} for {len(targets)} target(s). "
                    "Counts only: no identifier returned by any peer was kept or shown.")
    rows = summary_rows(summary)
    page.heading("Summary")
    page.cards(rows, bad=[k for k, v in rows if "exposed" in k and v.rstrip("+") != "0"])
    counts = {Severity.parse(k): v for k, v in summary.by_severity.items()}
    order = sorted(Severity, reverse=True)
    page.bar_chart("findings by severity", [(s.label, counts.get(s, 0)) for s in order],
                   colours=[_COLOR[s] for s in order])
    page.heading(f"Findings ({len(findings)})")
    page.table(["severity", "target", "check", "evidence", "remediation"],
               [[badge(f.severity.label, _COLOR[f.severity]), f.target,
                 lines(code(f.check), small(CHECKS[f.check].title)), f.evidence, f.remediation]
                for f in findings],
               row_classes=["muted" if f.severity is Severity.INFO else "" for f in findings])
    return page.render()
