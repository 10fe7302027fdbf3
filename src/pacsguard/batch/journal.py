"""The resume journal: one SQLite file beside the output tree (it lists input paths, which
carry identifiers, so it never goes inside the output)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from pacsguard.errors import JournalError, SecretKeyError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    input TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, outcome TEXT NOT NULL,
    reason TEXT, detail TEXT, output TEXT, bytes_in INTEGER, bytes_out INTEGER,
    pseudonym TEXT, updated REAL
);
CREATE INDEX IF NOT EXISTS files_output ON files (output);
"""


_SETTLED = frozenset({"written", "duplicate", "skipped"})


def _key(path: str) -> str | bytes:
    """SQLite text must be UTF-8: a name with bytes that are not (a surrogateescape str) is
    stored as its raw bytes instead, so every name round-trips exactly."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape")
    return path


def _name(value: str | bytes) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


@dataclass(frozen=True)
class JournalRow:
    input: str
    size: int
    mtime_ns: int
    outcome: str
    reason: str = ""
    detail: str = ""
    output: str = ""
    bytes_in: int = 0
    bytes_out: int = 0
    pseudonym: str = ""


class Journal:
    """Records each input's outcome; a rerun skips what was already written. A context
    manager: leaving it flushes and closes, whatever ended the run."""

    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"cannot open the journal {path}: {exc}") from exc
        self.path = path
        self._opened = time.time()
        self._pending: list[JournalRow] = []
        self._last_flush = time.monotonic()

    def bind(self, key_fingerprint: str, policy_digest: str) -> None:
        """Refuse to resume a run made with another key or policy."""
        rows = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        if rows.get("key_fingerprint", key_fingerprint) != key_fingerprint:
            raise SecretKeyError(
                "this output was made with another key (fingerprint "
                f"{rows['key_fingerprint']}); use the same key, or a new output folder")
        if rows.get("policy_digest", policy_digest) != policy_digest:
            raise JournalError(
                "this output was made with another policy; use the same policy, or a new "
                "output folder (or --restart to start over)")
        self._db.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            [("key_fingerprint", key_fingerprint), ("policy_digest", policy_digest)])

    # Look-ups go to SQLite one key at a time (plus the rows not yet flushed), so memory
    # stays flat however many files a run has.
    def finished(self, input_path: str) -> tuple[int, int, str] | None:
        """(size, mtime_ns, output) if this input was already settled, else None."""
        for r in reversed(self._pending):
            if r.input == input_path:
                return (r.size, r.mtime_ns, r.output) if r.outcome in _SETTLED else None
        row = self._db.execute(
            "SELECT size, mtime_ns, output, outcome FROM files WHERE input = ?",
            (_key(input_path),)).fetchone()
        if row is None or row[3] not in _SETTLED:
            return None
        return (row[0], row[1], row[2] or "")

    def owner(self, output: str) -> tuple[str, bool] | None:
        """The input that wrote ``output``, and whether it did so in this run."""
        for r in reversed(self._pending):
            if r.output == output and r.outcome == "written":
                return r.input, True
        row = self._db.execute(
            "SELECT input, updated FROM files WHERE output = ? AND outcome = 'written'",
            (output,)).fetchone()
        return None if row is None else (_name(row[0]), float(row[1] or 0) >= self._opened)

    def record(self, row: JournalRow) -> None:
        self._pending.append(row)
        if len(self._pending) >= 256 or time.monotonic() - self._last_flush > 2.0:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        self._db.executemany(
            "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [(_key(r.input), r.size, r.mtime_ns, r.outcome, r.reason, r.detail, r.output, r.bytes_in,
              r.bytes_out, r.pseudonym, time.time()) for r in self._pending])
        self._pending.clear()
        self._last_flush = time.monotonic()

    def rows(self, outcomes: Iterable[str]) -> list[JournalRow]:
        marks = ",".join("?" for _ in outcomes)
        cur = self._db.execute(
            f"SELECT input, size, mtime_ns, outcome, reason, detail, output, bytes_in, bytes_out, "
            f"pseudonym FROM files WHERE outcome IN ({marks}) ORDER BY input", list(outcomes))
        return [JournalRow(_name(r[0]), *r[1:]) for r in cur]

    def close(self) -> None:
        self.flush()
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()  # flushes what was recorded, interrupted or not: a rerun resumes from it
