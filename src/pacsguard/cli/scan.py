"""``pacsguard scan PATH``: inventory of the personal data in a file or a tree."""

from __future__ import annotations

import argparse
from pathlib import Path

from pacsguard.errors import InputError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "scan",
        help="inventory the personal data in a DICOM file or tree",
        description="List, per attribute and category, the personal data found, how many "
        "files and patients carry it, and risk flags (burned-in text, overlays, encapsulated "
        "documents, unknown private creators). Values are masked unless --show-values.",
    )
    p.add_argument("path", type=Path, metavar="PATH")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the JSON report (- = stdout)")
    p.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML report")
    p.add_argument("--show-values", action="store_true", help="show values (masked by default)")
    p.add_argument("--max-rows", type=int, default=60, metavar="N",
                   help="attributes listed on the terminal (all are in JSON/HTML)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pacsguard.discover.render import scan_html, scan_terminal
    from pacsguard.discover.scan import scan_tree
    from pacsguard.report import make_console, write_json, write_text

    if not args.path.exists():
        raise InputError("PATH does not exist")  # not repeated: it may name a patient
    report = scan_tree(args.path, show_values=args.show_values)
    if args.json is not None:
        write_json(report.to_json(), args.json)
    if args.html is not None:
        write_text(scan_html(report), args.html)
    if not args.quiet and str(args.json) != "-":
        scan_terminal(report, make_console(), args.max_rows)
    return 0
