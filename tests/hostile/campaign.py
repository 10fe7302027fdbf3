"""Run hostile cases through the real ``pacsguard deid`` (a subprocess, -j2) and collect, per
case, its outcome and reason, plus the run's exit code, stderr and the workers' peak RSS.

``python -m tests.hostile.campaign N [--big]`` prints the figures for the README.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.hostile.gen import Case, generate

KEY_HEX = "5a" * 32
_SRC = str(Path(__file__).resolve().parents[2] / "src")

# Measures the peak RSS of the run's worker processes (children of the CLI), not of pytest.
_RUNNER = """
import resource, sys
from pacsguard.cli import main
code = main(sys.argv[1:])
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sys.stderr.write(f"\\nPEAK-RSS-KB {peak} {self_peak}\\n")
sys.exit(code)
"""


@dataclass
class Result:
    outcomes: dict[str, tuple[str, str, str]]  #: case name -> (outcome, reason, output)
    code: int
    stderr: str
    worker_rss_mb: float
    main_rss_mb: float
    seconds: float
    changed: list[str] = field(default_factory=list)  #: inputs whose bytes changed

    def reasons(self) -> Counter[str]:
        return Counter(r or o for o, r, _ in self.outcomes.values())


def write_cases(cases: list[Case], root: Path) -> dict[str, str]:
    """One file per case under ``root/<category>/``; returns name -> sha256."""
    digests: dict[str, str] = {}
    for c in cases:
        path = root / c.category / c.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(c.data)
        digests[c.name] = hashlib.sha256(c.data).hexdigest()
    return digests


def run_deid(root: Path, work: Path, *extra: str, workers: int = 2,
             timeout: float = 600) -> Result:
    key = work / "key"
    key.write_text(KEY_HEX + "\n")
    out = work / "out"
    env = {**os.environ, "PYTHONPATH": _SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "XDG_CONFIG_HOME": str(work / "xdg")}
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER, "-q", "deid", str(root), str(out), "--key-file", str(key),
         "-j", str(workers), "--no-progress", *extra],
        capture_output=True, text=True, env=env, timeout=timeout)
    seconds = time.monotonic() - start
    peak = next(ln for ln in proc.stderr.splitlines() if ln.startswith("PEAK-RSS-KB")).split()
    db = sqlite3.connect(work / "out.pacsguard" / "journal.sqlite")
    rows = db.execute("SELECT input, outcome, reason, output FROM files").fetchall()
    db.close()
    outcomes = {Path(r[0]).name: (r[1], r[2] or "", r[3] or "") for r in rows}
    return Result(outcomes, proc.returncode, proc.stderr, int(peak[1]) / 1024,
                  int(peak[2]) / 1024, seconds)


def campaign(per_category: int | dict[str, int], work: Path, *extra: str,
             seed: int = 13) -> tuple[list[Case], Result]:
    cases = list(generate(per_category, seed=seed))
    root = work / "in"
    digests = write_cases(cases, root)
    result = run_deid(root, work, *extra)
    result.changed = [c.name for c in cases if hashlib.sha256(
        (root / c.category / c.name).read_bytes()).hexdigest() != digests[c.name]]
    return cases, result


def main() -> None:
    import argparse
    import tempfile

    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--keep", type=Path)
    ap.add_argument("extra", nargs="*")
    args, rest = ap.parse_known_args()
    args.extra = [*args.extra, *rest]
    work = args.keep or Path(tempfile.mkdtemp(prefix="hostile-"))
    work.mkdir(parents=True, exist_ok=True)
    cases, res = campaign(args.n, work, *args.extra, seed=args.seed)
    by_cat: dict[str, Counter[str]] = {}
    for c in cases:
        o, r, _ = res.outcomes.get(c.name, ("missing", "", ""))
        by_cat.setdefault(c.category, Counter())[r or o] += 1
    print(json.dumps({"cases": len(cases), "seconds": round(res.seconds, 1), "exit": res.code,
                      "worker_rss_mb": round(res.worker_rss_mb), "main_rss_mb": round(res.main_rss_mb),
                      "reasons": dict(res.reasons().most_common()), "changed": res.changed,
                      "by_category": {k: dict(v) for k, v in by_cat.items()}}, indent=1))
    if "Traceback" in res.stderr:
        print(res.stderr[-3000:])
    print("work dir:", work)


if __name__ == "__main__":
    main()
