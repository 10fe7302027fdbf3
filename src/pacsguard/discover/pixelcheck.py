"""Text burned into pixel data or overlays, read by pacsguard.pixels when a detector exists."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from pydicom.dataset import Dataset

from pacsguard.dicom.tags import PIXEL_DATA
from pacsguard.discover.findings import Leak
from pacsguard.discover.identifiers import IdentifierIndex
from pacsguard.errors import PacsguardError

__all__ = ["PixelChecker"]

log = logging.getLogger(__name__)


class PixelChecker:
    """Run the text detector on outputs with pixels; ``status`` says whether it ran."""

    def __init__(self, detector: str | None) -> None:
        self.detector = detector
        self.status = "skipped: no text detector requested"
        self._detect: Callable[..., Sequence[Any]] | None = None
        if detector is None:
            return
        from pacsguard import pixels  # here, not at import: OCR runtimes load only when asked

        if not pixels.detector_available(detector):
            self.status = f"skipped: text detector {detector} is not installed"
            return
        self._detect = pixels.detect_text
        self.status = f"ran with {detector}"
        self.failed = 0

    @property
    def active(self) -> bool:
        return self._detect is not None

    def check(self, ds: Dataset, rel: str, index: IdentifierIndex, identifiers: list[str],
              show_values: bool, patient: str | None = None) -> list[Leak]:
        """Leaks in the text read in ``ds``'s pixels; single words of names count only when
        they are ``patient``'s (the original patient of this output)."""
        if self._detect is None or PIXEL_DATA not in ds:
            return []
        try:
            boxes = self._detect(ds, identifiers, detector=self.detector)
        except PacsguardError:
            self.failed += 1
            self.status = f"ran with {self.detector}; {self.failed} file(s) could not be decoded"
            return []
        leaks: list[Leak] = []
        for box in boxes:
            infos = [i for k in index.matcher.keys_in_text(str(box.text))
                     if (i := index.lookup(k)) is not None
                     and (not i.weak or (patient is not None and patient in i.patients))]
            if not infos and str(box.classification) == "other":
                continue
            info = infos[0] if infos else None
            leaks.append(Leak(
                path=rel, location=f"(7FE0,0010) frame {int(box.frame)}", kind="pixel-text",
                category=info.category if info else str(box.classification),
                detail="text read in the pixels matches an identifier",
                value=(info.value if info else str(box.text)) if show_values else None,
            ))
        return leaks
