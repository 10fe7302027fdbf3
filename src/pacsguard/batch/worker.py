"""One worker process: load an instance from the source, run the pipeline, stage the bytes.

The worker never raises for a bad instance: every failure is an outcome with a reason code
(the pipeline's), and a staging failure is ``failed`` / ``write-error`` with nothing left
half-written. The coordinator commits or discards what was staged.
"""

from __future__ import annotations

from dataclasses import dataclass

from pacsguard.deid.keys import SecretKey
from pacsguard.io.sinks import Sink, Staged
from pacsguard.io.sources import Source
from pacsguard.outcome import Outcome
from pacsguard.pipeline import Deidentifier, InstanceResult
from pacsguard.profile.policy import Policy

__all__ = ["FileWorker", "Processed", "WorkerConfig", "init_worker", "run_one"]


@dataclass(frozen=True)
class WorkerConfig:
    """What every worker needs to build its pipeline (pickled once per process)."""

    policy: Policy
    key: SecretKey
    linkage: bool = False
    want_thumbnails: bool = True  #: after-thumbnails for the review gallery
    show_values: bool = False  #: also keep before-thumbnails (they show the original text)


@dataclass(frozen=True)
class Processed:
    """A worker's answer for one handle: the result (bytes dropped) and what it staged."""

    result: InstanceResult
    staged: Staged = ""
    size: int = 0  #: bytes staged


class FileWorker:
    """Holds one process's pipeline, source and sink; :meth:`process` never raises."""

    def __init__(self, cfg: WorkerConfig, source: Source, sink: Sink) -> None:
        self.pipeline = Deidentifier(cfg.policy, cfg.key, linkage=cfg.linkage,
                                     want_thumbnails=cfg.want_thumbnails,
                                     show_values=cfg.show_values)
        self.source = source
        self.sink = sink

    def process(self, handle: str) -> Processed:
        try:
            loaded = self.source.load(handle)
        except Exception as exc:  # an object gone, a store unreachable: any client's error
            # type, never its text (a store's message quotes the key, an input path)
            return Processed(InstanceResult(
                Outcome.FAILED, handle, "unreadable",
                f"the file vanished or cannot be read ({type(exc).__name__})"))
        result = self.pipeline.process(loaded, handle)
        if not result.written:
            return Processed(result)
        assert result.payload is not None
        try:
            staged = self.sink.stage(result.name, result.payload, handle)
        except OSError as exc:
            return Processed(InstanceResult(
                Outcome.FAILED, handle, "write-error",
                f"cannot write the output ({exc.strerror or type(exc).__name__})",
                bytes_in=result.bytes_in))
        return Processed(result.without_data(), staged, result.payload.size)


# -- process-pool plumbing: one worker per process, built once ---------------------------
_WORKER: FileWorker | None = None


def init_worker(cfg: WorkerConfig, source: Source, sink: Sink) -> None:
    global _WORKER  # one OCR thread per worker process: pacsguard.pixels.ocrenv
    _WORKER = FileWorker(cfg, source, sink)


def run_one(handle: str) -> Processed:
    assert _WORKER is not None, "init_worker was not called"
    return _WORKER.process(handle)
