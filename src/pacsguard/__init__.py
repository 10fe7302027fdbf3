"""pacsguard: find where medical images leak personal data, and mask it.

The public API, for scripts that do not go through the command line::

    from pacsguard import Deidentifier, Outcome, Policy, resolve_key, run_deid

    key, _ = resolve_key(Path("site.key"))
    result = Deidentifier(Policy(), key).process(Path("in.dcm"))
    if result.outcome is Outcome.WRITTEN:
        Path("out", result.name).write_bytes(result.data)   # else: result.reason

Names are imported on first use (an explicit table, no guessing), so ``pacsguard audit``
and ``--help`` do not pay for pydicom and numpy at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Action": "pacsguard.profile",
    "DeidRun": "pacsguard.batch",
    "DeidRunner": "pacsguard.batch",
    "Deidentifier": "pacsguard.pipeline",
    "FailClosed": "pacsguard.errors",
    "FileRejected": "pacsguard.errors",
    "FolderSink": "pacsguard.io",
    "FolderSource": "pacsguard.io",
    "InstanceResult": "pacsguard.pipeline",
    "Option": "pacsguard.profile",
    "Outcome": "pacsguard.outcome",
    "PacsguardError": "pacsguard.errors",
    "Policy": "pacsguard.profile",
    "PolicyError": "pacsguard.errors",
    "SecretKey": "pacsguard.deid",
    "SecretKeyError": "pacsguard.errors",
    "Summary": "pacsguard.batch",
    "WorkerConfig": "pacsguard.batch",
    "load_policy": "pacsguard.profile",
    "read_dicom": "pacsguard.dicom.reader",
    "resolve_key": "pacsguard.deid",
    "rule_for": "pacsguard.profile",
    "run_deid": "pacsguard.batch",
    "scan_tree": "pacsguard.discover.scan",
    "verify_trees": "pacsguard.discover.verify",
}

__all__ = [
    "Action",
    "DeidRun",
    "DeidRunner",
    "Deidentifier",
    "FailClosed",
    "FileRejected",
    "FolderSink",
    "FolderSource",
    "InstanceResult",
    "Option",
    "Outcome",
    "PacsguardError",
    "Policy",
    "PolicyError",
    "SecretKey",
    "SecretKeyError",
    "Summary",
    "WorkerConfig",
    "__version__",
    "load_policy",
    "read_dicom",
    "resolve_key",
    "rule_for",
    "run_deid",
    "scan_tree",
    "verify_trees",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pacsguard' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:  # pragma: no cover
    from pacsguard.batch import DeidRun, DeidRunner, Summary, WorkerConfig, run_deid
    from pacsguard.deid import SecretKey, resolve_key
    from pacsguard.dicom.reader import read_dicom
    from pacsguard.discover.scan import scan_tree
    from pacsguard.discover.verify import verify_trees
    from pacsguard.errors import FailClosed, FileRejected, PacsguardError, PolicyError, SecretKeyError
    from pacsguard.io import FolderSink, FolderSource
    from pacsguard.outcome import Outcome
    from pacsguard.pipeline import Deidentifier, InstanceResult
    from pacsguard.profile import Action, Option, Policy, load_policy, rule_for
