"""Scheduling: run the per-instance pipeline over many inputs on an executor, commit what it
staged, keep the journal and the summary."""

from pacsguard.batch.executor import Executor, LocalExecutor
from pacsguard.batch.hooks import GalleryCollector, LinkageTable, RunHook
from pacsguard.batch.run import run_deid
from pacsguard.batch.runner import DeidRun, DeidRunner
from pacsguard.batch.summary import Summary
from pacsguard.batch.worker import FileWorker, Processed, WorkerConfig

__all__ = [
    "DeidRun",
    "DeidRunner",
    "Executor",
    "FileWorker",
    "GalleryCollector",
    "LinkageTable",
    "LocalExecutor",
    "Processed",
    "RunHook",
    "Summary",
    "WorkerConfig",
    "run_deid",
]
