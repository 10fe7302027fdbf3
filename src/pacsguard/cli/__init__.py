"""The ``pacsguard`` command: one entry point, one module per subcommand.

Each subcommand module exposes ``register(subparsers)``, which adds its parser
and sets ``func`` to a callable taking the parsed namespace and returning an
exit code. Exit codes follow dcmtk-like manners:

* 0 -- everything asked was done (all written, no leak, no finding at or above ``--fail-on``);
* 1 -- the run finished but some files were quarantined/failed, a leak or a finding was reported;
* 2 -- usage or input error (bad argument, missing key, invalid policy, unusable output);
* 130 -- interrupted (Ctrl-C); a rerun resumes.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from pacsguard import __version__
from pacsguard.errors import PacsguardError

# Subcommand modules, in the order ``--help`` lists them.
_SUBCOMMANDS = ("deid", "verify", "scan", "audit", "gateway", "pull", "sample", "keygen")


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every available subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="pacsguard",
        description="Find where medical images leak personal data, and mask it.",
    )
    parser.add_argument("--version", action="version", version=f"pacsguard {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (repeat for debug)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMANDS:
        importlib.import_module(f"pacsguard.cli.{name}").register(sub)
    return parser


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="pacsguard: %(levelname)s: %(message)s", stream=sys.stderr)
    if verbose < 3:
        # pydicom and pynetdicom log parse problems with values in them. A filter on the
        # handler, not a logger level: pydicom sets its own level when it is first imported,
        # which happens after this (lazily, in the subcommand).
        for handler in logging.getLogger().handlers:
            handler.addFilter(_third_party_quiet)


def _third_party_quiet(record: logging.LogRecord) -> bool:
    return not record.name.startswith(("pydicom", "pynetdicom"))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    _configure_logging(args.verbose, args.quiet)
    try:
        if args.command in ("deid", "verify", "scan"):  # the commands that may read pixels
            from pacsguard.pixels.runtime import check_environment

            check_environment()
        return int(args.func(args))
    except PacsguardError as exc:
        print(f"pacsguard {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"pacsguard {args.command}: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
