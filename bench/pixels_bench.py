"""Burned-in text benchmark: recall, false-redaction rate and images/s on generated images.

    .venv/bin/python bench/pixels_bench.py [--n 42] [--size 512] [--detector rapidocr]
        [--jobs 2] [--threads 1] [--presidio /tmp/presidio-venv/bin/python]

Same generator as tests/pixels (pacsguard.samples.burned_text): this patient's name, ID, birth date and
accession plus harmless technical text, DejaVu fonts of 10-20 px, three contrasts, over a
noisy background; 8/16-bit grey, signed, MONOCHROME1, RGB, YBR_FULL, PALETTE COLOR.

* recall: identifying lines whose box is >= 90 % blanked (phi-text mode).
* residual: identifying lines the detector can still classify as identifying after cleaning.
* false-redaction: harmless lines >= 50 % blanked in phi-text mode.
* all-text recall: every line >= 90 % blanked in all-text mode (detection only, no reading).
* all-text overblank: share of the image blanked more than 6 px away from any drawn line.

With ``--presidio PY`` the same images (as 8-bit PNG-backed DICOM) go through
presidio-image-redactor's DicomImageRedactorEngine in that interpreter (a throwaway venv
with presidio-image-redactor, pytesseract and an offline spaCy pipeline); run everything
under ``unshare -n``. Timings are printed, never asserted; ``cpu_s_per_image`` (process
CPU time, every thread counted; presidio's includes its tesseract subprocesses) is the
figure least disturbed by other jobs on the machine, and the load average before and
after is printed with them.

pacsguard cleans one image from outside the set before each clock starts (models load and
compile then; presidio builds its engine before its clock, too), and runs phi-text over the
whole set before the residual OCR pass and the all-text pass, as a user's batch would.

``--series N`` also cleans an N-frame ultrasound-like cine in phi-text mode, once with the
recogniser's memory of line crops and once without (see ``pacsguard.pixels.tuning``).

``--threads`` sets ``PACSGUARD_OCR_THREADS`` for the single-process run (default 1: the
per-image cost without onnxruntime's thread spinning); the ``--jobs`` workers always run
one thread each.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any, Literal

import numpy as np

from pacsguard.pixels import PixelPolicy, clean_pixels, detect_text
from pacsguard.samples import burned_text

Detector = Literal["rapidocr", "tesseract"]
KINDS = ("mono8", "mono16", "signed16", "mono1", "rgb", "ybr", "palette")
CONTRASTS = (1.0, 0.5, 0.2)


def samples(n: int, size: int, kinds: tuple[str, ...] = KINDS) -> list[burned_text.Sample]:
    out = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        sizes = (10, 13) if i % 2 else (13, 20)
        out.append(
            burned_text.make_sample(
                1000 + i,
                kind,
                rows=size,
                cols=size,
                sizes=sizes,
                contrast=CONTRASTS[i % len(CONTRASTS)],
            )
        )
    return out


def _blank_outside_text(s: burned_text.Sample, boxes: list[tuple[int, int, int, int]]) -> float:
    """Share of the image blanked more than 6 px away from any drawn line."""
    rows, cols = int(s.ds.Rows), int(s.ds.Columns)
    blank = np.zeros((rows, cols), dtype=bool)
    for x0, y0, x1, y1 in boxes:
        blank[y0:y1, x0:x1] = True
    for t in s.truth:
        x0, y0, x1, y1 = t.bbox
        blank[max(0, y0 - 6) : y1 + 6, max(0, x0 - 6) : x1 + 6] = False
    return float(blank.mean())


def warmup_sample(size: int) -> burned_text.Sample:
    """An image outside the measured set, cleaned once before a clock starts: models load
    and compile then, and the recogniser's memory learns nothing about the set."""
    return burned_text.make_sample(99, "mono8", rows=size, cols=size)


