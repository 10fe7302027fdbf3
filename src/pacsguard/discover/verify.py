"""``verify_trees``: does a de-identified copy (made by any tool) leak anything?

Two passes over files, shared across worker processes: the originals (identifier index and
records), then the outputs (search and records). Then set-level checks: pairing, grouping,
references, date shifts, validity (dciodvfy) and text in pixels.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from pacsguard.dicom.fswalk import iter_files, rel_posix
from pacsguard.dicom.reader import read_dicom_file
from pacsguard.dicom.settings import pydicom_scope
from pacsguard.discover.dates import check_dates, shifted_locations
from pacsguard.discover.findings import Leak, VerifyReport, mask_value
from pacsguard.discover.identifiers import DEFAULT_MIN_LENGTH, IdentifierIndex
from pacsguard.discover.judge import identifies
from pacsguard.discover.passes import (
    IndexPart,
    SearchPart,
    index_chunk,
    search_chunk,
    set_worker_index,
)
from pacsguard.discover.pixelcheck import PixelChecker
from pacsguard.discover.records import FileRecord
from pacsguard.discover.search import search_names
from pacsguard.discover.uids import check_grouping, check_references, counts, pair_records
from pacsguard.discover.validity import dciodvfy_available, new_errors
from pacsguard.errors import CorruptDicom, InputError, NotDicom, UsageError

__all__ = ["verify_trees"]

log = logging.getLogger(__name__)
T = TypeVar("T")
_CHUNK = 16  # files per task: small enough to balance, large enough to amortise pickling
_POOL_FROM = 48  # below this many files, one process is faster than starting workers


def verify_trees(
    originals: Path,
    deidentified: Path,
    *,
    show_values: bool = False,
    pixel_detector: str | None = None,
    pixels: str = "risky",
    dciodvfy: str | bool = "sample",
    min_length: int = DEFAULT_MIN_LENGTH,
    workers: int = 0,
) -> VerifyReport:
    """Check ``deidentified`` against ``originals`` and return every leak found.

    Parameters
    ----------
    originals, deidentified
        Folders (or single files) before and after de-identification.
    show_values
        Put the identifying values in the report (off by default: values are masked).
    pixel_detector
        Text detector name for pixel data and overlays (e.g. ``"rapidocr"``); None skips.
    pixels
        ``"risky"``: read text only in images that may carry burned-in text: the original or
        the output is risky by the engine's own predicate (:func:`pacsguard.discover.risk.pixel_risk`,
        default modalities) or has an overlay plane; ``"all"``: every image.
    dciodvfy
        ``"sample"`` (default): run dciodvfy on one output per series and element structure
        and its original; ``"all"``: on every pair; ``"off"`` (or False): parse check only.
        Nothing is run when dciodvfy is not installed.
    min_length
        Shortest identifier (in letters and digits) searched for.
    workers
        Worker processes (0: one per CPU).
    """
    for p, what in ((originals, "originals"), (deidentified, "de-identified copy")):
        if not p.exists():
            # Input paths may name patients: the message does not repeat them.
            raise InputError(f"the {what} path does not exist")
    if pixels not in ("risky", "all"):
        raise UsageError(f"pixels must be 'risky' or 'all', not {pixels!r}")
    mode = {True: "sample", False: "off"}.get(dciodvfy, dciodvfy) if isinstance(
        dciodvfy, bool) else dciodvfy
    if mode not in ("sample", "all", "off"):
        raise UsageError(f"dciodvfy must be 'sample', 'all' or 'off', not {dciodvfy!r}")
    # pydicom warnings quote values ("Invalid value for VR UI: 'ACC2111...'"): never show them.
    with pydicom_scope():
        return _verify(originals, deidentified, show_values, pixel_detector, pixels, mode,
                       min_length, workers or os.cpu_count() or 1)


def _chunks(paths: list[Path]) -> list[list[str]]:
    names = [str(p) for p in paths]
    return [names[i : i + _CHUNK] for i in range(0, len(names), _CHUNK)]


def _map(pool: Executor | None, fn: Callable[..., T], jobs: Iterable[tuple[object, ...]]
         ) -> list[T]:
    if pool is None:
        return [fn(*job) for job in jobs]
    futures = [pool.submit(fn, *job) for job in jobs]
    return [f.result() for f in futures]


def _pool(n_files: int, workers: int, index: IdentifierIndex | None = None,
          show_values: bool = False, all_pixels: bool = False) -> ProcessPoolExecutor | None:
    """A worker pool, or None to work in this process (small inputs, one worker)."""
    if index is not None:
        set_worker_index(index, show_values, all_pixels)  # for in-process and forked workers
    if workers <= 1 or n_files < _POOL_FROM:
        return None
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    if index is None:
        return ProcessPoolExecutor(workers, mp_context=ctx)
    return ProcessPoolExecutor(workers, mp_context=ctx, initializer=set_worker_index,
                               initargs=(index, show_values, all_pixels))


def _verify(originals: Path, deidentified: Path, show_values: bool, pixel_detector: str | None,
            pixels: str, dciodvfy: str, min_length: int, workers: int) -> VerifyReport:
    report = VerifyReport(show_values=show_values)
    index = IdentifierIndex(min_length=min_length)

    # Pass 1: originals.
    orig_files = list(iter_files([originals], unique=True))
    pool = _pool(len(orig_files), workers)
    try:
        parts: list[IndexPart] = _map(pool, index_chunk, [
            (str(originals), chunk, min_length) for chunk in _chunks(orig_files)])
    finally:
        if pool is not None:
            pool.shutdown()
    orig_records: list[FileRecord] = []
    orig_risky: set[str] = set()
    for part in parts:
        index.merge(part.index)
        orig_records.extend(part.records)
        orig_risky |= part.risky
    if not orig_records:
        raise InputError("no DICOM file among the originals")
    report.originals = len(orig_records)
    report.identifiers_indexed = len(index)
    index.matcher  # compile once here, so forked workers inherit it  # noqa: B018

    # Pass 2: outputs.
    out_files = list(iter_files([deidentified], unique=True))
    pool = _pool(len(out_files), workers, index=index, show_values=show_values,
                 all_pixels=pixels == "all")
    try:
        found: list[SearchPart] = _map(pool, search_chunk, [
            (str(deidentified), chunk) for chunk in _chunks(out_files)])
    finally:
        if pool is not None:
            pool.shutdown()
    leaks: list[Leak] = []
    weak: list[tuple[Leak, bytes]] = []
    out_records: list[FileRecord] = []
    out_risky: set[str] = set()
    shapes: dict[str, str] = {}
    for sp in found:
        leaks.extend(sp.leaks)
        weak.extend(sp.weak)
        out_records.extend(sp.records)
        out_risky |= sp.risky
        shapes.update(sp.shapes)
        report.outputs += sp.dicom
        report.other_files += sp.other
    name_leaks, name_weak = search_names((rel_posix(p, deidentified) for p in out_files), index,
                                         show_values)
    leaks.extend(name_leaks)

    # Set-level checks.
    pairs = pair_records(orig_records, out_records)
    leaks.extend(_own_patients(weak + name_weak, pairs, index))
    report.paired = len(pairs)
    report.counts_in = counts(orig_records)
    report.counts_out = counts(out_records)
    leaks.extend(check_grouping(pairs, out_records))
    original_uids = {i.value for i in index.info.values() if i.category == "uid"
                     and any(identifies(s, frozenset())[0] for s in i.sources)}
    leaks.extend(check_references(pairs, orig_records, out_records, original_uids))
    date_leaks, usual_days = check_dates(pairs, out_records, show_values)
    leaks = _drop_shifted_coincidences(leaks, usual_days, index, deidentified) + date_leaks
    unpaired_out = len([r for r in out_records if not r.is_dicomdir]) - len(pairs)
    if unpaired_out:
        report.notes.append(f"{unpaired_out} output file(s) could not be paired with an original "
                            "(single words of person names are not searched in them)")
    unpaired_in = report.counts_in.get("instances", 0) - len(pairs)
    if unpaired_in:
        report.notes.append(f"{unpaired_in} original file(s) have no output (dropped or unpaired)")

    leaks.extend(_validity(report, pairs, out_records, shapes, originals, deidentified, dciodvfy))
    leaks.extend(_pixels(report, pixel_detector, pixels, pairs, out_risky, orig_risky, index,
                         deidentified, show_values))
    if not show_values:
        leaks = _mask_paths(leaks, index)
    report.leaks = sorted(set(leaks))
    return report


def _own_patients(weak: list[tuple[Leak, bytes]], pairs: dict[str, FileRecord],
                  index: IdentifierIndex) -> list[Leak]:
    """The weak hits that are leaks: found in a file (or above a file, for a folder name)
    of a patient the word came from. In an output paired with no original, whose patient is
    unknown, single name words are not judged (the report's notes say how many outputs)."""
    patients_under: dict[str, set[str]] = defaultdict(set)
    for rel, orig in pairs.items():
        parts = rel.split("/")
        for i in range(1, len(parts) + 1):
            patients_under["/".join(parts[:i])].add(orig.patient)
    kept: dict[tuple[str, str, str], Leak] = {}
    for leak, key in weak:
        info = index.lookup(key)
        owners = patients_under.get(leak.path)
        if info is None or owners is None or not owners & info.patients:
            continue
        kept.setdefault((leak.path, leak.location, leak.kind), leak)
    return list(kept.values())


def _drop_shifted_coincidences(leaks: list[Leak], usual_days: dict[str, int],
                               index: IdentifierIndex, root: Path) -> list[Leak]:
    """Drop date leaks whose every date is an original date moved by the file's patient's
    usual offset (:func:`shifted_locations`), read again from the few files concerned."""
    suspects: dict[str, set[str]] = defaultdict(set)
    for lk in leaks:
        if lk.category == "date" and lk.kind in ("value", "raw-bytes") and lk.path in usual_days:
            suspects[lk.path].add(lk.location)
    if not suspects:
        return leaks
    explained: set[tuple[str, str]] = set()
    for rel, locations in suspects.items():
        try:
            df = read_dicom_file(root / rel)
        except (NotDicom, CorruptDicom):
            continue
        explained.update((rel, loc) for loc in shifted_locations(df.ds, locations, index,
                                                                 usual_days[rel]))
    return [lk for lk in leaks
            if not (lk.category == "date" and (lk.path, lk.location) in explained)]


def _mask_paths(leaks: list[Leak], index: IdentifierIndex) -> list[Leak]:
    """Mask the path components that hold an identifier (a folder named after the patient
    would otherwise print the name in every leak line below it)."""
    cache: dict[str, str] = {}

    def component(part: str) -> str:
        if part not in cache:
            if index.matcher.keys_in_text(part):
                stem, dot, ext = part.rpartition(".")
                keep_ext = dot and stem and 0 < len(ext) <= 4 and ext.isalnum()
                cache[part] = mask_value(stem) + "." + ext if keep_ext else mask_value(part)
            else:
                cache[part] = part
        return cache[part]

    out = []
    for leak in leaks:
        masked = "/".join(component(p) for p in leak.path.split("/"))
        out.append(leak if masked == leak.path else replace(leak, path=masked))
    return out


def _validity(report: VerifyReport, pairs: dict[str, FileRecord], outputs: list[FileRecord],
              shapes: dict[str, str], originals: Path, deidentified: Path, mode: str
              ) -> list[Leak]:
    if mode == "off" or not dciodvfy_available():
        report.validity_check = ("parse only (dciodvfy off)" if mode == "off"
                                 else "parse only (dciodvfy not installed)")
        return []
    by_rel = {o.rel: o for o in outputs}
    chosen: dict[tuple[str, str], str] = {}
    for rel in sorted(pairs):
        key = (by_rel[rel].series, shapes.get(rel, "")) if mode == "sample" else (rel, "")
        chosen.setdefault(key, rel)
    triples = [(originals / pairs[rel].rel if originals.is_dir() else originals,
                deidentified / rel if deidentified.is_dir() else deidentified, rel)
               for rel in sorted(chosen.values())]
    report.validity_check = (
        f"dciodvfy on {len(triples)} of {len(pairs)} pair(s)"
        + (" (one per output series and element structure; --dciodvfy all for each)"
           if mode == "sample" else "")
    )
    return new_errors(triples)


def _pixels(report: VerifyReport, detector: str | None, pixels: str,
            pairs: dict[str, FileRecord], out_risky: set[str], orig_risky: set[str],
            index: IdentifierIndex, deidentified: Path, show_values: bool) -> list[Leak]:
    checker = PixelChecker(detector)
    leaks: list[Leak] = []
    if checker.active:
        # Single words of names are looked for only in their own patients' images.
        strong: set[str] = set()
        weak: dict[str, set[str]] = defaultdict(set)
        for key, info in index.info.items():
            if info.category == "uid" or index.lookup(key) is None:
                continue
            if not info.weak:
                strong.add(info.value)
            for patient in info.patients:
                weak[patient].add(info.value)
        todo = sorted(out_risky | {r for r, o in pairs.items() if o.rel in orig_risky})
        for rel in todo:
            try:
                df = read_dicom_file(deidentified / rel if deidentified.is_dir() else deidentified)
            except (NotDicom, CorruptDicom):
                continue
            owner = pairs.get(rel)
            own = owner.patient if owner is not None else None
            values = sorted(strong | weak.get(owner.patient, set())) if owner else sorted(strong)
            leaks.extend(checker.check(df.ds, rel, index, values, show_values, own))
        checker.status += f" on {len(todo)} image(s) ({pixels})"
    else:
        report.notes.append(f"pixel check {checker.status}")
    report.pixel_check = checker.status
    return leaks
