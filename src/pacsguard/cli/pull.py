"""``pacsguard pull``: find studies on a PACS, retrieve them (C-MOVE or C-GET) and
de-identify them on arrival into OUT (deid's layout and journal), or forward them as the
gateway does."""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pacsguard.cli.gateway import add_forward_args, add_policy_args, host_port, worker_config
from pacsguard.errors import PacsguardError, UsageError

log = logging.getLogger("pacsguard")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "pull", help="retrieve studies from a PACS and de-identify them on arrival",
        description="C-FIND (Study Root) on --from, then C-MOVE to our own listener (--ae-title "
        "must be configured at the source as a move destination) or C-GET (--get). Instances "
        "are de-identified into OUT with deid's layout and journal (a rerun fetches only what "
        "is missing), or forwarded like the gateway does. Exit codes as for deid.")
    p.add_argument("output", nargs="?", type=Path, metavar="OUT", help="output folder")
    p.add_argument("--from", dest="source", required=True, metavar="AET@HOST:PORT")
    p.add_argument("--ae-title", required=True, metavar="AET")
    p.add_argument("--listen", default="0.0.0.0:11113", metavar="HOST:PORT",
                   help="where the source's C-MOVE sends to (default 0.0.0.0:11113; not "
                   "used with --get)")
    p.add_argument("--get", action="store_true", help="retrieve by C-GET (no configuration "
                   "needed at the source)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--query", action="append", metavar="KEYWORD=VALUE",
                      help="C-FIND key, repeatable (e.g. PatientID=123, StudyDate=20240101-)")
    what.add_argument("--studies", type=Path, metavar="FILE", help="Study Instance UIDs, one "
                      "per line")
    what.add_argument("--all", action="store_true", help="every study the source lists")
    p.add_argument("--concurrency", type=int, default=1, help="retrieves at once (default 1: a "
                   "PACS is production)")
    p.add_argument("--spool", type=Path, metavar="DIR", help="private folder for retrieved "
                   "originals and, with --forward, the gateway's spool (default: beside OUT)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the summary here")
    add_forward_args(p, required=False)
    add_policy_args(p)
    p.set_defaults(func=run)


def _studies(args: argparse.Namespace, retriever: Any) -> list[str]:
    from pacsguard.io.retrieve import parse_query

    if args.studies:
        try:
            lines = args.studies.read_text(encoding="ascii").split()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--studies: cannot read the list ({type(exc).__name__})") from exc
        return list(dict.fromkeys(x for x in lines if x))
    query = {} if args.all else parse_query(args.query)
    if not args.all and not any(v.strip("*? ") for v in query.values()):
        raise UsageError("refusing an empty query (it would retrieve every study of the "
                         "PACS); give --query KEYWORD=VALUE, or --all if you mean it")
    return retriever.find_studies(query)  # type: ignore[no-any-return]


def _slug(uid: str) -> str:
    """What the done list keeps of a study: a digest, never the original Study UID."""
    return hashlib.sha256(uid.encode()).hexdigest()[:24]


