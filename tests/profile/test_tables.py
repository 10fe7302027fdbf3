"""The generated rule tables (``profile/_e11_table.py``, ``profile/_private_kb.py``) are exactly
what ``scripts/gen_tables.py`` makes from ``../shared/data``: nobody edited them by hand, and
the data they came from is the data beside the checkout."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from pacsguard.profile import ALL_RULES
from shared_data import ROOT, shared_data_dir

DATA = shared_data_dir()
GENERATED = ("_e11_table.py", "_private_kb.py")


def _gen_tables() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_tables", ROOT / "scripts" / "gen_tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    if DATA is None:
        pytest.skip("no shared/data beside the checkout")
    return {Path(p).name: text for p, text in _gen_tables().generate(DATA).items()}


@pytest.mark.parametrize("name", GENERATED)
def test_committed_table_is_what_the_data_generates(name: str, generated: dict[str, str]) -> None:
    committed = ROOT / "src" / "pacsguard" / "profile" / name
    assert committed.read_text(encoding="utf-8") == generated[name], (
        f"{name} differs from what scripts/gen_tables.py makes (run: make tables)")


def test_every_row_of_table_e11_is_a_rule(generated: dict[str, str]) -> None:
    assert set(generated) == set(GENERATED)
    assert DATA is not None
    rows = json.loads((DATA / "ps3.15-table-e1-1.json").read_text(encoding="utf-8"))
    assert len(rows) == len(ALL_RULES) == 621


def test_shared_data_is_found_beside_a_checkout_or_its_main_checkout(tmp_path: Path) -> None:
    main, linked = tmp_path / "main", tmp_path / "elsewhere" / "linked"
    (main / ".git" / "worktrees" / "linked").mkdir(parents=True)
    (main / ".git" / "worktrees" / "linked" / "commondir").write_text("../..\n")
    linked.mkdir(parents=True)
    (linked / ".git").write_text(f"gitdir: {main / '.git' / 'worktrees' / 'linked'}\n")
    assert shared_data_dir(main) is None and shared_data_dir(linked) is None
    (tmp_path / "shared" / "data").mkdir(parents=True)
    assert shared_data_dir(main) == tmp_path / "shared" / "data"
    assert shared_data_dir(linked) == tmp_path / "shared" / "data"  # through the main checkout
    (tmp_path / "elsewhere" / "shared" / "data").mkdir(parents=True)
    assert shared_data_dir(linked) == tmp_path / "elsewhere" / "shared" / "data"  # its own first
