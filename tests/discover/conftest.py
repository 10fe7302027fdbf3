"""Shared fixtures: originals with planted identifiers, and a clean de-identified copy.

The clean copy comes from the real engine (``pacsguard deid``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pydicom
import pytest
from discover_fixtures import make_originals, run_engine


@pytest.fixture(scope="session")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("orig") / "in"
    make_originals(root)
    return root


@pytest.fixture(scope="session")
def clean_output(originals: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("clean")
    out = base / "out"
    run_engine(originals, out, base)
    return out


@pytest.fixture(scope="session")
def roles(originals: Path) -> dict[str, str]:
    """Pixel hash -> role ('alice-1', 'bob-2', ...) of the original CT images."""
    out = {}
    for path in originals.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        if ds.Modality == "CT":
            who = "alice" if str(ds.PatientID).endswith("449127") else "bob"
            out[hashlib.sha256(ds.PixelData).hexdigest()] = f"{who}-{ds.InstanceNumber}"
    return out
