"""The OCR settings that come from the environment, read in this one place.

``PACSGUARD_OCR_RUNTIME`` (auto, openvino, onnxruntime), ``PACSGUARD_OCR_PRECISION`` (f32,
bf16, or the CPU's best) and ``PACSGUARD_OCR_THREADS`` (threads per inference session).
They tune speed, never what is blanked; the CLI validates them before any work.
"""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import dataclass

from pacsguard.errors import PolicyError

__all__ = ["PRECISIONS", "RUNTIMES", "THREADS_VAR", "OcrEnvironment", "ocr_environment"]

RUNTIMES = ("auto", "openvino", "onnxruntime")
PRECISIONS = ("", "f32", "bf16")
#: A batch sets this to 1 in its workers (one worker per core: more threads only contend).
THREADS_VAR = "PACSGUARD_OCR_THREADS"


@dataclass(frozen=True)
class OcrEnvironment:
    runtime: str  #: one of RUNTIMES
    precision: str  #: one of PRECISIONS ("" lets OpenVINO pick)
    threads: int  #: 0: the runtime's default (every core)


def ocr_environment() -> OcrEnvironment:
    """The variables, validated; read on each call (a worker may set them after import).

    Raises
    ------
    PolicyError
        An unknown runtime or precision.
    """
    runtime = os.environ.get("PACSGUARD_OCR_RUNTIME", "auto").strip().lower() or "auto"
    if runtime not in RUNTIMES:
        raise PolicyError(f"PACSGUARD_OCR_RUNTIME={runtime!r}: choose one of {', '.join(RUNTIMES)}")
    precision = os.environ.get("PACSGUARD_OCR_PRECISION", "").strip().lower()
    if precision not in PRECISIONS:
        raise PolicyError(f"PACSGUARD_OCR_PRECISION={precision!r}: choose f32 or bf16")
    env = os.environ.get(THREADS_VAR, "")
    if env.isdigit() and int(env) > 0:
        threads = int(env)
    else:  # one per worker process by default, every core for a single file
        threads = 1 if multiprocessing.parent_process() is not None else 0
    return OcrEnvironment(runtime, precision, threads)
