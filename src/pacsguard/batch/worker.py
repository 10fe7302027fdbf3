"""De-identify one file, in a worker process: read, check, mask, guard, write atomically.

A file is either written whole or not at all: every failure becomes an outcome with a
reason code, and an unexpected exception quarantines the file (fail closed) with only the
exception's type name (its message could quote a value).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydicom import dcmwrite
from pydicom.dataset import Dataset

from pacsguard.batch.reader import is_dicomdir, quiet_pydicom, read_dicom
from pacsguard.deid.engine import Deidentifier, DeidResult
from pacsguard.deid.keys import SecretKey
from pacsguard.deid.leakguard import LeakGuard, person_names
from pacsguard.deid.marking import mark
from pacsguard.deid.risk import document_risk, embedded_overlay_groups, pixel_risk
from pacsguard.errors import CorruptDicom, FailClosed, FileRejected, NotDicom
from pacsguard.profile.policy import Policy

if TYPE_CHECKING:
    from pacsguard.pixels import PixelPolicy, PixelResult

log = logging.getLogger("pacsguard.batch")


@dataclass(frozen=True)
class Outcome:
    """The result for one input; identity fields are filled only for the linkage table."""

    input: str
    outcome: str  #: written | quarantined | skipped | failed
    reason: str = ""
    detail: str = ""
    output: str = ""
    staged: str = ""  #: the temporary file the main process renames to ``output``
    bytes_in: int = 0
    bytes_out: int = 0
    pseudonym: str = ""
    identity: str = ""
    patient_name: str = ""
    pixels_cleaned: bool = False
    pixel_result: Any = None  #: a PixelResult (thumbnails for the review gallery)


@dataclass(frozen=True)
class WorkerConfig:
    policy: Policy
    key: SecretKey
    out_dir: Path
    linkage: bool = False
    want_thumbnails: bool = True  #: after-thumbnails for the review gallery
    show_values: bool = False  #: also keep before-thumbnails (they show the original text)


class FileWorker:
    """Holds the engine for one process; :meth:`process` never raises."""

    def __init__(self, cfg: WorkerConfig) -> None:
        quiet_pydicom()
        self._pixel_policy: PixelPolicy | None = None
        self._guard = LeakGuard(cfg.policy)
        self.cfg = cfg
        self.engine = Deidentifier(cfg.policy, cfg.key)

    def process(self, path: str) -> Outcome:
        p = Path(path)
        try:
            size = p.stat().st_size
        except OSError:
            return Outcome(path, "failed", "unreadable", "the file vanished or cannot be read")
        try:
            return self._process(p, size)
        except NotDicom as exc:
            return Outcome(path, "skipped", exc.code, exc.detail, bytes_in=size)
        except (CorruptDicom, FailClosed) as exc:
            return Outcome(path, "quarantined", exc.code, exc.detail, bytes_in=size)
        except FileRejected as exc:  # pragma: no cover - every subclass is handled above
            return Outcome(path, "quarantined", exc.code, exc.detail, bytes_in=size)
        except OSError as exc:
            return Outcome(path, "failed", "write-error",
                           f"cannot write the output ({exc.strerror or type(exc).__name__})",
                           bytes_in=size)
        except Exception as exc:  # fail closed on anything unexpected; no message: it may quote values
            known = known_cause(exc)
            if known:
                return Outcome(path, "quarantined", *known, bytes_in=size)
            log.debug("unexpected %s while de-identifying", type(exc).__name__)
            return Outcome(path, "quarantined", "processing-error",
                           f"unexpected {type(exc).__name__} while de-identifying", bytes_in=size)

    def _process(self, path: Path, size: int) -> Outcome:
        ds = read_dicom(path, self.cfg.policy.limits)
        if is_dicomdir(ds):
            return Outcome(str(path), "skipped", "dicomdir", "DICOMDIR: not copied (it names "
                           "input files); --media DIR builds a new one", bytes_in=size)
        doc = document_risk(ds)
        if doc:
            raise FailClosed(*doc)
        policy = self.cfg.policy
        risk = pixel_risk(ds, policy)
        embedded = embedded_overlay_groups(ds)
        needs_pixels = bool(risk) or bool(embedded)
        if needs_pixels and not policy.clean_pixels:
            if risk:
                raise FailClosed(risk[0], risk[1] + "; no pixel cleaner is on (--clean-pixels)")
            raise FailClosed("overlay-in-pixel-data",
                             "an overlay is stored in the pixel data's high bits")
        index = self._guard.index(ds)  # before masking: what verify would search for
        ctx = self.engine.context_for(ds, names=person_names(index))
        identity, name = ctx.identity, _text(ds, 0x00100010) if self.cfg.linkage else ""
        pixel_ids = sorted(ctx.ids.all_strings()) if needs_pixels else []
        result = self.engine.deidentify(ds, ctx)
        cleaned, pixel_result = False, None
        if needs_pixels:
            pixel_result = self._clean_pixels(ds, pixel_ids)
            mark(ds, policy, pixels_cleaned=True)
            cleaned = True
        rel = output_relpath(result)
        data = _encode(ds)
        leak = self._guard.find(index, data, ctx.shift_days)
        if leak is not None:
            raise FailClosed("residual-identifier", f"{leak.category or 'an'} identifier would "
                             f"remain at {leak.location} ({leak.kind}, from {leak.source})")
        staged, written = self._stage(data, rel, str(path))
        return Outcome(str(path), "written", output=rel, staged=staged, bytes_in=size,
                       bytes_out=written,
                       pseudonym=result.pseudonym, identity=identity if self.cfg.linkage else "",
                       patient_name=name, pixels_cleaned=cleaned, pixel_result=pixel_result)

    def _clean_pixels(self, ds: Dataset, identifiers: list[str]) -> PixelResult:
        if self._pixel_policy is None:
            self._pixel_policy = _pixel_policy(self.cfg.policy)
        from pacsguard.pixels import clean_pixels, detector_available

        policy = self._pixel_policy
        if not detector_available(policy.detector):
            raise FailClosed("no-pixel-cleaner", f"the {policy.detector} text detector is not "
                             "installed (pip install 'pacsguard[ocr]')")
        mode: Literal["all-text", "phi-text"] = "phi-text"
        wanted = self.cfg.policy.pixel_mode
        if wanted == "all-text" or (wanted == "auto" and _text(ds, 0x00080060).strip().upper()
                                    in _ALL_TEXT_MODALITIES):
            mode = "all-text"
        result = clean_pixels(ds, identifiers, replace(policy, mode=mode),
                              want_thumbnails=self.cfg.want_thumbnails)
        if result.thumbnails is not None and not self.cfg.show_values:
            result.thumbnails = (b"", result.thumbnails[1])  # the original is identifying
        return result

    def _stage(self, data: bytes, rel: str, source: str) -> tuple[str, int]:
        """Write next to the target under a hidden temporary name; the main process renames
        it into place (atomically), so it alone settles which input wins a duplicate."""
        target = self.cfg.out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        token = hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        tmp = target.with_name(f".{target.name}.{token}.tmp")
        try:
            tmp.write_bytes(data)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return str(tmp.relative_to(self.cfg.out_dir)), len(data)


def _encode(ds: Dataset) -> bytes:
    """The whole output file, in memory: the leak guard searches exactly what is written."""
    _decode_if_reencoded(ds)
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def known_cause(exc: BaseException) -> tuple[str, str] | None:
    """A precise reason for an exception whose cause is the input, not a bug: where it was
    raised says so (pydicom's character set codecs fail on text the declared set cannot hold,
    with IndexError, LookupError or UnicodeError alike)."""
    if isinstance(exc, MemoryError):
        return "too-large", "the file needs more memory than is available"
    if isinstance(exc, RecursionError):
        return "nesting-too-deep", "the file nests deeper than can be processed"
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return None
    code = tb.tb_frame.f_code
    where = code.co_filename.replace("\\", "/")
    if where.endswith("pydicom/charset.py") or code.co_name in ("_encode_personname",
                                                                 "_decode_personname"):
        return "charset-undecodable", "a text value does not fit its declared Specific Character Set"
    return None


def _decode_if_reencoded(ds: Dataset) -> None:
    """Kept elements stay raw (byte-exact); that only works if the output keeps the input's
    VR encoding. When pixel work changed the transfer syntax (or the file's own encoding did
    not match its declared one), decode everything so pydicom re-encodes it."""
    original = getattr(ds, "original_encoding", None)
    syntax = getattr(ds.file_meta, "TransferSyntaxUID", None)
    if not original or syntax is None:
        return
    mismatch = (original[0], original[1]) != (syntax.is_implicit_VR, syntax.is_little_endian)
    # pydicom reads a file whose body is implicit VR despite an explicit transfer syntax
    # (it warns and goes on): its raw elements then carry no VR to write.
    if not mismatch and not syntax.is_implicit_VR:
        mismatch = any(getattr(ds.get_item(t), "VR", "") is None for t in ds.keys())
    if mismatch:
        for _ in ds.iterall():
            pass  # iterating converts every raw element, at every depth


def output_relpath(result: DeidResult) -> str:
    """``PSEUDONYM/STUDY-UID/SERIES-UID/SOP-UID.dcm``: only pseudonymized values."""
    if not result.sop_uid:
        raise FailClosed("missing-sop-instance-uid", "no SOP Instance UID: cannot name the output")
    study = result.study_uid or "unknown-study"
    series = result.series_uid or "unknown-series"
    for part in (result.pseudonym, study, series, result.sop_uid):
        if "/" in part or part.startswith(".") or "\\" in part:
            raise FailClosed("unsafe-output-name", "a pseudonymized value is not a safe file name")
    return f"{result.pseudonym}/{study}/{series}/{result.sop_uid}.dcm"


#: Modalities whose burned-in text is all annotation: every line is blanked, not only PHI.
_ALL_TEXT_MODALITIES = frozenset({"US", "SC", "OT"})


def _pixel_policy(policy: Policy) -> PixelPolicy:
    from pacsguard.pixels import DEFAULT_REGIONS, PixelPolicy, rules_from_policy

    extra = rules_from_policy([json.loads(r) for r in policy.pixel_regions])
    detector: Literal["rapidocr", "tesseract"] = (
        "tesseract" if policy.pixel_detector == "tesseract" else "rapidocr")
    return PixelPolicy(detector=detector, margin=policy.pixel_margin,
                       regions=DEFAULT_REGIONS + extra)


def _text(ds: Dataset, tag: int) -> str:
    elem = ds.get(tag)
    return "" if elem is None or elem.value is None else str(elem.value)


# -- process-pool plumbing: one worker per process, built once ---------------------------
_WORKER: FileWorker | None = None


def init_worker(cfg: WorkerConfig) -> None:
    global _WORKER
    # One OCR thread per worker process: the pool already uses every core.
    os.environ.setdefault("PACSGUARD_OCR_THREADS", "1")
    _WORKER = FileWorker(cfg)


def run_one(path: str) -> Outcome:
    assert _WORKER is not None, "init_worker was not called"
    return _WORKER.process(path)