def run_pacsguard(items: list[burned_text.Sample], detector: Detector) -> dict[str, float]:
    # Three passes, as a user runs them: phi-text over the whole set (timed), a second OCR
    # pass over its output (residual), all-text over the whole set (timed). Interleaving
    # them image by image made the timed passes 30-50 % slower than a batch runs.
    phi_hit = phi_n = oth_hit = oth_n = all_hit = all_n = residual = 0
    overblank = 0.0
    warm = warmup_sample(int(items[0].ds.Rows))
    warm_policy = PixelPolicy(mode="phi-text", detector=detector)
    clean_pixels(burned_text.roundtrip(warm.ds), warm.identifiers, warm_policy)
    inputs = [burned_text.roundtrip(s.ds) for s in items]
    t0, c0 = time.perf_counter(), time.process_time()
    results = [
        clean_pixels(ds, s.identifiers, PixelPolicy(mode="phi-text", detector=detector))
        for s, ds in zip(items, inputs, strict=True)
    ]
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    for s, ds, res in zip(items, inputs, results, strict=True):
        ph, pn, oh, on = burned_text.score(s.truth, list(res.redacted))
        phi_hit, phi_n, oth_hit, oth_n = phi_hit + ph, phi_n + pn, oth_hit + oh, oth_n + on
        after = detect_text(burned_text.roundtrip(ds), s.identifiers, detector)
        residual += sum(b.classification == "identifier" for b in after)
    inputs = [burned_text.roundtrip(s.ds) for s in items]
    t0 = time.perf_counter()
    results = [
        clean_pixels(ds, s.identifiers, PixelPolicy(mode="all-text", detector=detector))
        for s, ds in zip(items, inputs, strict=True)
    ]
    elapsed_all = time.perf_counter() - t0
    for s, res in zip(items, results, strict=True):
        for t in s.truth:
            all_n += 1
            all_hit += burned_text.covered(t.bbox, list(res.redacted)) >= 0.9
        overblank += _blank_outside_text(s, list(res.redacted))
    return {
        "images": len(items),
        "recall": phi_hit / phi_n,
        "false_redaction": oth_hit / oth_n,
        "all_text_recall": all_hit / all_n,
        "residual_identifier_lines": residual,
        "all_text_overblank": overblank / len(items),
        "images_per_s": len(items) / elapsed,
        "cpu_s_per_image": cpu / len(items),
        "all_text_images_per_s": len(items) / elapsed_all,
    }


PRESIDIO_SNIPPET = r"""
import json, resource, sys, tempfile, time
import pydicom, spacy
from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NlpEngineProvider
from presidio_image_redactor import DicomImageRedactorEngine, ImageAnalyzerEngine
# No spaCy weights are downloaded: a blank English pipeline (tokenizer only) stands in, so
# presidio finds PHI through its pattern recognizers and the DICOM header (use_metadata).
blank = tempfile.mkdtemp()
spacy.blank("en").to_disk(blank)
conf = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": blank}]}
nlp = NlpEngineProvider(nlp_configuration=conf).create_engine()
analyzer = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
eng = DicomImageRedactorEngine(image_analyzer_engine=ImageAnalyzerEngine(analyzer_engine=analyzer))
paths = json.loads(sys.argv[1])
def children_cpu():  # tesseract runs as a subprocess of pytesseract
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
t0, c0, k0 = time.perf_counter(), time.process_time(), children_cpu()
failed = []
for p in paths:
    ds = pydicom.dcmread(p)
    try:
        red = eng.redact(ds, fill="contrast")
    except Exception as exc:  # counted as "nothing redacted" for that image
        failed.append([p, type(exc).__name__])
        continue
    red.save_as(p + ".red.dcm")
out = {"elapsed": time.perf_counter() - t0, "cpu": time.process_time() - c0 + children_cpu() - k0,
       "failed": failed}
print(json.dumps(out))
"""


