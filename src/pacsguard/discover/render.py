"""Terminal and HTML renderings of the verify and scan reports (values already masked)."""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from rich.console import Console

from pacsguard.discover.findings import KINDS, VerifyReport, mask_value
from pacsguard.discover.scan import ScanReport
from pacsguard.report import HtmlPage, RowGroup, data_table, grouped_tables, summary_table

__all__ = ["scan_html", "scan_terminal", "short_path", "verify_html", "verify_terminal"]

_LEVELS = ("patients", "studies", "series", "instances")
_NONE = "–"
#: The terminal leak listing stays readable in a 110-column window even when wider.
_TERMINAL_WIDTH = 110


def short_path(path: str, keep: int = 2) -> str:
    """The last ``keep`` components of a POSIX path, the rest elided as "…".

    The end of an output path tells files apart (series folder, file name); its start is
    the same long prefix in every row and would only push the other columns aside.
    """
    parts = path.split("/")
    return path if len(parts) <= keep else "…/" + "/".join(parts[-keep:])


def _leak_groups(report: VerifyReport) -> tuple[list[str], list[int], list[RowGroup]]:
    """Columns, their relative widths, and the alarms grouped by output file (or folder).

    The columns a reviewer judges an alarm by come first: where, what kind, which attribute
    of the original it came from and its PS3.15 action, why. Source and action are
    dropped when no alarm has one, rather than showing a column of dashes.
    """
    leaks = sorted(report.leaks)
    provenance = any(leak.source or leak.action for leak in leaks)
    cols: list[tuple[str, int]] = [("location", 30), ("kind", 14)]
    if provenance:
        cols += [("source attribute", 20), ("action", 8)]
    cols.append(("reason", 36))
    if report.show_values:
        cols.append(("value", 16))
    groups = []
    for path, items in groupby(leaks, key=lambda leak: leak.path):
        rows: list[list[object]] = []
        kinds: Counter[str] = Counter()
        for leak in items:
            kinds[leak.kind] += 1
            row: list[object] = [leak.location,
                                 f"{leak.kind} · {leak.category}" if leak.category else leak.kind]
            if provenance:
                row += [leak.source or _NONE, leak.action or _NONE]
            row.append(leak.detail or _NONE)
            if report.show_values:
                row.append(leak.value or _NONE)
            rows.append(row)
        n = len(rows)
        note = f"{n} alarm{'s' if n > 1 else ''}: " + ", ".join(
            f"{k} ×{c}" if c > 1 else k for k, c in sorted(kinds.items()))
        groups.append(RowGroup(short_path(path), path, rows, note))
    return [c for c, _ in cols], [w for _, w in cols], groups


def verify_terminal(report: VerifyReport, console: Console, max_rows: int = 50) -> None:
    verdict = "OK: no leak found" if report.ok else f"LEAKS: {len(report.leaks)} found"
    console.print(summary_table(f"pacsguard verify -- {verdict}", [
        ("originals", report.originals),
        ("outputs (DICOM)", report.outputs),
        ("other output files", report.other_files),
        ("paired", report.paired),
        ("identifiers indexed", report.identifiers_indexed),
        ("in  patients/studies/series/instances",
         "/".join(str(report.counts_in.get(k, 0)) for k in _LEVELS)),
        ("out patients/studies/series/instances",
         "/".join(str(report.counts_out.get(k, 0)) for k in _LEVELS)),
        ("validity", report.validity_check),
        ("pixels", report.pixel_check),
    ]))
    if report.leaks:
        console.print(data_table("leaks by kind", ["kind", "count", "meaning"],
                                 [[k, n, KINDS.get(k, "")] for k, n in report.by_kind().items()]))
        cols, widths, groups = _leak_groups(report)
        # A kind or value cut over two lines is hard to read (and to search for): kinds and
        # short values stay whole.
        mins = [0] * len(cols)
        mins[cols.index("kind")] = max(len(leak.kind) for leak in report.leaks)
        if report.show_values:
            mins[-1] = min(30, max(len(leak.value or "") for leak in report.leaks))
        console.print(grouped_tables("leaks by output file", cols, groups, widths,
                                     min(console.width, _TERMINAL_WIDTH), max_rows, mins))
    for note in report.notes:
        console.print(f"note: {note}")


