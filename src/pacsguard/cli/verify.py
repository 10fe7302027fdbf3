"""``pacsguard verify ORIGINALS DEIDENTIFIED``: does a de-identified copy leak anything?"""

from __future__ import annotations

import argparse
from pathlib import Path

from pacsguard.errors import UsageError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "verify",
        help="check that a de-identified copy (made by any tool) leaks nothing",
        description="Index every identifying value of ORIGINALS and search every file of "
        "DEIDENTIFIED for it; check UIDs, grouping, date shifts and validity. "
        "Exit 0: no leak; 1: leaks found; 2: usage error.",
    )
    p.add_argument("originals", type=Path, metavar="ORIGINALS")
    p.add_argument("deidentified", type=Path, metavar="DEIDENTIFIED")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the JSON report (- = stdout)")
    p.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML report")
    p.add_argument("--show-values", action="store_true",
                   help="show identifying values in reports (masked by default)")
    p.add_argument("--pixel-detector", default="rapidocr", metavar="NAME",
                   help="text detector for pixels and overlays (default rapidocr; 'none' skips)")
    p.add_argument("--pixels", choices=("risky", "all"), default="risky",
                   help="which images to read text in: those that may carry burned-in text "
                   "(default, as deid does) or all")
    p.add_argument("--dciodvfy", choices=("sample", "all", "off"), default="sample",
                   help="compare dciodvfy errors with the original's: for one output per "
                   "series and element structure (default), for every output, or not at all")
    p.add_argument("--no-dciodvfy", action="store_true", help="same as --dciodvfy off")
    p.add_argument("-j", "--workers", type=int, default=0,
                   help="worker processes (0: one per CPU)")
    p.add_argument("--min-length", type=int, default=4, metavar="N",
                   help="shortest identifier searched for, in letters and digits (default 4)")
    p.add_argument("--max-rows", type=int, default=50, metavar="N",
                   help="leaks listed on the terminal (all are in JSON/HTML)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pacsguard.discover.render import verify_html, verify_terminal
    from pacsguard.discover.verify import verify_trees
    from pacsguard.report import make_console, write_json, write_text

    if args.min_length < 2:
        raise UsageError("--min-length must be at least 2")
    if args.workers < 0:
        raise UsageError("--workers must be 0 (one per CPU) or more")
    detector = None if args.pixel_detector in ("none", "") else args.pixel_detector
    report = verify_trees(
        args.originals, args.deidentified, show_values=args.show_values,
        pixel_detector=detector, pixels=args.pixels,
        dciodvfy="off" if args.no_dciodvfy else args.dciodvfy, min_length=args.min_length,
        workers=args.workers,
    )
    if args.json is not None:
        write_json(report.to_json(), args.json)
    if args.html is not None:
        write_text(verify_html(report), args.html)
    if not args.quiet and str(args.json) != "-":
        verify_terminal(report, make_console(), args.max_rows)
    return 0 if report.ok else 1
