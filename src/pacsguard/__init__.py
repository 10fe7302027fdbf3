"""pacsguard: find where medical images leak personal data, and mask it."""

from __future__ import annotations

__version__ = "0.1.0"
