"""``pacsguard gateway``: receive over DICOM, de-identify, forward; never lose an instance."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import re
import signal
import ssl
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pacsguard.cli.deid import build_policy
from pacsguard.errors import UsageError

if TYPE_CHECKING:
    from pacsguard.batch.worker import WorkerConfig

log = logging.getLogger("pacsguard")


def host_port(text: str, what: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536 or not host:
        raise UsageError(f"{what} {text!r}: expected HOST:PORT")
    return host.strip("[]"), int(port)


def parse_size(text: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)i?[bB]?", text.strip())
    if not m:
        raise UsageError(f"--spool-max {text!r}: expected a size such as 500M or 20G")
    scale = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m[2].lower()]
    return int(float(m[1]) * scale)


def add_policy_args(p: Any) -> None:
    p.add_argument("-k", "--key-file", type=Path, help="secret key file (as for deid: the same "
                   "key gives the same pseudonyms and UIDs)")
    p.add_argument("-p", "--policy", type=Path, help="policy file (TOML)")
    p.add_argument("--profile", choices=("default", "basic"), help="as for deid")
    p.add_argument("-o", "--option", action="append", default=[], metavar="NAME",
                   help="add a PS3.15 option (repeatable)")
    p.add_argument("--no-option", action="append", default=[], metavar="NAME",
                   help="remove a PS3.15 option (repeatable)")
    pix = p.add_mutually_exclusive_group()
    pix.add_argument("--clean-pixels", action="store_true", default=None)
    pix.add_argument("--no-clean-pixels", dest="clean_pixels", action="store_false")
    p.add_argument("-j", "--workers", type=int, default=0,
                   help="de-identification worker processes (0: all cores)")
    p.add_argument("--file-timeout", type=float, default=120.0, metavar="SECONDS",
                   help="quarantine an instance that takes longer than this (reason 'timeout') "
                   "and replace its worker (default 120; 0: no watchdog)")


def add_forward_args(p: Any, *, required: bool) -> None:
    p.add_argument("--forward", action="append", default=[], required=required, metavar="DEST",
                   help="AET@HOST:PORT (C-STORE), an http(s):// DICOMweb base URL (STOW-RS) or a "
                   "folder (deid's layout); repeatable")
    p.add_argument("--retry-base", type=float, default=1.0, metavar="SECONDS",
                   help="first retry delay; doubles per attempt, with jitter (default 1)")
    p.add_argument("--retry-cap", type=float, default=300.0, metavar="SECONDS",
                   help="longest retry delay (default 300)")
    p.add_argument("--max-attempts", type=int, default=10,
                   help="attempts before an instance a destination keeps refusing is "
                   "dead-lettered (default 10); an unreachable destination uses none")
    p.add_argument("--forward-tls-ca", type=Path, metavar="CA", help="use TLS to AE "
                   "destinations, trusting this CA (client certificate: --tls-cert/--tls-key)")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "gateway", help="receive DICOM, de-identify, forward (never loses an instance)",
        description="A DICOM node (C-STORE SCP) that de-identifies every instance it receives "
        "with the same pipeline, policy and key as 'deid' and forwards it to one or more "
        "destinations. An instance is acknowledged only once it is fsync'd in the spool.")
    p.add_argument("--listen", required=True, metavar="HOST:PORT")
    p.add_argument("--ae-title", required=True, metavar="AET")
    p.add_argument("--spool", required=True, type=Path, metavar="DIR")
    p.add_argument("--spool-max", metavar="SIZE", help="answer Out of Resources (0xA700) to new "
                   "C-STOREs while the spool holds this much (e.g. 20G)")
    p.add_argument("--allow", action="append", default=[], metavar="AET[@HOST]",
                   help="calling AE title (and host) allowed to associate; repeatable "
                   "(default: any)")
    add_forward_args(p, required=True)
    add_policy_args(p)
    p.add_argument("--status", metavar="HOST:PORT", help="serve /status, /metrics, /healthz")
    p.add_argument("--tls-cert", type=Path, metavar="C")
    p.add_argument("--tls-key", type=Path, metavar="K")
    p.add_argument("--tls-ca", type=Path, metavar="CA")
    p.add_argument("--require-client-cert", action="store_true")
    p.add_argument("--study-quiet", type=float, default=0.0, metavar="SECONDS",
                   help="hold a study until none of its instances arrived for this long, then "
                   "forward it in one association (default 0: off)")
    p.add_argument("--max-pdu", type=int, default=262144, help="largest PDU we receive")
    p.set_defaults(func=run)


def worker_config(args: argparse.Namespace, command: str) -> WorkerConfig:
    from pacsguard.batch.worker import WorkerConfig
    from pacsguard.deid.keys import resolve_key

    policy = build_policy(args)
    key, generated = resolve_key(args.key_file)
    if generated:
        log.warning("%s: generated a new secret key at %s (fingerprint %s)", command,
                    key.source, key.fingerprint)
    return WorkerConfig(policy=policy, key=key, want_thumbnails=False)


def forward_tls(args: argparse.Namespace) -> ssl.SSLContext | None:
    if args.forward_tls_ca is None:
        return None
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(args.forward_tls_ca))
    ctx.check_hostname = False  # DICOM peers are named by AE title and address
    if getattr(args, "tls_cert", None) and getattr(args, "tls_key", None):
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
    return ctx


def backoff(args: argparse.Namespace) -> Any:
    from pacsguard.gateway.forwarder import Backoff

    if args.max_attempts < 1 or args.retry_base <= 0 or args.retry_cap < args.retry_base:
        raise UsageError("--max-attempts must be >= 1 and 0 < --retry-base <= --retry-cap")
    return Backoff(base=args.retry_base, cap=args.retry_cap, max_attempts=args.max_attempts)


def run(args: argparse.Namespace) -> int:
    from pacsguard.gateway import Gateway, GatewayConfig
    from pacsguard.gateway.scp import parse_allow, server_tls
    from pacsguard.io.forward import parse_destination

    if len(args.ae_title) > 16:
        raise UsageError("--ae-title is at most 16 characters")
    spool = args.spool.resolve()
    for spec in args.forward:
        dest = parse_destination(spec, calling_aet=args.ae_title)  # refuse a bad spelling now
        root = getattr(dest, "root", None)
        if root is not None:
            r = Path(root).resolve()
            if r == spool or spool in r.parents or r in spool.parents:
                raise UsageError("a --forward folder and the --spool must not contain each "
                                 "other (the spool holds originals)")
    tls = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            raise UsageError("--tls-cert and --tls-key go together")
        tls = server_tls(args.tls_cert, args.tls_key, args.tls_ca, args.require_client_cert)
    cfg = GatewayConfig(
        listen=host_port(args.listen, "--listen"), ae_title=args.ae_title, spool=args.spool,
        forward=list(args.forward), worker=worker_config(args, "gateway"),
        allow=[parse_allow(a) for a in args.allow],
        spool_max=parse_size(args.spool_max) if args.spool_max else 0,
        status=host_port(args.status, "--status") if args.status else None,
        workers=args.workers, server_tls=tls, forward_tls=forward_tls(args),
        backoff=backoff(args), study_quiet=args.study_quiet, max_pdu=args.max_pdu,
        file_timeout=args.file_timeout)
    gw = Gateway(cfg)
    faulthandler.register(signal.SIGUSR1)  # an operator can see where a stuck gateway waits
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        gw.start()
    except OSError as exc:  # the port is taken, the spool cannot be written
        gw.stop()
        raise UsageError(f"cannot start: {exc.strerror or exc}") from exc
    print(f"pacsguard gateway: listening on {cfg.listen[0]}:{gw.receiver.address[1] if gw.receiver else 0}"
          f" as {cfg.ae_title}", flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        gw.stop()
    return 0
