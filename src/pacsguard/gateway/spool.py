"""The gateway's spool: every state of every instance is a file, so a restart (or a power
cut, once a rename is fsync'd) resumes each instance from where it was.

::

    SPOOL/incoming/          partial receives (pynetdicom's chunked temp files); never acked
    SPOOL/received/ID.dcm    originals, fsync'd before Success is answered
    SPOOL/deid/ID.dcm        the de-identified copy;  SPOOL/deid/ID.json commits it
    SPOOL/queue/DEST/ID.dcm  one hard link per destination still to confirm it
    SPOOL/dead/DEST/ID.dcm   refused for good by DEST (+ ID.json: status, detail)
    SPOOL/quarantine/ID.dcm  originals the pipeline refused (+ ID.json: reason code, detail)

An ID is the arrival time and a random suffix: it orders the queues and names no one. An
original is deleted once every destination has confirmed (or dead-lettered) its copy.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pacsguard.dicom.payload import Payload
from pacsguard.io.sinks import fsync_dir

__all__ = ["Committed", "Spool"]

log = logging.getLogger("pacsguard.gateway")


@dataclass(frozen=True)
class Committed:
    """What ``deid/ID.json`` records for a de-identified instance."""

    name: str
    sop_instance_uid: str
    sop_class_uid: str
    transfer_syntax: str
    study_uid: str
    arrived: float


def _write_durable(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


class Spool:
    def __init__(self, root: Path, destinations: list[str]) -> None:
        self.root = root
        self.destinations = list(destinations)  #: queue folder names (slugs)
        self.incoming = root / "incoming"
        self.received = root / "received"
        self.deid = root / "deid"
        self.quarantine = root / "quarantine"
        self._lock = threading.Lock()
        self.bytes = 0  #: originals and de-identified copies in flight (what --spool-max caps)

    def queue(self, dest: str) -> Path:
        return self.root / "queue" / dest

    def dead(self, dest: str) -> Path:
        return self.root / "dead" / dest

    def create(self) -> None:
        for d in (self.incoming, self.received, self.deid, self.quarantine,
                  *(self.queue(x) for x in self.destinations),
                  *(self.dead(x) for x in self.destinations)):
            d.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)  # it holds originals

    # -- receive --------------------------------------------------------------------
    @staticmethod
    def new_id() -> str:
        return f"{time.time_ns():019d}-{secrets.token_hex(4)}"

    def ingest(self, temp: Path) -> str:
        """Make a received file durable under a new ID; Success may be answered after this."""
        key = self.new_id()
        with open(temp, "rb+") as fh:
            os.fsync(fh.fileno())
        target = self.received / f"{key}.dcm"
        os.replace(temp, target)
        fsync_dir(self.received)
        with self._lock:
            self.bytes += target.stat().st_size
        return key

    def original(self, key: str) -> Path:
        return self.received / f"{key}.dcm"

    # -- de-identified (called in worker processes, one ID each) -----------------------
    def commit_deid(self, key: str, payload: Payload, meta: Committed) -> None:
        """Queue the copy for every destination, then commit (the JSON is written last: a
        copy without it is redone from the original on restart)."""
        copy = self.deid / f"{key}.dcm"
        tmp = copy.with_name(copy.name + ".tmp")
        try:
            with open(tmp, "wb") as fh:
                payload.write_to(fh)  # a streamed copy's pixel data: copied by the kernel
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, copy)
            for dest in self.destinations:
                link = self.queue(dest) / f"{key}.dcm"
                link.unlink(missing_ok=True)
                os.link(copy, link)
                fsync_dir(link.parent)
            _write_durable(self.deid / f"{key}.json", json.dumps(meta.__dict__).encode())
        except OSError:  # a full disk: undo, the original stays and is retried
            self._uncommit(key)
            raise

    def _uncommit(self, key: str) -> None:
        for path in (self.deid / f"{key}.dcm.tmp", self.deid / f"{key}.json.tmp",
                     self.deid / f"{key}.json", self.deid / f"{key}.dcm",
                     *(self.queue(d) / f"{key}.dcm" for d in self.destinations)):
            path.unlink(missing_ok=True)

    def quarantine_original(self, key: str, reason: str, detail: str) -> None:
        target = self.quarantine / f"{key}.dcm"
        try:
            _write_durable(self.quarantine / f"{key}.json",
                           json.dumps({"reason": reason, "detail": detail}).encode())
        except OSError:
            (self.quarantine / f"{key}.json.tmp").unlink(missing_ok=True)
            (self.quarantine / f"{key}.json").unlink(missing_ok=True)
            raise
        os.replace(self.original(key), target)
        fsync_dir(self.quarantine)
        fsync_dir(self.received)

    def committed(self, key: str) -> Committed | None:
        try:
            return Committed(**json.loads((self.deid / f"{key}.json").read_text()))
        except (OSError, ValueError, TypeError):
            return None

    # -- forward -------------------------------------------------------------------
    def pending(self, dest: str, limit: int = 0) -> list[str]:
        """IDs queued for ``dest``, oldest first."""
        try:
            names = sorted(n for n in os.listdir(self.queue(dest)) if n.endswith(".dcm"))
        except FileNotFoundError:
            return []
        keys = [n[:-4] for n in names]
        return keys[:limit] if limit else keys

    def attempts(self, dest: str, key: str) -> int:
        """How many times ``dest`` refused ``key`` with a transient status, across restarts."""
        try:
            return int((self.queue(dest) / f"{key}.attempts").read_text())
        except (OSError, ValueError):
            return 0

    def record_attempt(self, dest: str, key: str, n: int) -> None:
        """Keep the count beside the queued copy (renamed into place; a restart, a SIGKILL
        keeps it, so a poison instance reaches the dead-letter folder in bounded tries)."""
        path = self.queue(dest) / f"{key}.attempts"
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(str(n))
        os.replace(tmp, path)

    def confirm(self, dest: str, key: str) -> None:
        (self.queue(dest) / f"{key}.dcm").unlink(missing_ok=True)
        (self.queue(dest) / f"{key}.attempts").unlink(missing_ok=True)
        fsync_dir(self.queue(dest))
        self._settle(key)

    def dead_letter(self, dest: str, key: str, status: int | None, detail: str) -> None:
        folder = self.dead(dest)
        _write_durable(folder / f"{key}.json", json.dumps(
            {"status": status, "detail": detail, "time": time.time()}).encode())
        os.replace(self.queue(dest) / f"{key}.dcm", folder / f"{key}.dcm")
        (self.queue(dest) / f"{key}.attempts").unlink(missing_ok=True)
        fsync_dir(folder)
        fsync_dir(self.queue(dest))
        self._settle(key)

    def _settle(self, key: str) -> None:
        """Delete the original and the copy once no destination still waits for it."""
        with self._lock:
            queues = self.root / "queue"
            if any((queues / d / f"{key}.dcm").exists() for d in os.listdir(queues)):
                return
            freed = 0
            for path in (self.original(key), self.deid / f"{key}.dcm"):
                try:
                    freed += path.stat().st_size
                    path.unlink()
                except FileNotFoundError:
                    pass
            fsync_dir(self.received)
            (self.deid / f"{key}.json").unlink(missing_ok=True)
            fsync_dir(self.deid)
            self.bytes = max(0, self.bytes - freed)

    def add_bytes(self, n: int) -> None:
        with self._lock:
            self.bytes += n

    # -- restart -------------------------------------------------------------------
    def recover(self) -> list[str]:
        """Bring the spool to a consistent state after any stop; return the IDs to
        de-identify (again). Partial receives were never acknowledged: dropped."""
        shutil.rmtree(self.incoming, ignore_errors=True)
        self.incoming.mkdir(parents=True, exist_ok=True)
        for tmp in self.deid.glob("*.tmp"):
            tmp.unlink()
        for dest in os.listdir(self.root / "queue"):  # counts of copies no longer queued
            for count in self.queue(dest).glob("*.attempts*"):
                if count.name.endswith(".tmp") or not count.with_suffix(".dcm").exists():
                    count.unlink(missing_ok=True)
        todo: list[str] = []
        for path in sorted(self.received.glob("*.dcm")):
            key = path.stem
            if self.committed(key) is None:
                for dest in os.listdir(self.root / "queue"):
                    (self.queue(dest) / path.name).unlink(missing_ok=True)
                (self.deid / path.name).unlink(missing_ok=True)
                todo.append(key)
        self._retire_removed()  # after the above: only committed copies are retired
        for meta in sorted(self.deid.glob("*.json")):
            self._settle(meta.stem)  # deletes what every destination already confirmed
        # Counted after settling: what is left is what the spool holds (--spool-max).
        self.bytes = sum(p.stat().st_size for folder in (self.received, self.deid)
                         for p in folder.glob("*.dcm"))
        return todo

    def _retire_removed(self) -> None:
        """A destination no longer on the command line: what its queue still holds is
        dead-lettered with that reason (kept, never sent), so the originals can settle
        rather than stay in the spool for ever."""
        for dest in sorted(set(os.listdir(self.root / "queue")) - set(self.destinations)):
            queue = self.queue(dest)
            for copy in sorted(queue.glob("*.dcm")):
                self.dead(dest).mkdir(parents=True, exist_ok=True)
                self.dead_letter(dest, copy.stem, None, "the destination was removed from "
                                 "the command line before this copy was delivered")
            for leftover in queue.iterdir():
                leftover.unlink()
            queue.rmdir()
            fsync_dir(queue.parent)

    def counts(self) -> dict[str, Any]:
        """What /status reports: counts and ages only."""
        now = time.time()
        queued: dict[str, int] = {}
        oldest = 0.0
        for dest in self.destinations:
            keys = self.pending(dest)
            queued[dest] = len(keys)
            if keys:
                oldest = max(oldest, now - int(keys[0].split("-")[0]) / 1e9)
        return {
            "awaiting_deid": sum(1 for _ in self.received.glob("*.dcm")) - sum(
                1 for _ in self.deid.glob("*.json")),
            "queued": queued,
            "oldest_queued_seconds": round(oldest, 1),
            "quarantined_in_spool": sum(1 for _ in self.quarantine.glob("*.dcm")),
            "dead_letters": {d: sum(1 for _ in self.dead(d).glob("*.dcm"))
                             for d in self.destinations},
            "spool_bytes": self.bytes,
        }
