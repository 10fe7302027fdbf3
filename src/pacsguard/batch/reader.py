"""Temporary re-export for ``batch/worker.py`` alone, which is being rewritten into
``pacsguard.pipeline``: remove this module when it goes. Everything else reads through
:mod:`pacsguard.dicom.reader` and quiets pydicom with :func:`pacsguard.dicom.settings.pydicom_scope`.
"""

from __future__ import annotations

import logging
import warnings

from pydicom import config

from pacsguard.dicom.reader import is_dicomdir, read_dicom

__all__ = ["is_dicomdir", "quiet_pydicom", "read_dicom"]


def quiet_pydicom() -> None:
    """The worker's process-wide form of :func:`~pacsguard.dicom.settings.pydicom_scope`
    (its writes are not wrapped in the scope yet): tolerant, and no pydicom warnings."""
    config.settings.reading_validation_mode = config.IGNORE
    config.settings.writing_validation_mode = config.IGNORE
    warnings.filterwarnings("ignore", module=r"pydicom(\..*)?")
    logging.getLogger("pydicom").setLevel(logging.CRITICAL)