def run(args: argparse.Namespace) -> int:
    from pacsguard.io.forward import parse_ae_address
    from pacsguard.io.retrieve import Retrieved, Retriever, StoreListener
    from pacsguard.report.progress import study_bars

    if (args.output is None) == (not args.forward):
        raise UsageError("give either OUT or --forward DEST")
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    source = parse_ae_address(args.source, "--from")
    cfg = worker_config(args, "pull")
    base = args.spool or (args.output.with_name(args.output.name + ".pacsguard-pull")
                          if args.output else Path("pacsguard-pull-spool"))
    incoming = base / "retrieved"
    incoming.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o700)  # it holds originals
    done_file = base / "studies-done.txt"
    done = set(done_file.read_text().split()) if done_file.exists() else set()
    retriever = Retriever(source, args.ae_title, incoming, use_get=args.get)
    studies = _studies(args, retriever)
    todo = [s for s in studies if _slug(s) not in done]
    if not args.quiet:
        print(f"pacsguard pull: {len(studies)} stud(ies) found, {len(studies) - len(todo)} "
              f"already done, {len(todo)} to retrieve", file=sys.stderr)
    listener = None
    if not args.get and todo:
        try:
            listener = StoreListener(args.ae_title, incoming, *host_port(args.listen, "--listen"))
        except OSError as exc:
            raise UsageError(f"cannot listen on {args.listen}: {exc.strerror or exc}") from exc
    results: list[Retrieved] = []
    lock = threading.Lock()
    show = not args.no_progress and not args.quiet and sys.stderr.isatty()
    try:
        with study_bars(enabled=show) as new_bar, ThreadPoolExecutor(args.concurrency) as pool:
            def one(n_study: tuple[int, str]) -> None:
                n, uid = n_study
                tick = new_bar(f"study {n}/{len(todo)}")
                try:
                    r = retriever.retrieve(uid, tick)
                except PacsguardError as exc:
                    r = Retrieved(uid, 0, 0, 0, False, str(exc))
                with lock:
                    results.append(r)
            list(pool.map(one, enumerate(todo, 1)))
    finally:
        if listener is not None:
            listener.close()
    retrieved = [r.study_uid for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    for r in failed:
        log.error("a study could not be retrieved whole: %s", r.detail)
    if args.output is not None:
        code = _deid(args, cfg, incoming, base)
    else:
        code = _forward(args, cfg, incoming, base)
    if code == 0 or code == 1:
        with open(done_file, "a", encoding="ascii") as fh:
            for uid in retrieved:
                fh.write(_slug(uid) + "\n")
    if not args.quiet:
        print(f"pacsguard pull: {len(retrieved)} stud(ies) retrieved, {len(failed)} failed",
              file=sys.stderr)
    return max(code, 1 if failed else 0)


def _deid(args: argparse.Namespace, cfg: Any, incoming: Path, base: Path) -> int:
    """The same runner, journal and layout as ``deid`` over the retrieved originals; what it
    settled is removed from the private folder (a rerun retries the rest)."""
    from pacsguard.batch.journal import Journal
    from pacsguard.batch.run import run_deid
    from pacsguard.batch.runner import DeidRun
    from pacsguard.batch.summary import SUMMARY_NAME
    from pacsguard.report.deid_files import write_summary
    from pacsguard.report.deid_summary import print_deid_summary
    from pacsguard.report.progress import progress_bar

    run_cfg = DeidRun(inputs=[incoming], out_dir=args.output, worker=cfg, workers=args.workers,
                      file_timeout=args.file_timeout)
    show = not args.no_progress and not args.quiet and sys.stderr.isatty()
    with progress_bar("de-identifying", enabled=show) as tick:
        run_cfg.progress = tick
        summary = run_deid(run_cfg)
    with Journal(run_cfg.side / "journal.sqlite") as journal:
        for f in sorted(incoming.glob("*.dcm")):
            if journal.finished(str(f)) is not None:
                f.unlink()
    if args.json:
        write_summary(summary.to_json(), [args.json])
    if not args.quiet:
        print_deid_summary(summary.to_json(), args.output / SUMMARY_NAME, run_cfg.side)
    return summary.exit_code


def _forward(args: argparse.Namespace, cfg: Any, incoming: Path, base: Path) -> int:
    """The gateway's spool, workers and forwarders, fed from the retrieved files; waits
    until every destination has settled every instance (or is unreachable: what is left
    stays in the spool, and a rerun resumes it)."""
    import time

    from pacsguard.cli.gateway import backoff, forward_tls
    from pacsguard.gateway import Gateway, GatewayConfig

    gw = Gateway(GatewayConfig(listen=("127.0.0.1", 0), ae_title=args.ae_title,
                               spool=base / "spool", forward=list(args.forward), worker=cfg,
                               workers=args.workers, forward_tls=forward_tls(args),
                               backoff=backoff(args), file_timeout=args.file_timeout))
    gw.start(listen=False)
    for f in sorted(incoming.glob("*.dcm")):
        tmp = gw.spool.incoming / f.name
        os.replace(f, tmp)  # one file system (both under the pull's folder): a rename, no copy
        gw.ingest(tmp)  # lost here by a crash? the study is not marked done: a rerun fetches it
    last, since = -1, time.monotonic()
    while True:  # until all is settled, or nothing moved for a minute (a destination down)
        s = gw.snapshot()
        queued = sum(d["queued"] for d in s["destinations"].values())
        if s["awaiting_deid"] == 0 and queued == 0:
            break
        moved = sum(d["forwarded"] + d["dead_lettered"] for d in s["destinations"].values())
        if moved != last:
            last, since = moved, time.monotonic()
        elif time.monotonic() - since > 60:
            break
        time.sleep(0.2)
    gw.stop()
    s = gw.snapshot()
    left = sum(d["queued"] for d in s["destinations"].values())
    dead = sum(d["dead_lettered"] for d in s["destinations"].values())
    if not args.quiet:
        print(f"pacsguard pull: {s['deidentified']} de-identified, {s['quarantined']} "
              f"quarantined, {dead} dead-lettered, {left} still queued in {base / 'spool'}",
              file=sys.stderr)
    return 1 if (left or dead or s["quarantined"]) else 0
