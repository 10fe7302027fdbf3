"""Which inference runtime runs rapidocr's two ONNX models.

rapidocr-onnxruntime runs its detection and recognition models with onnxruntime. When
OpenVINO is installed (``pip install 'pacsguard[ocr]'`` brings it), pacsguard swaps in
OpenVINO sessions for the same ``.onnx`` files instead, because it is several times faster
on one thread on the CPUs this tool runs on:

* detection is compiled for the frame shapes it meets (about 0.4 s per shape, once per
  process; the first four at once, later ones when met a second time, eight at most, the
  rest on the dynamic model), since OpenVINO runs a static shape about 1.5x faster than the
  same model left dynamic;
* recognition stays dynamic, but every text line is padded to a width that is a multiple
  of :data:`REC_WIDTH_STEP` (with the value rapidocr itself pads with), so the kernels
  prepared for a width are reused instead of prepared again for each line.

OpenVINO's default precision is kept: bfloat16 where the CPU has AMX or AVX-512 BF16,
float32 elsewhere (``PACSGUARD_OCR_PRECISION=f32`` forces float32).
``PACSGUARD_OCR_RUNTIME`` chooses: ``auto`` (default: OpenVINO when importable),
``openvino`` (fail closed when missing) or ``onnxruntime``. Only OpenVINO's runtime is
used (no model conversion tools, so none of its telemetry).
"""

from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import numpy.typing as npt

from pacsguard.errors import FailClosed, PolicyError
from pacsguard.pixels.ocrenv import ocr_environment

__all__ = ["REC_WIDTH_STEP", "OpenVinoSession", "check_environment", "chosen_runtime"]

F32 = npt.NDArray[np.float32]
#: Recognition inputs are padded to a multiple of this width.
REC_WIDTH_STEP = 32
#: Compiled detection shapes kept per process.
DET_SHAPES_KEPT = 4
#: Static compiles per process at most; shapes beyond run on the dynamic model.
STATIC_COMPILES = 8


def chosen_runtime() -> str:
    """``openvino`` or ``onnxruntime``, from ``PACSGUARD_OCR_RUNTIME`` and what is installed.

    Raises
    ------
    PolicyError
        The variable names no known runtime.
    FailClosed
        ``pixel-detector`` when ``openvino`` is asked for and not installed.
    """
    wanted = ocr_environment().runtime
    has_ov = importlib.util.find_spec("openvino") is not None
    if wanted == "openvino" and not has_ov:
        raise FailClosed("pixel-detector", "PACSGUARD_OCR_RUNTIME=openvino but OpenVINO is not installed")
    if wanted == "onnxruntime" or not has_ov:
        return "onnxruntime"
    return "openvino"


def check_environment() -> None:
    """Validate the OCR environment variables up front (the CLI calls this before any
    work), so a misspelt value is one clear error instead of every image quarantined.

    Raises
    ------
    PolicyError
        An unknown runtime or precision, or ``openvino`` asked for and not installed.
    """
    try:
        chosen_runtime()
    except FailClosed as exc:
        raise PolicyError(exc.detail) from exc


class OpenVinoSession:
    """Callable like rapidocr's ``OrtInferSession``: ``session(x)[0]`` is the first output.

    Parameters
    ----------
    model_path
        The ``.onnx`` file.
    threads
        Inference threads; 0 leaves OpenVINO's default (every core).
    static_shapes
        Compile one model per input shape (detection) instead of one dynamic model.
    pad_width_to
        Pad the last axis with zeros to a multiple of this (recognition); 0 for none.
    """

    def __init__(self, model_path: str, *, threads: int, static_shapes: bool, pad_width_to: int = 0) -> None:
        import openvino as ov  # type: ignore[import-untyped]

        self._core = ov.Core()
        self._model = self._core.read_model(model_path)
        # No CPU pinning: a batch runs one single-thread process per core, and pinned
        # processes all land on the same core (two workers ran at half speed each).
        self._config: dict[str, Any] = {
            "NUM_STREAMS": 1,
            "PERFORMANCE_HINT": "LATENCY",
            "ENABLE_CPU_PINNING": False,
        }
        if threads > 0:
            self._config["INFERENCE_NUM_THREADS"] = threads
        precision = ocr_environment().precision
        if precision:
            self._config["INFERENCE_PRECISION_HINT"] = precision
        self._static = static_shapes
        self._pad = pad_width_to
        self._requests: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._dynamic: Any = None
        self._seen: dict[tuple[int, ...], int] = {}
        self._compiles = 0
        # An infer request serves one call at a time (onnxruntime sessions allowed more).
        self._lock = threading.Lock()

    def _dynamic_request(self) -> Any:
        if self._dynamic is None:
            compiled = self._core.compile_model(self._model, "CPU", self._config)
            self._dynamic = compiled.create_infer_request()
        return self._dynamic

    def _request(self, shape: tuple[int, ...]) -> Any:
        if not self._static:
            return self._dynamic_request()
        req = self._requests.get(shape)
        if req is not None:
            self._requests.move_to_end(shape)
            return req
        # A compile costs about ten detections: the first shapes of a process are compiled
        # at once (a batch is mostly one or two shapes), later ones only when met again,
        # and never more than STATIC_COMPILES in all, so that an archive of many sizes
        # costs dynamic runs, not a compile per file.
        seen = self._seen.get(shape, 0)
        self._seen[shape] = seen + 1
        if len(self._seen) > 4096:
            self._seen.clear()
        if self._compiles >= STATIC_COMPILES or (self._compiles >= DET_SHAPES_KEPT and not seen):
            return self._dynamic_request()
        model = self._model.clone()
        model.reshape(list(shape))
        req = self._core.compile_model(model, "CPU", self._config).create_infer_request()
        self._compiles += 1
        self._requests[shape] = req
        if len(self._requests) > DET_SHAPES_KEPT:
            self._requests.popitem(last=False)
        return req

    def __call__(self, x: F32) -> list[F32]:
        if self._pad:
            width = x.shape[-1]
            padded = -(-width // self._pad) * self._pad
            if padded != width:
                grown = np.zeros((*x.shape[:-1], padded), dtype=np.float32)
                grown[..., :width] = x
                x = grown
        x = np.ascontiguousarray(x, dtype=np.float32)
        with self._lock:
            try:
                out = self._request(tuple(int(d) for d in x.shape)).infer({0: x})
            except RuntimeError as exc:  # how OpenVINO reports compile and inference errors
                raise FailClosed("pixel-detector", f"OpenVINO failed on a {x.shape} input") from exc
            # Copy: the request reuses its output buffer on the next call.
            return [np.array(out[0], dtype=np.float32, copy=True)]
