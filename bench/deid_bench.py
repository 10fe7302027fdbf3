"""De-identification throughput benchmark: pacsguard against the floor and its peers.

    .venv/bin/python bench/deid_bench.py [--sets large,small] [--small]
        [--slices 600] [--rows 512] [--cols 512] [--small-count 6000] [--small-size 64]
        [--peers dicognito,dcmanon] [--dcmanon-procs 2] [--skip-others]
        [--tmp DIR] [--timeout 1800] [--wait-idle SECS] [--repeat N]

Data sets, each generated with ``pacsguard.samples.write_ct_series`` into a temp folder and
reported in its own table:

* ``large`` (default): one 16-bit CT study of ``--slices`` files of ``--rows`` x ``--cols``
  (600 x 512 x 512, 316 MB);
* ``small`` (``--small``, or ``--sets large,small`` for both in one run): one series of
  ``--small-count`` files of ``--small-size`` squared pixels (6,000 x 64 x 64), where the
  per-file cost dominates.

Each set goes through, each tool into a fresh output folder:

* ``cp -r`` (the floor; timed twice, the faster run is the reference),
* a plain pydicom read-modify-write loop in one process (blank PatientName/PatientID),
* ``pacsguard deid`` with all cores and with ``-j 1`` (temp 64-hex-digit key file),
* the peers chosen with ``--peers`` (default dicognito and dcmanon; also ``deid`` for
  pydicom-deid and ``dicom-anonymizer``, or ``all``), each from its own throwaway virtualenv
  under ``.peers/bench-venvs/NAME`` (created once, then reused), run under ``unshare -n``
  when the kernel allows it (they need no network). dcmanon's PyPI package is a library
  without a command line, so a few lines here drive it: ``--dcmanon-procs`` instances
  (default 2), each on its contiguous share of the sorted file list.

Each tool first runs once on a 20-file subset (imports and code warm, input already in the
page cache since it was just written), then ``sync``, then one timed run on the full set
(``--repeat N``: N interleaved rounds, the table keeps each tool's fastest run).
Peak RSS is ``/usr/bin/time -v``'s maximum resident set size (the largest single process of
the tool's process tree) plus the peak of the summed RSS of the whole tree,
sampled from /proc every 100 ms (matters for multi-process tools). pacsguard also runs once on
the first quarter of each set, to show whether its memory stays flat with input size.

CPU seconds (user + system of the tool's whole tree) and "others' CPU %" (what every other
process on the machine used during the run, from /proc/stat) show how far a wall time can be
trusted on a shared host; ``--wait-idle`` waits for a quiet moment before each timed run.

Prints a markdown table per set and writes bench/results/deid.json. Timings are printed,
never asserted; the tools do different amounts of work (see bench/README.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
VENVS = ROOT / ".peers" / "bench-venvs"
# the project venv; from a git worktree without one, the interpreter running this script
PYTHON = ROOT / ".venv" / "bin" / "python"
if not PYTHON.exists():
    PYTHON = Path(sys.executable)
PACSGUARD = PYTHON.parent / "pacsguard"
WARMUP_FILES = 20
PAGE = os.sysconf("SC_PAGE_SIZE")

#: name -> (PyPI package, distribution name for the version)
PEERS = {
    "dicognito": ("dicognito", "dicognito"),
    "dcmanon": ("dcmanon", "dcmanon"),
    "deid": ("deid", "deid"),
    "dicom-anonymizer": ("dicom-anonymizer", "dicom-anonymizer"),
}
DEFAULT_PEERS = "dicognito,dcmanon"

# Plain read-modify-write loop; explicit tags, argv: IN OUT.
PLAIN_LOOP = """
import sys
from pathlib import Path
import pydicom
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
dst.mkdir(parents=True, exist_ok=True)
for f in sorted(src.iterdir()):
    ds = pydicom.dcmread(f)
    for tag in (0x00100010, 0x00100020):
        if tag in ds:
            ds[tag].value = ""
    ds.save_as(dst / f.name)
