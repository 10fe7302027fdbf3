"""``pacsguard sample``: write the built-in synthetic, identifying sample data.

Writes the demo tree (or, with ``--ct-slices``, one large CT series for
benchmarks) into OUTDIR and its ground-truth manifest beside it, at
``OUTDIR.manifest.json``, so that de-identifying OUTDIR never sees it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pacsguard.errors import OutputError, UsageError


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def register(subparsers: Any) -> None:
    """Add the ``sample`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "sample",
        help="write synthetic identifying DICOM sample data and its manifest",
        description=(
            "Write a realistic, identifying (but entirely fake) DICOM export tree into OUTDIR, "
            "or one CT series with --ct-slices, and a ground-truth manifest beside it "
            "(OUTDIR.manifest.json)."
        ),
    )
    parser.add_argument("outdir", metavar="OUTDIR", help="new or empty folder to write into")
    parser.add_argument(
        "--patients",
        type=_positive,
        default=4,
        help="number of fake patients in the demo tree (default 4)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for UIDs and pixels (default 0)")
    parser.add_argument(
        "--ct-slices",
        type=_positive,
        metavar="N",
        help="write one CT series of N slices instead of the demo tree",
    )
    parser.add_argument("--rows", type=_positive, default=512, help="CT rows (default 512)")
    parser.add_argument("--cols", type=_positive, default=512, help="CT columns (default 512)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the samples; return 0."""
    from pacsguard.samples import PATIENTS, write_ct_series, write_demo_tree
    from pacsguard.samples.tree import check_empty_output

    outdir = Path(args.outdir)
    if not str(args.outdir).strip() or outdir.resolve() == Path(outdir.anchor).resolve():
        raise UsageError("OUTDIR must name a folder below the file-system root")
    manifest_path = outdir.parent / (outdir.name + ".manifest.json")
    check_empty_output(outdir)
    if manifest_path.exists():
        raise OutputError("a manifest already exists beside OUTDIR; pick a new OUTDIR")
    if args.ct_slices is None and (args.rows != 512 or args.cols != 512):
        raise UsageError("--rows and --cols only apply with --ct-slices")
    if args.ct_slices is not None and not (16 <= args.rows <= 4096 and 16 <= args.cols <= 4096):
        raise UsageError("--rows and --cols must be between 16 and 4096")
    if args.ct_slices is not None and args.ct_slices > 100_000:
        raise UsageError("--ct-slices must be at most 100000")
    if args.patients > len(PATIENTS):
        raise UsageError(f"--patients must be between 1 and {len(PATIENTS)}")
    try:
        if args.ct_slices is not None:
            manifest = write_ct_series(
                outdir, n_slices=args.ct_slices, rows=args.rows, cols=args.cols, seed=args.seed
            )
        else:
            manifest = write_demo_tree(outdir, patients=args.patients, seed=args.seed)
        manifest_path.write_text(manifest.to_json(), encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write the samples: {exc.strerror or 'I/O error'}") from exc
    dicom = sum(1 for f in manifest.files if f.kind != "non-dicom")
    studies = len({(f.patient, f.study) for f in manifest.files if f.study is not None})
    kinds = len({f.kind for f in manifest.files if f.kind not in ("non-dicom", "DICOMDIR")})
    print(
        f"pacsguard sample: wrote {len(manifest.files)} files ({dicom} DICOM, "
        f"{len(manifest.patients)} patients, {studies} studies, {kinds} kinds) "
        f"and {manifest_path.name} beside the output folder"
    )
    return 0
