"""The leak guard searches the dataset the writer encoded (no second parse) and finds
exactly what a parse of the written bytes would: same first leak, or none, on files with
identifiers planted where verify looks, in odd character sets, and on public files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pydicom
import pytest
from tests.deid.test_leakguard import CHARSET_CASES, write_file

from pacsguard.deid.keys import SecretKey
from pacsguard.deid.leakguard import LeakGuard
from pacsguard.pipeline import Deidentifier
from pacsguard.profile import Policy
from pacsguard.profile.policy import policy_from_mapping
from pacsguard.samples import write_demo_tree

KEY = SecretKey(b"\x33" * 32, "test")


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every guard call runs both ways and must agree; counts what was compared."""
    seen: Counter[str] = Counter()
    original = LeakGuard.find

    def both(self: LeakGuard, index: Any, data: bytes, shift: int | None, around: bytes = b"",
             written: Any = None, bulk: Any = None) -> Any:
        fast = original(self, index, data, shift, around, written, bulk)
        parsed = original(self, index, data, shift, around)
        assert fast == parsed
        seen["in-memory" if bulk is not None else "parsed"] += 1
        seen["leak" if fast else "clean"] += 1
        return fast

    monkeypatch.setattr(LeakGuard, "find", both)
    return seen


def _run(paths: list[Path], policy: Policy | None = None) -> None:
    pipeline = Deidentifier(policy or Policy(), KEY)
    for path in paths:
        pipeline.process(path)


def test_both_ways_agree_on_planted_leaks(tmp_path: Path, compared: Counter[str]) -> None:
    files = [write_file(tmp_path / "kernel.dcm", kernel="PID-55821"),
             write_file(tmp_path / "clean.dcm")]
    for case, (raw, charset) in sorted(CHARSET_CASES.items()):
        files.append(write_file(tmp_path / f"{case}.dcm", name=raw, charset=charset))
    _run(files)
    # comments kept by the user's choice: a hit there is no leak, either way
    _run(files[:2], policy_from_mapping({"actions": {"ImageComments": "keep"}}))
    assert compared["leak"] >= 1 and compared["clean"] >= 1
    assert compared["in-memory"] >= 10


def test_both_ways_agree_on_samples_and_public_files(tmp_path: Path,
                                                    compared: Counter[str]) -> None:
    write_demo_tree(tmp_path / "demo")
    shipped = Path(pydicom.__file__).parent / "data" / "test_files"
    files = sorted(p for p in (tmp_path / "demo").rglob("*") if p.is_file())
    files += sorted(p for p in shipped.glob("*.dcm") if p.stat().st_size < 2_000_000)
    _run(files)
    assert compared["in-memory"] >= 30
