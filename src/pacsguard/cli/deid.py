"""``pacsguard deid IN... OUT``: write a de-identified copy of DICOM files."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pacsguard.errors import UsageError

if TYPE_CHECKING:
    from pacsguard.profile.policy import Policy

log = logging.getLogger("pacsguard")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "deid", help="write a de-identified copy (PS3.15 Annex E)",
        description="De-identify DICOM files into OUT, following DICOM PS3.15 Annex E. "
        "Originals are never modified. Exit 0: all written; 1: some quarantined or failed; "
        "2: usage error.")
    p.add_argument("inputs", nargs="+", metavar="IN", help="input files or folders, or object "
                   "store prefixes (s3://BUCKET/PREFIX, gs://..., az://...)")
    p.add_argument("output", metavar="OUT", help="output folder or object store prefix "
                   "(s3://BUCKET/PREFIX: then --side-dir is required)")
    p.add_argument("-k", "--key-file", type=Path, help="secret key file (else $PACSGUARD_KEY, "
                   "else ~/.config/pacsguard/secret.key, generated on first use)")
    p.add_argument("-p", "--policy", type=Path, help="policy file (TOML)")
    p.add_argument("--profile", choices=("default", "basic"), help="start from the research "
                   "default (Basic Profile + 4 options) or the bare Basic Profile")
    p.add_argument("-o", "--option", action="append", default=[], metavar="NAME",
                   help="add a PS3.15 option by its name or slug, e.g. 'Retain UIDs' (repeatable)")
    p.add_argument("--no-option", action="append", default=[], metavar="NAME",
                   help="remove a PS3.15 option (repeatable)")
    pix = p.add_mutually_exclusive_group()
    pix.add_argument("--clean-pixels", action="store_true", default=None,
                     help="clean burned-in text of risky files (Clean Pixel Data; the default "
                     "profile does) instead of quarantining them")
    pix.add_argument("--no-clean-pixels", dest="clean_pixels", action="store_false",
                     help="quarantine files whose pixels may carry burned-in text")
    p.add_argument("-j", "--workers", type=int, default=0, help="worker processes (0: all cores); "
                   "with --executor dask and no --scheduler, the LocalCluster's workers")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local: worker processes on this machine (default); dask: a Dask "
                   "cluster (pacsguard[dask])")
    p.add_argument("--scheduler", metavar="ADDRESS", help="the Dask scheduler to use, e.g. "
                   "tcp://10.0.0.9:8786 (default: start a LocalCluster of -j workers)")
    p.add_argument("--batch-size", type=int, default=0, metavar="N", help="files per Dask task "
                   "(default: sized from the cluster's threads)")
    p.add_argument("--side-dir", type=Path, help="where the journal and quarantine list go "
                   "(default: OUT.pacsguard beside OUT; never inside OUT)")
    p.add_argument("--linkage", type=Path, metavar="SQLITE", help="also write the table "
                   "original patient <-> pseudonym (IDENTIFIES PEOPLE; off by default)")
    p.add_argument("--media", type=Path, metavar="DIR", help="also write the de-identified files "
                   "as a DICOM File-set with a new DICOMDIR in DIR (input DICOMDIRs are never copied)")
    p.add_argument("--file-timeout", type=float, default=120.0, metavar="SECONDS",
                   help="quarantine a file that takes longer than this (reason 'timeout') and "
                   "replace its worker (default 120; 0: no watchdog)")
    p.add_argument("--restart", action="store_true", help="ignore the journal of an earlier run")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the summary here")
    p.add_argument("--verify", action="store_true",
                   help="after writing, run 'pacsguard verify IN OUT' on the result")
    p.add_argument("--show-values", action="store_true", help="the review gallery also shows "
                   "the original images (they carry the burned-in identifiers)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def build_policy(args: argparse.Namespace) -> Policy:
    """Defaults, then the policy file, then command-line options."""
    from pacsguard.profile.options import Option, parse_option
    from pacsguard.profile.policy import Policy, load_policy

    policy = load_policy(args.policy) if args.policy else Policy()
    if args.profile == "basic":
        policy = replace(policy.with_options(remove=list(Option)), clean_pixels=False)
    add = [parse_option(o) for o in args.option]
    remove = [parse_option(o) for o in args.no_option]
    policy = policy.with_options(add=add, remove=remove)
    clean = policy.clean_pixels if args.clean_pixels is None else args.clean_pixels
    if Option.CLEAN_PIXEL_DATA in add:
        clean = True
    if Option.CLEAN_PIXEL_DATA in remove:
        clean = False
    # Clean Pixel Data is declared (CID 7050 113101) only on files whose pixels were cleaned.
    opts = policy.options | {Option.CLEAN_PIXEL_DATA} if clean else policy.options - {
        Option.CLEAN_PIXEL_DATA}
    return replace(policy, clean_pixels=clean, options=opts)


def location(text: str) -> Path | str:
    """An object store URL stays a string; anything else is a local path."""
    from pacsguard.io.objectstore import is_url, split_url

    if is_url(text):
        split_url(text)  # a bucket is required
        return text
    return Path(text)


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: --help and usage errors answer before pydicom loads.
    from pacsguard.batch.run import run_deid
    from pacsguard.batch.runner import DeidRun
    from pacsguard.batch.summary import SUMMARY_NAME
    from pacsguard.batch.worker import WorkerConfig
    from pacsguard.deid.keys import resolve_key
    from pacsguard.report.deid_files import write_summary
    from pacsguard.report.deid_summary import print_deid_summary
    from pacsguard.report.progress import progress_bar

    if args.workers < 0:
        raise UsageError("--workers must be 0 (all cores) or more")
    if args.batch_size < 0:
        raise UsageError("--batch-size must be 0 (automatic) or more")
    if args.scheduler and args.executor != "dask":
        raise UsageError("--scheduler needs --executor dask")
    inputs = [location(i) for i in args.inputs]
    output = location(args.output)
    if isinstance(output, str) and args.side_dir is None:
        raise UsageError("--side-dir is required when OUT is an object store (the journal and "
                         "the quarantine list stay on local disk)")
    if any(isinstance(i, str) for i in inputs) and not all(isinstance(i, str) for i in inputs):
        raise UsageError("inputs are either all local or all in object stores")
    remote = isinstance(output, str) or isinstance(inputs[0], str)
    if remote and (args.media or args.verify):
        raise UsageError("--media and --verify need local inputs and output")
    if not args.file_timeout >= 0:
        raise UsageError("--file-timeout must be 0 (off) or a number of seconds")
    policy = build_policy(args)
    key, generated = resolve_key(args.key_file)
    if generated:
        print(f"pacsguard deid: generated a new secret key at {key.source} (fingerprint "
              f"{key.fingerprint}); keep it safe, and reuse it to get the same pseudonyms",
              file=sys.stderr)
    if args.linkage:
        print("pacsguard deid: WARNING: the linkage table identifies people; store it as "
              "securely as the originals", file=sys.stderr)
    cfg = WorkerConfig(policy=policy, key=key, linkage=bool(args.linkage),
                       show_values=args.show_values)
    if args.media and any(args.media.resolve() == Path(r).resolve()
                          or Path(r).resolve() in args.media.resolve().parents for r in inputs):
        raise UsageError("--media must not be inside an input folder")
    run_cfg = DeidRun(inputs=inputs, out_dir=output, worker=cfg,
                      side_dir=args.side_dir, workers=args.workers, linkage_path=args.linkage,
                      restart=args.restart, file_timeout=args.file_timeout,
                      executor=args.executor, scheduler=args.scheduler, batch_size=args.batch_size)
    show = not args.no_progress and not args.quiet and sys.stderr.isatty()
    with progress_bar("de-identifying", enabled=show) as tick:
        run_cfg.progress = tick
        summary = run_deid(run_cfg)
    if args.media:
        from pacsguard.io.media import write_media

        n = write_media(sorted(Path(args.output).rglob("*.dcm")), args.media)
        if not args.quiet:
            print(f"pacsguard deid: wrote a DICOMDIR indexing {n} file(s) in {args.media}")
    if args.json:
        write_summary(summary.to_json(), [args.json])
    if not args.quiet:
        where = (output / SUMMARY_NAME if isinstance(output, Path)
                 else f"{output.rstrip('/')}/{SUMMARY_NAME}")
        print_deid_summary(summary.to_json(), where, run_cfg.side)
    code = summary.exit_code
    if args.verify:
        code = max(code, _verify(args))
    return code


def _verify(args: argparse.Namespace) -> int:
    from pacsguard.discover.verify import verify_trees

    if len(args.inputs) != 1:
        raise UsageError("--verify needs exactly one input folder (run 'pacsguard verify' per input)")
    report = verify_trees(Path(args.inputs[0]), Path(args.output), show_values=False)
    print(f"pacsguard deid --verify: {'no leak found' if report.ok else 'LEAKS FOUND'} "
          f"({len(report.leaks)} leak(s))")
    return 0 if report.ok else 1

