"""pacsguard's exception tree, in one place.

Every error a user can cause is a :class:`PacsguardError`; the CLI prints its
message on one line (no traceback) and exits with :attr:`PacsguardError.exit_code`.
Messages never carry identifying values: they name tags, positions in a run,
or pseudonymized paths, never patient data.

::

    PacsguardError                      exit 2 unless noted
    +-- UsageError                      bad command line or arguments
    +-- PolicyError                     invalid policy file, names the offending entry
    +-- SecretKeyError                  missing, unreadable, malformed or mismatched key
    +-- OutputError                     output folder unusable (not writable, inside input, ...)
    +-- JournalError                    resume journal belongs to another key/policy, or corrupt
    +-- InputError                      an input cannot be used as a whole (missing path, ...)
    +-- NetworkError                    audit: invalid target or scope refusal; pull: the
    |                                   source refused the association or the C-FIND
    |   +-- ScopeError                  a target outside private/loopback without --allow-public
    +-- FileRejected                    one instance cannot be written out; carries its
        |                               outcome and a reason code
        +-- NotDicom                    not DICOM at all: skipped, not quarantined
        +-- CorruptDicom                looks like DICOM but cannot be parsed: quarantined
        |   +-- LimitExceeded           exceeds a [limits] entry (size, depth, count, time)
        +-- FailClosed                  parsed, but cannot be de-identified safely: quarantined
        +-- WriteFailed                 de-identified, but the output could not be stored: failed

Third-party errors (pydicom parse errors, OSError, sqlite3.Error, tomllib errors)
are translated into the most specific class with ``raise ... from exc``.
"""

from __future__ import annotations

from pacsguard.outcome import Outcome

__all__ = [
    "CorruptDicom",
    "FailClosed",
    "FileRejected",
    "InputError",
    "JournalError",
    "LimitExceeded",
    "NetworkError",
    "NotDicom",
    "OutputError",
    "PacsguardError",
    "PolicyError",
    "ScopeError",
    "SecretKeyError",
    "UsageError",
    "WriteFailed",
]


class PacsguardError(Exception):
    """Base of every error pacsguard raises on purpose."""

    exit_code: int = 2


class UsageError(PacsguardError):
    """The command line or an argument is wrong."""


class PolicyError(PacsguardError):
    """A policy file is invalid; the message names the offending entry."""


class SecretKeyError(PacsguardError):
    """The secret key is missing, unreadable, malformed, or not the one a journal was made with."""


class OutputError(PacsguardError):
    """The output location cannot be used."""


class JournalError(PacsguardError):
    """The resume journal cannot be used for this run."""


class InputError(PacsguardError):
    """An input path cannot be used at all."""


class NetworkError(PacsguardError):
    """An audit target is invalid or cannot be audited, or a PACS to pull from refused."""


class ScopeError(NetworkError):
    """A target lies outside private and loopback ranges and was not explicitly allowed."""


class FileRejected(PacsguardError):
    """One input file cannot be written out; the run goes on.

    Parameters
    ----------
    code
        A stable, machine-readable reason code (for example ``burned-in-annotation``).
    detail
        A human-readable sentence. It must not contain identifying values.
    """

    exit_code = 1
    outcome: Outcome = Outcome.QUARANTINED  #: what the instance becomes when this is raised

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class NotDicom(FileRejected):
    """The file is not a DICOM file (no preamble/prefix and not parseable as a dataset)."""

    outcome = Outcome.SKIPPED


class CorruptDicom(FileRejected):
    """The file claims to be DICOM but cannot be parsed completely."""


class FailClosed(FileRejected):
    """The file parses, but pacsguard cannot guarantee a complete de-identification."""


class LimitExceeded(CorruptDicom):
    """The file exceeds one of the policy's ``[limits]`` (size, inflated size, nesting depth,
    element or frame count, time): it is refused before it can cost memory or time."""


class WriteFailed(FileRejected):
    """The instance was de-identified but its output could not be stored (disk full, a
    permission, a destination down): nothing half-written stays behind, a rerun retries it."""

    outcome = Outcome.FAILED
