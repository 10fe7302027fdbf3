"""Shared fixtures: a fixed test key, and a clean environment (no user key file touched)."""

from __future__ import annotations

from pathlib import Path

import pytest

import crosscheck
from pacsguard.deid.keys import SecretKey

TEST_KEY_HEX = "5a" * 32


@pytest.fixture
def key() -> SecretKey:
    return SecretKey(bytes.fromhex(TEST_KEY_HEX), "test")


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never read or create the developer's own ~/.config/pacsguard/secret.key in tests.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.delenv("PACSGUARD_KEY", raising=False)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "test.key"
    path.write_text(TEST_KEY_HEX + "\n")
    return path


def pytest_configure(config: pytest.Config) -> None:
    crosscheck.start()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Only on the controlling process, and only when the tests themselves passed.
    if exitstatus == 0:
        crosscheck.finish(session)
