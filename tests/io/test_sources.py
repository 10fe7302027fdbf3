"""A folder source offers every file once, in a stable order, under its path as handle."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from pacsguard.errors import InputError
from pacsguard.io import FolderSource


def test_handles_sorted_excluding_output_and_stamped(tmp_path: Path) -> None:
    root = tmp_path / "in"
    for rel in ("b/2.dcm", "a/1.dcm", "c", "out/x.dcm"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x" * 3)
    os.utime(root / "c", ns=(1_000_000_000, 2_000_000_000))
    source = FolderSource([root], exclude=(root / "out",))
    handles = list(source.handles())
    assert [Path(h).relative_to(root).as_posix() for h in handles] == ["a/1.dcm", "b/2.dcm", "c"]
    assert source.count() == 3
    assert list(FolderSource([root / "c"]).handles()) == [str(root / "c")]  # a file as input
    assert source.stamp(str(root / "c")) == (3, 2_000_000_000)
    assert source.stamp(str(root / "gone")) is None
    assert source.load(handles[0]) == root / "a/1.dcm"
    assert pickle.loads(pickle.dumps(source)).roots == source.roots  # workers get a copy


def test_a_missing_input_names_its_position_not_its_path(tmp_path: Path) -> None:
    source = FolderSource([tmp_path, tmp_path / "DUPONT^JEAN"])
    with pytest.raises(InputError) as err:
        source.check()
    assert "#2 of 2" in str(err.value) and "DUPONT" not in str(err.value)
