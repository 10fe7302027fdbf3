"""What a run can be told of each settled instance, besides the journal: the linkage table
(opt-in, it identifies people) and the review gallery of cleaned pixels."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any, Protocol

from pacsguard.errors import OutputError
from pacsguard.pipeline import InstanceResult

__all__ = ["GALLERY_MAX", "GalleryCollector", "LinkageTable", "RunHook"]

#: At most this many images in the review gallery (it is one self-contained page).
GALLERY_MAX = 500


class RunHook(Protocol):
    def on_result(self, result: InstanceResult) -> None:
        """Called in the coordinator for every instance once its outcome is final."""
        ...

    def close(self) -> None:
        ...


class LinkageTable:
    """Original patient <-> pseudonym, in SQLite, mode 0600 (``--linkage``)."""

    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path)
            self._db.execute("CREATE TABLE IF NOT EXISTS linkage (original_patient TEXT PRIMARY "
                             "KEY, original_name TEXT, pseudonym TEXT NOT NULL)")
            os.chmod(path, 0o600)
        except (OSError, sqlite3.Error) as exc:
            raise OutputError(f"cannot open the linkage table {path}: {exc}") from exc

    def on_result(self, result: InstanceResult) -> None:
        if result.identity:
            self._db.execute("INSERT OR IGNORE INTO linkage VALUES (?, ?, ?)",
                             (result.identity, result.patient_name, result.pseudonym))

    def close(self) -> None:
        self._db.commit()
        self._db.close()


class GalleryCollector:
    """Keeps the thumbnails of written instances whose pixels were cleaned."""

    def __init__(self, limit: int = GALLERY_MAX) -> None:
        self.items: list[tuple[str, Any]] = []
        self.limit = limit

    def on_result(self, result: InstanceResult) -> None:
        if result.written and result.pixel_result is not None and len(self.items) < self.limit:
            self.items.append((result.name, result.pixel_result))

    def close(self) -> None:
        pass
