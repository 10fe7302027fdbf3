"""Offline text detectors behind one small interface.

* ``rapidocr`` (default): rapidocr-onnxruntime, whose wheel ships the PP-OCRv4 ONNX
  models, so nothing is downloaded at run time. About 0.27 CPU-seconds per 512x512 image
  on one thread (detection at the frame's own size, lines read one per call, little padding).
* ``tesseract``: Debian's ``tesseract`` binary (``tesseract-ocr tesseract-ocr-eng``),
  run as a subprocess with ``OMP_THREAD_LIMIT=1``; small images are upscaled 2x first
  because tesseract misses text under ~12 px, and it reads twice (binarised brightest
  pixels, then the plain picture), so it costs about 0.5 s per 512x512 image.

A detector takes an 8-bit RGB array and returns :class:`OcrBox` es in that array's pixel
coordinates. Recognised text may be identifying: never log it.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from pacsguard.errors import FailClosed, PolicyError
from pacsguard.pixels.ocrenv import ocr_environment
from pacsguard.pixels.tuning import tune_engine

__all__ = [
    "DETECTORS",
    "OcrBox",
    "RapidOcrDetector",
    "TesseractDetector",
    "TextDetector",
    "detector_available",
    "get_detector",
]

U8 = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class OcrBox:
    """One text line found by a detector: ``bbox`` is (x0, y0, x1, y1), exclusive ends."""

    bbox: tuple[int, int, int, int]
    text: str
    score: float


class TextDetector(Protocol):
    """What the redactor needs from an OCR engine."""

    name: str

    def available(self) -> bool:
        """True when the engine and its models are installed."""
        ...

    def detect(self, rgb: U8, *, read: bool = True) -> list[OcrBox]:
        """Find (and, if ``read``, read) text lines in an ``(rows, columns, 3)`` uint8 image.

        With ``read=False`` a detector may skip recognition and return empty texts; the
        all-text mode uses that, since it blanks every line whatever it says.
        """
        ...


def _clip_box(x0: float, y0: float, x1: float, y1: float, w: int, h: int) -> tuple[int, int, int, int]:
    return (
        max(0, int(np.floor(x0))),
        max(0, int(np.floor(y0))),
        min(w, int(np.ceil(x1))),
        min(h, int(np.ceil(y1))),
    )


class RapidOcrDetector:
    """rapidocr-onnxruntime with the models from its wheel; angle classifier off."""

    name = "rapidocr"
    #: Frames whose short side is below this are upscaled to it for detection.
    det_min_side = 512
    #: Text lines are resized to this height for recognition (the model's own).
    rec_height = 48
    #: Narrower lines are padded to this width (rapidocr's 320 pads most short lines
    #: to two or three times their width, and padding costs as much as text).
    rec_min_width = 144

    def __init__(self) -> None:
        self._engine: Any = None
        self._lock = threading.Lock()

    def available(self) -> bool:
        return importlib.util.find_spec("rapidocr_onnxruntime") is not None

    def _get(self) -> Any:
        with self._lock:
            if self._engine is None:
                from rapidocr_onnxruntime import RapidOCR  # type: ignore[import-untyped]

                # rapidocr reads lower-case ``det_*``/``rec_*`` keys and plain global ones;
                # any other spelling is silently ignored.
                kwargs: dict[str, Any] = {
                    # Lowered from 0.5: faint, small burned-in text scores low, and the
                    # faint tail of a line the detector split is found at 0.3.
                    "det_box_thresh": 0.3,
                    "text_score": 0.3,
                    # No upscaling of 512-px frames to 736 (twice the pixels, twice the
                    # cost); smaller frames still go up to 512 on their short side.
                    "det_limit_type": "min",
                    "det_limit_side_len": self.det_min_side,
                    # One line per call: a batch pads every line to its widest, which
                    # costs more than batching saves.
                    "rec_img_shape": [3, self.rec_height, self.rec_min_width],
                    "rec_batch_num": 1,
                }
                threads = ocr_environment().threads
                if threads:
                    kwargs["intra_op_num_threads"] = threads
                    kwargs["inter_op_num_threads"] = 1
                engine = RapidOCR(**kwargs)
                tune_engine(engine, threads)
                self._engine = engine
            return self._engine

    def detect(self, rgb: U8, *, read: bool = True) -> list[OcrBox]:
        engine = self._get()
        h, w = rgb.shape[:2]
        # rapidocr expects OpenCV's BGR order.
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        boxes: list[OcrBox] = []
        if not read:  # detection only: about half the cost
            quads, _ = engine(bgr, use_cls=False, use_rec=False)
            for quad in quads or []:
                pts = np.asarray(quad, dtype=np.float64)
                x0, y0 = pts[:, 0].min(), pts[:, 1].min()
                boxes.append(OcrBox(_clip_box(x0, y0, pts[:, 0].max(), pts[:, 1].max(), w, h), "", 1.0))
            return boxes
        result, _ = engine(bgr, use_cls=False)
        for quad, text, score in result or []:
            pts = np.asarray(quad, dtype=np.float64)
            boxes.append(
                OcrBox(
                    _clip_box(pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max(), w, h),
                    str(text),
                    float(score),
                )
            )
        return boxes


class TesseractDetector:
    """The ``tesseract`` command line, TSV output grouped into lines."""

    name = "tesseract"
    min_confidence = 30.0

    def available(self) -> bool:
        return shutil.which("tesseract") is not None

    def detect(self, rgb: U8, *, read: bool = True) -> list[OcrBox]:
        from PIL import Image

        h, w = rgb.shape[:2]
        scale = 2 if max(h, w) <= 1024 else 1
        grey = Image.fromarray(rgb).convert("L")
        if scale > 1:
            grey = grey.resize((w * scale, h * scale), Image.Resampling.LANCZOS)
        arr = np.asarray(grey)
        # Pass 1: the brightest pixels as black on white. Burned-in text is usually the
        # brightest thing, and tesseract reads dark-on-light over a clean page far better
        # than light text over noise. Pass 2: the plain picture, for everything else.
        thr = max(float(np.percentile(arr, 97)), 128.0)
        binary = Image.fromarray(np.where(arr >= thr, 0, 255).astype(np.uint8))
        boxes: list[OcrBox] = []
        for img in (binary, grey):
            boxes += self._run(img, scale, w, h)
        return boxes

    def _run(self, img: Any, scale: int, w: int, h: int) -> list[OcrBox]:
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        try:
            proc = subprocess.run(
                ["tesseract", "stdin", "stdout", "-l", "eng", "--psm", "11", "tsv"],
                input=buf.getvalue(),
                capture_output=True,
                env=env,
                timeout=120,
                check=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise FailClosed("pixel-detector", "tesseract failed") from exc
        lines: dict[tuple[str, str, str, str], list[tuple[int, int, int, int, str, float]]] = {}
        reader = csv.DictReader(
            io.StringIO(proc.stdout.decode("utf-8", "replace")),
            delimiter="\t",
            quoting=csv.QUOTE_NONE,
        )
        for row in reader:
            text = (row.get("text") or "").strip()
            if row.get("level") != "5" or not text:
                continue
            conf = float(row.get("conf") or -1)
            if conf < self.min_confidence or not any(c.isalnum() for c in text):
                continue  # psm 11 reads noise as low-confidence punctuation
            key = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
            x, y = int(row["left"]), int(row["top"])
            lines.setdefault(key, []).append(
                (x, y, x + int(row["width"]), y + int(row["height"]), text, conf)
            )
        boxes: list[OcrBox] = []
        for words in lines.values():
            x0 = min(wd[0] for wd in words) / scale
            y0 = min(wd[1] for wd in words) / scale
            x1 = max(wd[2] for wd in words) / scale
            y1 = max(wd[3] for wd in words) / scale
            text = " ".join(wd[4] for wd in words)
            score = max(0.0, min(wd[5] for wd in words)) / 100.0
            boxes.append(OcrBox(_clip_box(x0, y0, x1, y1, w, h), text, score))
        return boxes


DETECTORS: dict[str, type[RapidOcrDetector] | type[TesseractDetector]] = {
    "rapidocr": RapidOcrDetector,
    "tesseract": TesseractDetector,
}
_instances: dict[str, TextDetector] = {}


def detector_available(name: str) -> bool:
    """True when detector ``name`` can run on this machine."""
    cls = DETECTORS.get(name)
    return cls is not None and cls().available()


def get_detector(name: str) -> TextDetector:
    """The shared instance of detector ``name`` (models load once per process).

    Raises
    ------
    PolicyError
        Unknown detector name.
    FailClosed
        ``pixel-detector`` when the detector is not installed.
    """
    cls = DETECTORS.get(name)
    if cls is None:
        raise PolicyError(f"unknown text detector {name!r} (choose: {', '.join(DETECTORS)})")
    inst = _instances.get(name)
    if inst is None:
        inst = cls()
        if not inst.available():
            raise FailClosed("pixel-detector", f"text detector {name} is not installed")
        _instances[name] = inst
    return inst
