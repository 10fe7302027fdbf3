"""What pacsguard changes inside rapidocr's engine once it is built, and why.

rapidocr-onnxruntime 1.4.x is used as a toolkit: its detection post-processing, line
cropping and CTC decoding are kept; three parts are replaced, each measured on
bench/pixels_bench.py (docs/pixels.md has the figures):

* detection preprocessing: one float32 OpenCV call instead of float64 NumPy;
* the inference sessions: OpenVINO instead of onnxruntime when installed
  (:mod:`pacsguard.pixels.runtime`);
* recognition: line crops already read in this process are not read again.

These reach into rapidocr's attributes (``text_det.get_preprocess``, ``text_det.infer``,
``text_rec.session``, ``text_rec``); pyproject pins rapidocr-onnxruntime below 2 and the
tests check each replacement is in place.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import numpy.typing as npt

from pacsguard.errors import FailClosed
from pacsguard.pixels.runtime import REC_WIDTH_STEP, OpenVinoSession, chosen_runtime

__all__ = ["CachedRecognizer", "DetPreprocess", "tune_engine"]

U8 = npt.NDArray[np.uint8]


def tune_engine(engine: Any, threads: int) -> None:
    """Apply the replacements to a freshly built ``RapidOCR`` engine."""
    det = engine.text_det
    make = det.get_preprocess
    det.get_preprocess = lambda max_wh: DetPreprocess(make(max_wh))
    if chosen_runtime() == "openvino":
        _use_openvino(engine, threads)
    engine.text_rec = CachedRecognizer(engine.text_rec)


class DetPreprocess:
    """rapidocr's detection preprocessing (resize to multiples of 32, normalise, to NCHW)
    in one float32 OpenCV call: rapidocr normalises in float64 and transposes into a
    non-contiguous array, about 12 ms for a 512x512 frame against 3 ms here."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        std = np.asarray(inner.std, dtype=np.float64)
        mean = np.asarray(inner.mean, dtype=np.float64)
        # (x * scale - mean) / std == (x - mean / scale) * (scale / std), one factor when
        # the channels share std (rapidocr's 0.5 for all three).
        self._same_std = bool(np.all(std == std[0]))
        self._mean = tuple(float(v) for v in mean / inner.scale)
        self._factor = float(inner.scale / std[0])

    def __call__(self, img: U8) -> npt.NDArray[np.float32] | None:
        if not self._same_std:
            return self._inner(img)  # type: ignore[no-any-return]
        resized = self._inner.resize(img)
        if resized is None:
            return None
        import cv2

        blob = cv2.dnn.blobFromImage(resized, scalefactor=self._factor, mean=self._mean)
        return np.asarray(blob, dtype=np.float32)


def _use_openvino(engine: Any, threads: int) -> None:
    """Swap rapidocr's onnxruntime sessions for OpenVINO ones on the same model files
    (see :mod:`pacsguard.pixels.runtime`). The recognition model's character list was
    already read from its metadata when rapidocr loaded it."""
    from rapidocr_onnxruntime import __file__ as rapidocr_init  # type: ignore[import-untyped]

    models = os.path.join(os.path.dirname(rapidocr_init), "models")
    try:
        det = OpenVinoSession(
            os.path.join(models, "ch_PP-OCRv4_det_infer.onnx"), threads=threads, static_shapes=True
        )
        rec = OpenVinoSession(
            os.path.join(models, "ch_PP-OCRv4_rec_infer.onnx"),
            threads=threads,
            static_shapes=False,
            pad_width_to=REC_WIDTH_STEP,
        )
    except (OSError, RuntimeError) as exc:
        raise FailClosed("pixel-detector", "OpenVINO could not load the rapidocr models") from exc
    engine.text_det.infer = det
    engine.text_rec.session = rec


class CachedRecognizer:
    """rapidocr's recogniser with a per-process memory of line crops already read.

    A series shows the same burned-in lines (name, ID, hospital, settings) at the same
    pixels on image after image, and identical crops read identically (lines are read one
    per call, so a reading never depends on the other lines). The key is a digest of the
    crop's shape and bytes; the remembered text stays in this process's memory, like the
    images it came from, and is never written anywhere.
    """

    #: Crops remembered (least recently used dropped first).
    size = 2048

    def __init__(self, recognizer: Any) -> None:
        self.recognizer = recognizer
        self.hits = 0
        self.misses = 0
        self._memory: OrderedDict[bytes, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(crop: U8) -> bytes:
        h = hashlib.blake2b(digest_size=20)
        h.update(repr((crop.shape, crop.dtype.str)).encode())
        h.update(np.ascontiguousarray(crop).data)
        return h.digest()

    def __call__(self, img_list: U8 | list[U8], return_word_box: bool = False) -> tuple[list[Any], float]:
        crops = [img_list] if isinstance(img_list, np.ndarray) else list(img_list)
        if return_word_box:  # word boxes are not remembered
            return self.recognizer(crops, return_word_box)  # type: ignore[no-any-return]
        keys = [self._key(c) for c in crops]
        out: list[Any] = [None] * len(crops)
        todo: list[int] = []
        with self._lock:
            for i, k in enumerate(keys):
                got = self._memory.get(k)
                if got is None:
                    todo.append(i)
                else:
                    self._memory.move_to_end(k)
                    out[i] = got
            self.hits += len(crops) - len(todo)
            self.misses += len(todo)
        elapse = 0.0
        if todo:
            read, elapse = self.recognizer([crops[i] for i in todo], False)
            with self._lock:
                for i, res in zip(todo, read, strict=True):
                    out[i] = (str(res[0]), float(res[1]))
                    self._memory[keys[i]] = out[i]
                while len(self._memory) > self.size:
                    self._memory.popitem(last=False)
        return out, elapse
