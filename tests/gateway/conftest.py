"""Fixtures for the gateway and pull tests: a per-test registry of peer processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gwpeers import Peers


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[Peers]:
    registry = Peers(tmp_path)
    yield registry
    registry.close()
