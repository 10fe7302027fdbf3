"""Terminal and HTML renderings of the verify and scan reports (values already masked)."""

from __future__ import annotations

from rich.console import Console

from pacsguard.discover.findings import KINDS, VerifyReport, mask_value
from pacsguard.discover.scan import ScanReport
from pacsguard.report import HtmlPage, data_table, summary_table

__all__ = ["scan_html", "scan_terminal", "verify_html", "verify_terminal"]

_LEVELS = ("patients", "studies", "series", "instances")


def _leak_rows(report: VerifyReport) -> list[list[str]]:
    rows = []
    for leak in sorted(report.leaks):
        row = [leak.path, leak.location, leak.kind, leak.category or "-", leak.detail]
        if report.show_values:
            row.append(leak.value or "")
        rows.append(row)
    return rows


def _leak_columns(report: VerifyReport) -> list[str]:
    cols = ["output", "location", "kind", "category", "detail"]
    return [*cols, "value"] if report.show_values else cols


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
        console.print(data_table("leaks", _leak_columns(report), _leak_rows(report), max_rows))
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
        page.heading("Leaks")
        page.table(_leak_columns(report), _leak_rows(report), mono=(0, 1))
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