def run_presidio(items: list[burned_text.Sample], python: str, jobs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, s in enumerate(items):
            ds = burned_text.roundtrip(s.ds)
            ds.PatientName = s.identifiers[0]
            ds.PatientID = s.identifiers[1]
            ds.PatientBirthDate = s.identifiers[2]
            ds.AccessionNumber = s.identifiers[3]
            p = os.path.join(tmp, f"{i}.dcm")
            ds.save_as(p, enforce_file_format=True)
            paths.append(p)
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        timings = []
        for chunks in ([paths], [paths[k::jobs] for k in range(jobs)] if jobs > 1 else []):
            procs = [
                subprocess.Popen(
                    [python, "-c", PRESIDIO_SNIPPET, json.dumps(c)],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for c in chunks
            ]
            outs = [p.communicate(timeout=3600) for p in procs]
            if any(p.returncode != 0 for p in procs):
                sys.stderr.write("".join(o[1][-2000:] for o in outs))
                return {"error": 1.0}
            timings.append([json.loads(o[0].strip().splitlines()[-1]) for o in outs])
        timing = timings[0][0]
        elapsed = timing["elapsed"]
        import pydicom

        phi_hit = phi_n = oth_hit = oth_n = 0
        failed = {f[0] for f in timing["failed"]}
        for p, s in zip(paths, items, strict=True):
            before = pydicom.dcmread(p).pixel_array
            after = before if p in failed else pydicom.dcmread(p + ".red.dcm").pixel_array
            changed = np.any(before != after, axis=-1) if before.ndim == 3 else before != after
            for t in s.truth:
                x0, y0, x1, y1 = t.bbox
                frac = float(changed[y0:y1, x0:x1].mean())
                if t.phi:
                    phi_n += 1
                    phi_hit += frac >= 0.5  # presidio fills boxes; changed share is a proxy
                else:
                    oth_n += 1
                    oth_hit += frac >= 0.5
        return {
            "images": len(items),
            "recall": phi_hit / phi_n,
            "false_redaction": oth_hit / oth_n,
            "images_per_s": len(items) / elapsed,
            "cpu_s_per_image": timing["cpu"] / len(items),
            "failed_images": len(failed),
            **(
                {f"images_per_s_{jobs}_workers": len(items) / max(t["elapsed"] for t in timings[1])}
                if jobs > 1
                else {}
            ),
        }


def _clean_one(args: tuple[bytes, list[str], Detector]) -> int:
    import io

    import pydicom

    raw, identifiers, detector = args
    ds = pydicom.dcmread(io.BytesIO(raw))
    return clean_pixels(ds, identifiers, PixelPolicy(mode="phi-text", detector=detector)).boxes


_BARRIER: Any = None


def _worker_init(warm: tuple[bytes, list[str], Detector], barrier: Any) -> None:
    global _BARRIER
    _BARRIER = barrier
    _clean_one(warm)


def _meet(_: int) -> None:
    _BARRIER.wait(timeout=600)


def throughput(items: list[burned_text.Sample], detector: Detector, jobs: int) -> float:
    """Images/s of phi-text cleaning with ``jobs`` worker processes of one OCR thread each."""
    import io
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    def encoded(s: burned_text.Sample) -> tuple[bytes, list[str], Detector]:
        buf = io.BytesIO()
        s.ds.save_as(buf, enforce_file_format=True)
        return (buf.getvalue(), s.identifiers, detector)

    work = [encoded(s) for s in items]
    os.environ["PACSGUARD_OCR_THREADS"] = "1"
    ctx = multiprocessing.get_context("spawn")  # no fork after onnxruntime started threads
    # Every worker loads the models and cleans one image from outside the set before the
    # clock starts (presidio's engine is built before its clock starts, too).
    warm = encoded(warmup_sample(int(items[0].ds.Rows)))
    init = {"initializer": _worker_init, "initargs": (warm, ctx.Barrier(jobs))}
    with ProcessPoolExecutor(jobs, mp_context=ctx, **init) as pool:
        # `jobs` tasks that wait for each other run on `jobs` distinct, initialised workers.
        list(pool.map(_meet, range(jobs)))
        t0 = time.perf_counter()
        list(pool.map(_clean_one, work))
        return len(items) / (time.perf_counter() - t0)


def run_series(n: int) -> dict[str, float]:
    """phi-text cleaning of an ultrasound-like cine, one file per frame (the same burned-in
    lines over changing speckle): images/s with the recogniser's memory of line crops and
    without it (``CachedRecognizer.size = 0``), in one process of one thread."""
    from pacsguard.pixels import detect

    idents = ["DOE^JOHN", "PID001234", "20210314"]
    files = []
    for i in range(n):
        ds = burned_text.base_dataset(480, 640, "RGB", 8, False, 1)
        ds.PixelData = burned_text.us_series_frame(i).tobytes()
        files.append(burned_text.roundtrip(ds))
    out: dict[str, float] = {"images": n}
    for label, size in (("without_memory", 0), ("with_memory", 2048)):
        det = detect.RapidOcrDetector()
        rec = det._get().text_rec
        rec.size = size
        detect._instances["rapidocr"] = det  # the instance clean_pixels will use
        clean_pixels(burned_text.roundtrip(files[0]), idents, PixelPolicy(mode="phi-text"))  # warm
        rec.hits = rec.misses = 0
        t0 = time.perf_counter()
        for f in files[1:]:
            clean_pixels(burned_text.roundtrip(f), idents, PixelPolicy(mode="phi-text"))
        out[f"images_per_s_{label}"] = (n - 1) / (time.perf_counter() - t0)
        out[f"hit_rate_{label}"] = rec.hits / max(1, rec.hits + rec.misses)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=42)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--detector", default="rapidocr", choices=("rapidocr", "tesseract"))
    ap.add_argument("--kinds", default=",".join(KINDS), help="pixel formats, comma-separated")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes for throughput")
    ap.add_argument("--threads", type=int, default=1, help="OCR threads, single-process run (0: all)")
    ap.add_argument("--presidio", help="python of a venv with presidio-image-redactor")
    ap.add_argument("--series", type=int, default=0, help="also an N-frame cine, with and without memory")
    args = ap.parse_args()
    os.environ["PACSGUARD_OCR_THREADS"] = str(args.threads)  # read when the models load
    load_before = os.getloadavg()[0]
    items = samples(args.n, args.size, tuple(args.kinds.split(",")))
    res = {"pacsguard": run_pacsguard(items, "tesseract" if args.detector == "tesseract" else "rapidocr")}
    if args.jobs > 1:
        res["pacsguard"][f"images_per_s_{args.jobs}_workers"] = throughput(
            items, "tesseract" if args.detector == "tesseract" else "rapidocr", args.jobs
        )
    if args.presidio:
        res["presidio"] = run_presidio(items, args.presidio, args.jobs)
    if args.series:
        res["series"] = run_series(args.series)
    print(f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    for name, r in res.items():
        print(
            name,
            " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()),
        )


if __name__ == "__main__":
    main()