"""

# dcmanon 0.3.1 on PyPI is a library (``Anonymizer().anonymize(path) -> bytes``, default
# rules) without a command line; argv: IN OUT K N, this instance takes the K-th of N
# contiguous shares of the sorted file list.
DCMANON_PART = """
import sys
from pathlib import Path
from dcmanon import Anonymizer
src, dst, k, n = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
dst.mkdir(parents=True, exist_ok=True)
files = sorted(src.iterdir())
anon = Anonymizer()
for f in files[k * len(files) // n:(k + 1) * len(files) // n]:
    (dst / f.name).write_bytes(anon.anonymize(str(f)))
"""

# Starts N instances of DCMANON_PART in the background and fails when any of them does;
# positional: PYTHON SCRIPT IN OUT N.
DCMANON_SH = (
    'pids=""; k=0; while [ "$k" -lt "$5" ]; do "$1" -c "$2" "$3" "$4" "$k" "$5" & '
    'pids="$pids $!"; k=$((k + 1)); done; rc=0; '
    'for p in $pids; do wait "$p" || rc=1; done; exit "$rc"'
)


@dataclass
class Measure:
    """One timed run of one tool."""

    tool: str
    seconds: float | None = None
    cpu_seconds: float | None = None  #: user + system, whole process tree
    files_out: int = 0
    maxrss_mb: float | None = None  #: largest single process (/usr/bin/time -v)
    tree_rss_mb: float | None = None  #: peak of the summed RSS of the process tree (sampled)
    exit_code: int | None = None
    error: str = ""
    version: str = ""
    load_before: float | None = None  #: 1-minute load average when the timed run started
    busy_before: float | None = None  #: busy share of all CPU just before (with --wait-idle)
    others_pct: float | None = None  #: CPU used by other processes during the run, % of all
    extra: dict[str, object] = field(default_factory=dict)


# --------------------------------------------------------------------------- measuring


def _tree_rss(root: int) -> int:
    """Summed RSS in bytes of ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # comm may hold spaces or parentheses: split after the last ')'
        fields = stat[stat.rfind(b")") + 2:].split()
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * PAGE
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, ()))
    return total


