"""Walk inputs, run parallel workers, keep the journal and the quarantine list."""

from pacsguard.batch.runner import DeidRun, Summary, run_deid
from pacsguard.batch.worker import FileWorker, Outcome, WorkerConfig

__all__ = ["DeidRun", "FileWorker", "Outcome", "Summary", "WorkerConfig", "run_deid"]
