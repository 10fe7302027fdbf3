"""``pacsguard audit TARGETS...``: find exposed DICOM, DICOMweb and web-viewer endpoints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pacsguard.audit.identity import DEFAULT_CALLING_AE
from pacsguard.errors import UsageError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``audit`` subcommand."""
    p = subparsers.add_parser(
        "audit",
        help="find exposed DICOM, DICOMweb and web-viewer endpoints (counts only)",
        description="Audit your own PACS endpoints the way external researchers do: "
        "detect DICOM/web services, test AE-title enforcement and anonymous queries, "
        "count (never show) exposed patients, studies and images.",
    )
    p.add_argument("targets", nargs="+", metavar="TARGET",
                   help="host, host:port, CIDR, http(s)://URL, or @FILE with one per line")
    p.add_argument("--allow-public", action="store_true",
                   help="allow targets outside loopback and private ranges (yours only!)")
    p.add_argument("--calling-ae", default=DEFAULT_CALLING_AE,
                   help="calling AE title (%(default)s)")
    p.add_argument("--ae-list", type=Path, metavar="FILE",
                   help="called AE titles to guess, one per line (default: a short vendor list)")
    p.add_argument("--max-results", type=int, default=1000,
                   help="stop each C-FIND with C-CANCEL after this many matches (%(default)s)")
    p.add_argument("--try-move-unregistered", action="store_true",
                   help="C-MOVE a random non-existent study to a random AE to see if it is refused")
    p.add_argument("--try-default-credentials", action="store_true",
                   help="try published default web passwords (orthanc:orthanc, ...)")
    p.add_argument("--timeout", type=float, default=5.0,
                   help="seconds per network operation (%(default)s)")
    p.add_argument("--concurrency", type=int, default=32,
                   help="endpoints audited in parallel (%(default)s)")
    p.add_argument("--rate", type=float, default=200.0,
                   help="new connections per second, all endpoints together; 0 = unlimited")
    p.add_argument("--fail-on", default="high", metavar="SEVERITY",
                   help="exit 1 if any finding is at least this severe "
                   "(info, low, medium, high, critical; default %(default)s)")
    p.add_argument("--json", type=Path, metavar="FILE", help="write findings + summary as JSON")
    p.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML report")
    p.add_argument("--show-info", action="store_true", help="list informational notes too")
    p.set_defaults(func=run)


def _ae_list(path: Path | None) -> tuple[str, ...]:
    if path is None:
        from pacsguard.audit.dicom import DEFAULT_AE_LIST

        return DEFAULT_AE_LIST
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read AE list {path.name!r} (ASCII, one title per line)") from exc
    titles = tuple(t for line in lines if (t := line.split("#", 1)[0].strip()))
    bad = [t for t in titles if len(t) > 16 or "\\" in t]
    if bad or not titles:
        raise UsageError(f"AE list {path.name!r} needs 1-16 character titles, one per line")
    return titles


def run(args: argparse.Namespace) -> int:
    """Parse, audit, report; exit code 1 if a finding reaches --fail-on."""
    from pacsguard.audit.dicom import DicomOptions
    from pacsguard.audit.findings import Severity, all_findings, summarize
    from pacsguard.audit.report import print_terminal, to_document, write_html, write_json
    from pacsguard.audit.runner import AuditOptions, run_audit
    from pacsguard.audit.targets import parse_targets
    from pacsguard.audit.web import WebOptions

    fail_on = Severity.parse(args.fail_on)
    if args.timeout <= 0 or args.concurrency < 1 or args.rate < 0 or args.max_results < 1:
        raise UsageError("--timeout, --concurrency and --max-results must be positive, --rate >= 0")
    if not 0 < len(args.calling_ae.strip()) <= 16:
        raise UsageError("--calling-ae must be 1-16 characters")
    endpoints = parse_targets(args.targets, allow_public=args.allow_public)
    opts = AuditOptions(
        dicom=DicomOptions(calling_ae=args.calling_ae.strip(), ae_list=_ae_list(args.ae_list),
                           timeout=args.timeout, max_results=args.max_results,
                           try_move_unregistered=args.try_move_unregistered),
        web=WebOptions(timeout=args.timeout, try_default_credentials=args.try_default_credentials),
        concurrency=args.concurrency, rate=args.rate)
    results = run_audit(endpoints, opts)
    findings = all_findings(results)
    summary = summarize(results)
    labels = [ep.label for ep in endpoints]
    if args.json:
        write_json(args.json, to_document(findings, summary, labels))
    if args.html:
        write_html(args.html, findings, summary, labels)
    if not args.quiet:
        print_terminal(findings, summary, sys.stdout,
                       Severity.INFO if args.show_info else Severity.LOW)
    return 1 if any(f.severity >= fail_on for f in findings) else 0
