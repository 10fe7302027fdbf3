"""verify throughput against deid's, in the same run, on the same data.

    .venv/bin/python bench/verify_bench.py [--slices 300] [--rows 512] [--cols 512] [--tmp DIR]

One generated 16-bit CT series (``pacsguard.samples.write_ct_series``) is de-identified by
``pacsguard deid`` (all cores, then ``-j 1``), then ``pacsguard verify ORIGINALS OUTPUT``
checks the result: by default (dciodvfy on one output per series and structure), with
dciodvfy on every pair (``--dciodvfy all``), without dciodvfy, and with every
image read by the text detector (``--pixels all``, with ``--ocr``). Each command runs
once on a 20-file subset first (imports and page cache warm), then once timed, as a
subprocess (process start and imports included for both). Prints a markdown table and writes
bench/results/verify.json. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = ROOT / ".venv" / "bin" / "python"
WARMUP = 20


def run(cmd: list[str], ok: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL)
    took = time.perf_counter() - start
    if proc.returncode not in ok:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd[:4])} ...\n{proc.stderr[-2000:]}")
    return took


def pacsguard(*args: str) -> list[str]:
    return [str(PYTHON), "-m", "pacsguard", "-q", *args]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slices", type=int, default=300)
    ap.add_argument("--rows", type=int, default=512)
    ap.add_argument("--cols", type=int, default=512)
    ap.add_argument("--tmp", type=Path, default=None)
    ap.add_argument("--ocr", action="store_true",
                    help="also time --pixels all (the text detector on every image: slow)")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from pacsguard.samples import write_ct_series

    base = Path(tempfile.mkdtemp(prefix="verify-bench-", dir=args.tmp))
    try:
        src = base / "in"
        write_ct_series(src, args.slices, args.rows, args.cols)
        files = sorted(src.iterdir())
        size_mb = sum(f.stat().st_size for f in files) / 1e6
        warm = base / "warm-in"
        warm.mkdir()
        for f in files[:WARMUP]:
            shutil.copy(f, warm / f.name)
        key = base / "secret.key"
        run(pacsguard("keygen", str(key)))
        have_ocr = subprocess.run(
            [str(PYTHON), "-c", "from pacsguard.pixels import detector_available as d; "
             "import sys; sys.exit(0 if d('rapidocr') else 1)"], check=False).returncode == 0

        rows: list[dict[str, object]] = []

        def timed(label: str, make: list[str], warm_make: list[str], ok: tuple[int, ...] = (0,)
                  ) -> float:
            run(warm_make, ok)
            subprocess.run(["sync"], check=False)
            took = run(make, ok)
            rows.append({"command": label, "seconds": round(took, 2),
                         "files_per_s": round(len(files) / took, 1),
                         "mb_per_s": round(size_mb / took, 1)})
            return took

        deid_all = timed("pacsguard deid (all cores)",
                         pacsguard("deid", str(src), str(base / "out"), "-k", str(key),
                                   "--no-progress"),
                         pacsguard("deid", str(warm), str(base / "w1"), "-k", str(key),
                                   "--no-progress"))
        deid_one = timed("pacsguard deid -j 1",
                         pacsguard("deid", str(src), str(base / "out1"), "-k", str(key), "-j",
                                   "1", "--no-progress"),
                         pacsguard("deid", str(warm), str(base / "w2"), "-k", str(key), "-j",
                                   "1", "--no-progress"))
        out, wout = str(base / "out"), str(base / "w1")
        verify_full = timed("pacsguard verify (default: dciodvfy sampled)"
                            if shutil.which("dciodvfy") else "pacsguard verify",
                            pacsguard("verify", str(src), out),
                            pacsguard("verify", str(warm), wout), ok=(0, 1))
        if shutil.which("dciodvfy"):
            timed("pacsguard verify --dciodvfy all",
                  pacsguard("verify", str(src), out, "--dciodvfy", "all"),
                  pacsguard("verify", str(warm), wout, "--dciodvfy", "all"), ok=(0, 1))
        verify_fast = timed("pacsguard verify --no-dciodvfy",
                            pacsguard("verify", str(src), out, "--no-dciodvfy"),
                            pacsguard("verify", str(warm), wout, "--no-dciodvfy"), ok=(0, 1))
        if have_ocr and args.ocr:
            timed("pacsguard verify --no-dciodvfy --pixels all (OCR every image)",
                  pacsguard("verify", str(src), out, "--no-dciodvfy", "--pixels", "all"),
                  pacsguard("verify", str(warm), wout, "--no-dciodvfy", "--pixels", "all"),
                  ok=(0, 1))
        result = {
            "files": len(files), "mb": round(size_mb, 1),
            "matrix": f"{args.rows}x{args.cols}", "cpus": os.cpu_count(),
            "python": platform.python_version(), "runs": rows,
            "verify_over_deid_all_cores": round(verify_full / deid_all, 2),
            "verify_over_deid_one_core": round(verify_full / deid_one, 2),
            "verify_no_dciodvfy_over_deid_all_cores": round(verify_fast / deid_all, 2),
        }
        print(f"\n{len(files)} CT files, {size_mb:.0f} MB, {args.rows}x{args.cols}, "
              f"{os.cpu_count()} CPUs\n")
        print("| command | s | files/s | MB/s |\n|---|---:|---:|---:|")
        for r in rows:
            print(f"| {r['command']} | {r['seconds']} | {r['files_per_s']} | {r['mb_per_s']} |")
        print(f"\nverify / deid (all cores): {result['verify_over_deid_all_cores']}; "
              f"without dciodvfy: {result['verify_no_dciodvfy_over_deid_all_cores']}")
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "verify.json").write_text(json.dumps(result, indent=2) + "\n")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
