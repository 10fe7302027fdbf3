"""Audit output: a terminal table (rich), a JSON document and a self-contained HTML page.

The HTML page has inline CSS and an inline SVG chart; it loads nothing from the
network. Every text is HTML-escaped (evidence may quote what a peer announced).
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from pacsguard import __version__
from pacsguard.audit.findings import CHECKS, Finding, Severity, Summary
from pacsguard.audit.identity import PACSGUARD_IMPLEMENTATION_UID, PACSGUARD_VERSION_NAME
from pacsguard.errors import OutputError

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
                 "implementation_class_uid": PACSGUARD_IMPLEMENTATION_UID,
                 "implementation_version_name": PACSGUARD_VERSION_NAME},
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "targets": targets,
        "summary": summary.to_json(),
        "findings": [f.to_json() for f in findings],
    }


def write_json(path: Path, doc: dict[str, Any]) -> None:
    _write(path, json.dumps(doc, indent=2, sort_keys=False) + "\n")


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write report {path.name!r}: {exc.strerror}") from exc


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


def _svg_chart(summary: Summary) -> str:
    bars, y = [], 10
    counts = {Severity.parse(k): v for k, v in summary.by_severity.items()}
    top = max([1, *counts.values()])
    for sev in sorted(Severity, reverse=True):
        n = counts.get(sev, 0)
        width = 0 if n == 0 else max(2, int(300 * n / top))
        bars.append(f'<text x="0" y="{y + 13}" class="lbl">{sev.label}</text>'
                    f'<rect x="80" y="{y}" width="{width}" height="18" fill="{_COLOR[sev]}"/>'
                    f'<text x="{86 + width}" y="{y + 13}" class="lbl">{n}</text>')
        y += 26
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="440" height="{y + 4}" '
            f'role="img" aria-label="findings by severity">{"".join(bars)}</svg>')


def write_html(path: Path, findings: list[Finding], summary: Summary, targets: list[str]) -> None:
    _write(path, render_html(findings, summary, targets))


def render_html(findings: list[Finding], summary: Summary, targets: list[str]) -> str:
    esc = html.escape
    rows = "".join(
        f'<tr class="{f.severity.label}"><td><span class="sev" style="background:'
        f'{_COLOR[f.severity]}">{f.severity.label}</span></td><td>{esc(f.target)}</td>'
        f'<td><code>{esc(f.check)}</code><br><small>{esc(CHECKS[f.check].title)}</small></td>'
        f"<td>{esc(f.evidence)}</td><td>{esc(f.remediation)}</td></tr>"
        for f in findings)
    summ = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in summary_rows(summary))
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pacsguard audit report</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}}
h1{{font-size:1.5em}} table{{border-collapse:collapse;width:100%;margin:1em 0}}
th,td{{border-bottom:1px solid #ddd;padding:.4em .6em;text-align:left;vertical-align:top}}
.summary{{width:auto}} .summary td{{text-align:right;font-weight:bold}}
.sev{{color:#fff;border-radius:3px;padding:.1em .5em;font-size:.85em}}
tr.info{{color:#777}} code{{font-size:.9em}} .lbl{{font:12px sans-serif}}
.note{{color:#555;font-size:.9em}}
</style></head><body>
<h1>pacsguard audit report</h1>
<p class="note">Generated {esc(when)} by pacsguard {esc(__version__)} for {len(targets)}
target(s). Counts only: no identifier returned by any peer was kept or shown.</p>
<h2>Summary</h2>
<div style="display:flex;gap:3em;flex-wrap:wrap">
<table class="summary">{summ}</table>
{_svg_chart(summary)}
</div>
<h2>Findings ({len(findings)})</h2>
<table><thead><tr><th>severity</th><th>target</th><th>check</th><th>evidence</th>
<th>remediation</th></tr></thead><tbody>{rows}</tbody></table>
</body></html>
"""