class TreeSampler(threading.Thread):
    """Polls the summed RSS of a process tree until stopped; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop_evt = threading.Event()

    def run(self) -> None:
        while not self._stop_evt.is_set():
            self.peak = max(self.peak, _tree_rss(self.pid))
            self._stop_evt.wait(self.interval)

    def stop(self) -> None:
        self._stop_evt.set()
        self.join()


def run_measured(cmd: list[str], log: Path, timeout: float,
                 env: dict[str, str] | None = None) -> tuple[float, int, float, float, float]:
    """Run ``cmd``; return (seconds, exit code, max RSS MB, peak tree RSS MB, CPU seconds).

    CPU seconds (user + system of the whole reaped tree) hold up better than wall time when
    something else loads the machine.

    Max RSS comes from ``/usr/bin/time -v`` when present: a child forked from this (large)
    Python process would report this process's RSS as its own ru_maxrss, since Linux keeps
    the pre-exec high-water mark. stdout is discarded (some tools print patient tables);
    stderr goes to ``log``. ``env``: the environment (default: this process's).
    """
    rss_file = log.with_suffix(".rss")
    gnu_time = Path("/usr/bin/time")
    wrap = [str(gnu_time), "-v", "-o", str(rss_file)] if gnu_time.exists() else []
    with log.open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(wrap + cmd, stdout=subprocess.DEVNULL, stderr=err,
                                stdin=subprocess.DEVNULL, start_new_session=True, env=env)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, 9))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            sampler.stop()
        seconds = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # reaped by wait4: keep Popen from waiting again
    maxrss_kb = usage.ru_maxrss
    if wrap:
        text = rss_file.read_text(encoding="utf-8", errors="replace")
        for line in text.splitlines():
            if "Maximum resident set size" in line:
                maxrss_kb = int(line.rsplit(":", 1)[1])
            elif "exited with non-zero status" in line:
                code = int(line.rsplit(None, 1)[1])
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, code, maxrss_kb / 1024, sampler.peak / 2**20, cpu


def busy_seconds() -> float:
    """CPU seconds all processes have spent busy since boot (summed over cores)."""
    with open("/proc/stat", encoding="ascii") as fh:
        f = [int(x) for x in fh.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal: everything but idle and iowait
    return (sum(f[:8]) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK")


class Quiet:
    """Waits for a quiet machine before each timed run, within one overall budget.

    A window is quiet when at most ``busy_max`` of all CPU time was busy over ``window`` s.
    """

    def __init__(self, budget: float, ncpu: int, busy_max: float = 0.15,
                 window: float = 3.0) -> None:
        self.deadline = time.monotonic() + budget
        self.enabled = budget > 0
        self.ncpu, self.busy_max, self.window = ncpu, busy_max, window

    def wait(self) -> float | None:
        """Return the busy share of the last window (None when disabled)."""
        if not self.enabled:
            return None
        while True:
            b0 = busy_seconds()
            time.sleep(self.window)
            share = (busy_seconds() - b0) / (self.window * self.ncpu)
            if share <= self.busy_max or time.monotonic() >= self.deadline:
                return round(share, 2)
            print(f"  waiting for a quiet machine: {share:.0%} busy", flush=True)


def count_files(out: Path) -> int:
    return sum(1 for p in out.rglob("*") if p.is_file() and p.name != "pacsguard-summary.json")


def tail(log: Path, n: int = 3) -> str:
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in lines[-n:])


# --------------------------------------------------------------------------- tools


@dataclass
class Tool:
    """How to run one tool: ``make(IN, OUT) -> argv``; ``premake`` creates OUT first."""

    name: str
    make: Callable[[Path, Path], list[str]]
    premake: bool = False
    isolated: bool = False  #: third-party: run under unshare -n
    version: str = ""


def _net_prefix() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    ok = subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0
    return [unshare, "-n"] if ok else []


def ensure_venv(name: str, package: str, dist: str) -> tuple[Path, str]:
    """Create (once) a throwaway venv with ``package``; return (its python, version)."""
    venv = VENVS / name
    py = venv / "bin" / "python"
    marker = venv / ".bench-ok"
    if not (py.exists() and marker.exists()):
        print(f"  installing {package} into {venv} ...", flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", package], check=True,
                       stdout=subprocess.DEVNULL)
        marker.write_text(package + "\n", encoding="utf-8")
    ver = subprocess.run(
        [str(py), "-c", f"import importlib.metadata as m; print(m.version({dist!r}))"],
        capture_output=True, text=True, check=True).stdout.strip()
    return py, ver


def peer_tools(names: list[str], dcmanon_procs: int = 2) -> tuple[list[Tool], list[Measure]]:
    """The chosen third-party tools that could be installed, and a failed Measure for the rest."""
    tools: list[Tool] = []
    failed: list[Measure] = []
    for name in names:
        package, dist = PEERS[name]
        try:
            py, ver = ensure_venv(name, package, dist)
        except (OSError, subprocess.CalledProcessError) as exc:
            failed.append(Measure(tool=name, error=f"install failed: {exc}"))
            continue
        bindir = py.parent
        if name == "dicognito":
            # 0.19.0's console script calls main() without its required argument
            # (TypeError), so go through ``python -m dicognito`` instead.
            def dicognito(i: Path, o: Path, py: Path = py) -> list[str]:
                return [str(py), "-m", "dicognito", "--quiet", "-o", str(o), str(i)]
            tools.append(Tool(name, dicognito, isolated=True, version=ver))
        elif name == "dcmanon":
            def dcmanon(i: Path, o: Path, py: Path = py) -> list[str]:
                return ["sh", "-c", DCMANON_SH, "sh", str(py), DCMANON_PART, str(i), str(o),
                        str(dcmanon_procs)]
            label = f"dcmanon ({dcmanon_procs} proc{'s' if dcmanon_procs > 1 else ''})"
            tools.append(Tool(label, dcmanon, isolated=True, version=ver))
        elif name == "deid":
            def deid(i: Path, o: Path, b: Path = bindir) -> list[str]:
                return [str(b / "deid"), "--quiet", "--outfolder", str(o), "identifiers",
                        "--action", "all", "--input", str(i)]
            tools.append(Tool(name, deid, premake=True, isolated=True, version=ver))
        else:
            def anonymizer(i: Path, o: Path, b: Path = bindir) -> list[str]:
                return [str(b / "dicom-anonymizer"), str(i), str(o)]
            tools.append(Tool(name, anonymizer, premake=True, isolated=True, version=ver))
    return tools, failed


def parse_peers(text: str) -> list[str]:
    """``--peers``: comma-separated names, ``all`` or ``none``."""
    if text.strip() in ("", "none"):
        return []
    if text.strip() == "all":
        return list(PEERS)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in PEERS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown peer(s) {', '.join(unknown)}; known: {', '.join(PEERS)}, all, none")
    return list(dict.fromkeys(names))


def own_tools(key: Path, ncpu: int) -> list[Tool]:
    def cp(i: Path, o: Path) -> list[str]:
        return ["cp", "-r", str(i), str(o)]

    def plain(i: Path, o: Path) -> list[str]:
        return [str(PYTHON), "-c", PLAIN_LOOP, str(i), str(o)]

    def pg(jobs: int) -> Callable[[Path, Path], list[str]]:
        def make(i: Path, o: Path) -> list[str]:
            return [str(PACSGUARD), "-q", "deid", str(i), str(o), "--key-file", str(key),
                    "-j", str(jobs), "--no-progress"]
        return make

    import pydicom

    from pacsguard import __version__
    return [
        Tool("cp -r", cp),
        Tool("cp -r (2nd)", cp),
        Tool("pydicom loop (1 proc)", plain, version=f"pydicom {pydicom.__version__}"),
        Tool(f"pacsguard -j {ncpu} (all cores)", pg(0), version=__version__),
        Tool("pacsguard -j 1", pg(1), version=__version__),
    ]


def measure(tool: Tool, src: Path, warm: Path, work: Path, prefix: list[str],
            n_files: int, timeout: float, quiet: Quiet) -> Measure:
    m = Measure(tool=tool.name, version=tool.version)
    if tool.isolated and prefix:
        m.extra["unshare_n"] = True
    pre = prefix if tool.isolated else []
    # third-party tools run in their own venvs: keep this project's import path from them
    env = ({k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
           if tool.isolated else None)
    for label, inp in (("warm", warm), ("timed", src)):
        out = work / f"out-{label}"
        for d in (out, out.with_name(out.name + ".pacsguard")):
            shutil.rmtree(d, ignore_errors=True)
        if tool.premake:
            out.mkdir(parents=True)
        log = work / f"{label}.log"
        os.sync()  # flush the previous run's dirty pages outside the timed window
        if label == "timed":
            m.busy_before = quiet.wait()
            m.load_before = loadavg()
        b0 = busy_seconds()
        try:
            secs, code, maxrss, tree, cpu = run_measured(
                pre + tool.make(inp, out), log, timeout, env)
        except OSError as exc:
            m.error = f"{label} run could not start: {exc}"
            return m
        if label == "warm":
            if code != 0:
                m.error = f"warm-up exit {code}: {tail(log)}"
                return m
            continue
        m.seconds, m.exit_code, m.cpu_seconds = round(secs, 3), code, round(cpu, 2)
        others = max(0.0, busy_seconds() - b0 - cpu)
        m.others_pct = round(100 * others / (secs * (os.cpu_count() or 1)), 1)
        m.maxrss_mb, m.tree_rss_mb = round(maxrss, 1), round(tree, 1)
        m.files_out = count_files(out)
        summary = out / "pacsguard-summary.json"
        if summary.exists():
            data = json.loads(summary.read_text(encoding="utf-8"))
            m.extra["internal"] = {k: data.get(k) for k in
                                   ("seconds", "files_per_second", "mb_per_second",
                                    "workers", "outcomes")}
        if code != 0:
            m.error = f"exit {code}: {tail(log)}"
        elif m.files_out != n_files:
            m.error = f"wrote {m.files_out} of {n_files} files"
        for d in (out, out.with_name(out.name + ".pacsguard")):
            shutil.rmtree(d, ignore_errors=True)
    return m


def best_of(ms: list[Measure]) -> Measure:
    """The fastest good run (else the last one), with every run's figures in ``extra``."""
    good = [m for m in ms if m.seconds is not None and not m.error]
    best = min(good, key=lambda m: m.seconds or 0.0) if good else ms[-1]
    if len(ms) > 1:
        best.extra["runs"] = [{"seconds": m.seconds, "cpu_seconds": m.cpu_seconds,
                               "others_pct": m.others_pct, "maxrss_mb": m.maxrss_mb,
                               "tree_rss_mb": m.tree_rss_mb, "error": m.error} for m in ms]
        best.maxrss_mb = max((m.maxrss_mb for m in good if m.maxrss_mb), default=None)
        best.tree_rss_mb = max((m.tree_rss_mb for m in good if m.tree_rss_mb), default=None)
    return best


# --------------------------------------------------------------------------- report


def machine() -> dict[str, object]:
    cpu = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as fh:
        cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")),
                   "")
    mem = 0
    with contextlib.suppress(OSError, StopIteration, ValueError), \
            open("/proc/meminfo", encoding="utf-8") as fh:
        mem = int(next(ln for ln in fh if ln.startswith("MemTotal")).split()[1]) // 1024
    return {"cores": os.cpu_count(), "cpu": cpu, "mem_mb": mem,
            "python": platform.python_version(), "kernel": platform.release(),
            "date": time.strftime("%Y-%m-%d %H:%M %Z")}


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def _note(m: Measure) -> str:
    runs = m.extra.get("runs")
    if not isinstance(runs, list):
        return m.version
    secs = [r["seconds"] for r in runs if r["seconds"] is not None]
    return f"{m.version}; runs {min(secs):.2f}–{max(secs):.2f} s".lstrip("; ")