def verify_html(report: VerifyReport) -> str:
    verdict = "no leak found" if report.ok else f"{len(report.leaks)} leak(s) found"
    page = HtmlPage("pacsguard verify", f"Result: {verdict}. Values are "
                    + ("shown (--show-values)." if report.show_values else "not shown."))
    page.cards([("leaks", len(report.leaks)), ("originals", report.originals),
                ("outputs", report.outputs), ("paired", report.paired),
                ("identifiers indexed", report.identifiers_indexed)],
               bad=["leaks"] if report.leaks else [], good=[] if report.leaks else ["leaks"])
    page.heading("Counts")
    page.table(["level", "originals", "de-identified"],
               [[k, report.counts_in.get(k, 0), report.counts_out.get(k, 0)] for k in _LEVELS],
               numeric=(1, 2))
    page.heading("Leaks by kind")
    page.bar_chart("leaks by kind", list(report.by_kind().items()))
    if report.leaks:
        cols, widths, groups = _leak_groups(report)
        page.heading("Leaks by output file")
        page.paragraph(f"{len(report.leaks)} alarm(s) in {len(groups)} file(s) or folder(s). "
                       "Paths are shortened to their last two parts; hover a heading for the "
                       "full path.", "note")
        page.grouped_table(cols, groups, widths, mono=(0,))
    page.heading("Checks")
    page.table(["check", "status"], [["validity", report.validity_check],
                                     ["pixels and overlays", report.pixel_check]])
    for note in report.notes:
        page.paragraph(note, "note")
    return page.render()


def _attr_rows(report: ScanReport) -> list[list[object]]:
    rows: list[list[object]] = []
    for s in report.sorted_attributes():
        ex = s.examples if report.show_values else [mask_value(e) for e in s.examples]
        rows.append([s.key, s.keyword, s.category, len(s.files), len(s.patients), " | ".join(ex)])
    return rows


def _risk_rows(report: ScanReport) -> list[list[object]]:
    return [[r.flag, r.detail, len(r.files), len(r.patients)]
            for r in sorted(report.risks.values(), key=lambda r: (r.flag, r.detail))]


def scan_terminal(report: ScanReport, console: Console, max_rows: int = 60) -> None:
    console.print(summary_table("pacsguard scan", [
        ("files", report.files_total), ("DICOM", report.dicom_files),
        ("other", report.other_files), ("unreadable", report.unreadable),
        *[(k, report.counts.get(k, 0)) for k in _LEVELS],
    ]))
    console.print(data_table("personal data by category (attributes)", ["category", "attributes"],
                             list(report.by_category().items())))
    console.print(data_table("attributes carrying personal data",
                             ["attribute", "keyword", "category", "files", "patients", "examples"],
                             _attr_rows(report), max_rows))
    if report.risks:
        console.print(data_table("risk flags", ["flag", "detail", "files", "patients"],
                                 _risk_rows(report)))


def scan_html(report: ScanReport) -> str:
    page = HtmlPage("pacsguard scan", "Inventory of personal data. Values are "
                    + ("shown (--show-values)." if report.show_values else "masked."))
    page.cards([*[(k, report.counts.get(k, 0)) for k in _LEVELS],
                ("attributes", len(report.attributes)), ("risk flags", len(report.risks))],
               bad=["risk flags"] if report.risks else [])
    page.heading("Personal data by category")
    page.bar_chart("attributes per category", list(report.by_category().items()))
    page.heading("Attributes")
    page.table(["attribute", "keyword", "category", "files", "patients", "examples"],
               _attr_rows(report), numeric=(3, 4), mono=(0,))
    page.heading("Risk flags")
    if report.risks:
        page.bar_chart("files per risk flag",
                       [(r.flag, len(r.files)) for r in sorted(report.risks.values(),
                                                               key=lambda r: r.flag)])
        page.table(["flag", "detail", "files", "patients"], _risk_rows(report), numeric=(2, 3))
    else:
        page.paragraph("No risk flag.")
    page.paragraph(f"{report.files_total} file(s): {report.dicom_files} DICOM, "
                   f"{report.other_files} other, {report.unreadable} unreadable.", "note")
    return page.render()
