"""pacsguard: find where medical images leak personal data, and mask it.

The public API, for scripts that do not go through the command line::

    from pacsguard import Deidentifier, Policy, SecretKey, run_deid
"""

from __future__ import annotations

__version__ = "0.1.0"

from pacsguard.batch import DeidRun, Summary, WorkerConfig, read_dicom, run_deid  # noqa: E402
from pacsguard.deid import Deidentifier, SecretKey, resolve_key  # noqa: E402
from pacsguard.errors import (  # noqa: E402
    FailClosed,
    FileRejected,
    PacsguardError,
    PolicyError,
    SecretKeyError,
)
from pacsguard.profile import Action, Option, Policy, load_policy, rule_for  # noqa: E402

__all__ = [
    "Action",
    "DeidRun",
    "Deidentifier",
    "FailClosed",
    "FileRejected",
    "Option",
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
]