def table(results: list[Measure], n_files: int, mb_in: float, cp_s: float,
          pg_s: float | None) -> str:
    head = ("| tool | seconds | files/s | MB/s | × cp | × pacsguard | CPU s | peak RSS MB "
            "(largest proc) | peak RSS MB (tree sum) | others' CPU % | note |")
    rows = [head, "|" + "---|" * 11]
    for m in results:
        if m.seconds is None:
            rows.append(f"| {m.tool} | – | – | – | – | – | – | – | – | – | {m.error} |")
            continue
        s = m.seconds
        vs_pg = f"{s / pg_s:.2f}" if pg_s else "–"
        rows.append(f"| {m.tool} | {s:.2f} | {n_files / s:.1f} | {mb_in / s:.1f} | "
                    f"{s / cp_s:.1f} | {vs_pg} | {m.cpu_seconds:.1f} | {m.maxrss_mb:.0f} | "
                    f"{m.tree_rss_mb:.0f} | {m.others_pct:.0f} | "
                    f"{m.error or _note(m)} |")
    return "\n".join(rows)


@dataclass
class DataSet:
    """One generated input: ``files`` CT slices of ``rows`` x ``cols`` 16-bit pixels."""

    name: str
    files: int
    rows: int
    cols: int


def run_set(spec: DataSet, base: Path, tools: list[Tool], key: Path, ncpu: int,
            prefix: list[str], args: argparse.Namespace, quiet: Quiet,
            failed: list[Measure]) -> dict[str, object]:
    """Generate ``spec`` under ``base``, time every tool on it; return its JSON record."""
    from pacsguard.samples import write_ct_series

    src = base / "ct"
    t0 = time.perf_counter()
    write_ct_series(src, n_slices=spec.files, rows=spec.rows, cols=spec.cols)
    gen_s = time.perf_counter() - t0
    files = sorted(src.iterdir())
    n_files, bytes_in = len(files), sum(f.stat().st_size for f in files)
    mb_in = bytes_in / 1e6
    print(f"[{spec.name}] generated {n_files} files, {mb_in:.0f} MB in {gen_s:.1f} s",
          flush=True)

    # hard-linked subsets: same bytes, no extra disk, same page-cache pages
    warm, quarter = base / "warm", base / "quarter"
    n_q = max(1, n_files // 4)
    for d, k in ((warm, WARMUP_FILES), (quarter, n_q)):
        d.mkdir()
        for f in files[:k]:
            os.link(f, d / f.name)

    runs: dict[str, list[Measure]] = {t.name: [] for t in tools}
    # rounds interleave the tools, so a slow spell of a shared host hits them alike
    for rnd in range(args.repeat):
        for tool in tools:
            work = base / "work"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            print(f"[{spec.name}] round {rnd + 1}/{args.repeat}: {tool.name} ...", flush=True)
            m = measure(tool, src, warm, work, prefix, n_files, args.timeout, quiet)
            print(f"  {m.seconds} s, cpu {m.cpu_seconds} s, others {m.others_pct} %, "
                  f"files out {m.files_out}, maxrss {m.maxrss_mb} MB, "
                  f"tree {m.tree_rss_mb} MB {m.error}", flush=True)
            runs[tool.name].append(m)
    results = [best_of(ms) for ms in runs.values()] + [
        Measure(tool=m.tool, error=m.error) for m in failed]

    # memory flatness: the same pacsguard runs on a quarter of the files
    flat: list[Measure] = []
    for tool in own_tools(key, ncpu)[3:]:
        work = base / "work"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        m = measure(tool, quarter, warm, work, [], n_q, args.timeout, quiet)
        m.tool = f"{tool.name} on {n_q} files"
        print(f"  {m.tool}: {m.seconds} s, maxrss {m.maxrss_mb} MB, "
              f"tree {m.tree_rss_mb} MB {m.error}", flush=True)
        flat.append(m)
    shutil.rmtree(base / "work", ignore_errors=True)

    cps = [m.seconds for m in results if m.tool.startswith("cp -r") and m.seconds]
    cp_s = min(cps) if cps else float("nan")
    pg = next((m for m in results if m.tool.startswith(f"pacsguard -j {ncpu}")), None)
    pg_s = pg.seconds if pg else None
    md = table(results, n_files, mb_in, cp_s, pg_s)
    flat_rows = [f"| {m.tool} | {m.maxrss_mb} | {m.tree_rss_mb} | {m.seconds} |"
                 for m in flat]
    full_rows = [f"| {m.tool} on {n_files} files | {m.maxrss_mb} | {m.tree_rss_mb} | "
                 f"{m.seconds} |" for m in results if m.tool.startswith("pacsguard")]
    flat_md = "\n".join(["| run | peak RSS MB (largest proc) | peak RSS MB (tree sum) | s |",
                         "|---|---|---|---|", *flat_rows, *full_rows])
    heading = (f"{spec.name}: {n_files} files ({spec.rows}x{spec.cols}, 16-bit), "
               f"{mb_in:.0f} MB; load average {loadavg()} at the end; fastest of "
               f"{args.repeat} run(s)")
    return {
        "name": spec.name,
        "heading": heading,
        "input": {"files": n_files, "bytes": bytes_in, "rows": spec.rows, "cols": spec.cols,
                  "generate_seconds": round(gen_s, 2)},
        "cp_seconds": cp_s,
        "pacsguard_seconds": pg_s,
        "results": [asdict(m) | ({"files_per_second": round(n_files / m.seconds, 1),
                                  "mb_per_second": round(mb_in / m.seconds, 1)}
                                 if m.seconds else {}) for m in results],
        "memory_flatness": [asdict(m) for m in flat],
        "markdown": md,
        "memory_flatness_markdown": flat_md,
    }


def print_set(rec: dict[str, object]) -> None:
    print()
    print(f"### {rec['heading']}")
    print()
    print(rec["markdown"])
    print()
    print(f"memory flatness (pacsguard, {rec['name']}):")
    print(rec["memory_flatness_markdown"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default="large", metavar="NAMES",
                    help="data sets to run, in order, comma-separated: large, small "
                    "(default: large)")
    ap.add_argument("--small", action="store_true",
                    help="run the small set only (same as --sets small)")
    ap.add_argument("--slices", type=int, default=600, help="large set: files (600)")
    ap.add_argument("--rows", type=int, default=512, help="large set: rows (512)")
    ap.add_argument("--cols", type=int, default=512, help="large set: columns (512)")
    ap.add_argument("--small-count", type=int, default=6000, metavar="N",
                    help="small set: files (6000)")
    ap.add_argument("--small-size", type=int, default=64, metavar="PX",
                    help="small set: rows and columns (64)")
    ap.add_argument("--peers", type=parse_peers, default=parse_peers(DEFAULT_PEERS),
                    metavar="NAMES",
                    help=f"third-party tools, comma-separated from {', '.join(PEERS)}; "
                    f"or all, or none (default: {DEFAULT_PEERS})")
    ap.add_argument("--dcmanon-procs", type=int, default=2, metavar="N",
                    help="dcmanon instances, each on 1/N of the files (default 2)")
    ap.add_argument("--skip-others", action="store_true",
                    help="skip the third-party tools (same as --peers none)")
    ap.add_argument("--tmp", type=Path, help="where the temp folder goes (default: system)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="timed runs per tool, interleaved; the table shows the fastest and "
                    "the highest RSS (default 1)")
    ap.add_argument("--wait-idle", type=float, default=0, metavar="SECS",
                    help="before each timed run wait for a 3 s window with the CPU <= 15%% "
                    "busy; SECS bounds the total wait (for shared hosts)")
    args = ap.parse_args()

    catalog = {
        "large": DataSet("large", args.slices, args.rows, args.cols),
        "small": DataSet("small", args.small_count, args.small_size, args.small_size),
    }
    names = ["small"] if args.small else [
        n.strip() for n in args.sets.split(",") if n.strip()]
    unknown = [n for n in names if n not in catalog]
    if unknown or not names:
        ap.error(f"--sets: unknown or no set(s) {', '.join(unknown)}; known: large, small")
    if args.dcmanon_procs < 1:
        ap.error("--dcmanon-procs must be at least 1")
    specs = [catalog[n] for n in dict.fromkeys(names)]

    ncpu = os.cpu_count() or 1
    quiet = Quiet(args.wait_idle, ncpu)
    load_start = loadavg()
    if load_start > ncpu / 2:
        print(f"warning: load average {load_start} on {ncpu} cores: something else is "
              "running, wall times will be noisy (CPU seconds less so)", flush=True)
    prefix = _net_prefix()
    peer_names: list[str] = [] if args.skip_others else args.peers
    peers: list[Tool] = []
    failed: list[Measure] = []
    if peer_names:
        print(f"peers ({', '.join(peer_names)}): checking throwaway venvs", flush=True)
        peers, failed = peer_tools(peer_names, args.dcmanon_procs)

    records: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="pacsguard-bench-", dir=args.tmp) as tmp:
        key = Path(tmp) / "bench.key"
        key.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
        key.chmod(0o600)
        tools = own_tools(key, ncpu) + peers
        for spec in specs:
            base = Path(tmp) / spec.name
            base.mkdir()
            rec = run_set(spec, base, tools, key, ncpu, prefix, args, quiet, failed)
            shutil.rmtree(base, ignore_errors=True)  # free the disk before the next set
            print_set(rec)
            records.append(rec)

    info = machine()
    print()
    print(f"machine: {info['cores']} cores, {info['cpu']}, {info['mem_mb']} MB RAM; "
          f"{info['date']}; third-party tools under unshare -n: {'yes' if prefix else 'no'}; "
          f"load average {load_start} at start, {loadavg()} at end")
    if len(records) > 1:
        for rec in records:
            print_set(rec)

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "machine": info,
        "repeat": args.repeat,
        "unshare_n": bool(prefix),
        "peers": peer_names,
        "dcmanon_procs": args.dcmanon_procs,
        "load_average": {"start": load_start, "end": loadavg()},
        "wait_idle_budget": args.wait_idle,
        "sets": records,
    }
    (RESULTS / "deid.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {RESULTS / 'deid.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
