"""Find personal data in DICOM trees: ``verify`` (leaks in a de-identified copy) and ``scan``."""

from __future__ import annotations

from pacsguard.discover.findings import Leak, VerifyReport, mask_value
from pacsguard.discover.scan import ScanReport, scan_tree
from pacsguard.discover.verify import verify_trees

__all__ = ["Leak", "ScanReport", "VerifyReport", "mask_value", "scan_tree", "verify_trees"]
