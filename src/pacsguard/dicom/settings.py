"""pydicom's settings for pacsguard's reads and writes, in a scope rather than for the process.

Inside :func:`pydicom_scope`, values are neither validated on reading nor on writing (a
hostile or merely sloppy file is judged by :mod:`pacsguard.dicom.prescan` and the reader,
not by pydicom's per-value checks), and pydicom is silent: its warnings and log records quote
element values (``Invalid value for VR UI: 'DUPONT...'``), which are identifiers. On leaving,
pydicom's settings, the warning filters and the ``pydicom`` logger are as they were, so a
library user's own pydicom configuration survives a call into pacsguard.

Warning filters are process state: two threads must not enter the scope at the same time
(pacsguard's workers are processes).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from pydicom import config

__all__ = ["pydicom_scope"]

_LOGGER = logging.getLogger("pydicom")


@contextmanager
def pydicom_scope() -> Iterator[None]:
    """Run the block with pydicom tolerant and silent (see the module's docstring)."""
    settings = config.settings
    # The private fields, not the properties: unset (None) must come back as unset, which
    # pydicom resolves from its other settings.
    saved = (settings._reading_validation_mode, settings._writing_validation_mode)
    was_disabled = _LOGGER.disabled
    with warnings.catch_warnings():
        # Every warning, not only those filed under pydicom's modules: pydicom attributes
        # some to its caller (``stacklevel``), and a filter by module would let them through.
        warnings.simplefilter("ignore")
        settings.reading_validation_mode = config.IGNORE
        settings.writing_validation_mode = config.IGNORE
        _LOGGER.disabled = True
        try:
            yield
        finally:
            settings._reading_validation_mode, settings._writing_validation_mode = saved
            _LOGGER.disabled = was_disabled
