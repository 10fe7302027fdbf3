"""Temporary re-export for ``batch/runner.py`` alone, which is being rewritten into
``pacsguard.pipeline``: remove this module when it goes. The walker is
:mod:`pacsguard.dicom.fswalk`."""

from __future__ import annotations

from pacsguard.dicom.fswalk import WalkStats, iter_files

__all__ = ["WalkStats", "iter_files"]
