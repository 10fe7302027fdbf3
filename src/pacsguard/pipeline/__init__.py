"""One instance in, one outcome out: the per-instance pipeline every copy path runs."""

from pacsguard.outcome import Outcome
from pacsguard.pipeline.deidentifier import Deidentifier
from pacsguard.pipeline.result import InstanceResult

__all__ = ["Deidentifier", "InstanceResult", "Outcome"]
