"""Every row of PS3.15 Table E.1-1, under the Basic Profile and under each option: the engine
does what the table (and the documented choice rule) says."""

from __future__ import annotations

from typing import Any

import pytest
from pydicom.datadict import dictionary_has_tag, dictionary_VR
from pydicom.dataset import Dataset

from pacsguard.deid.engine import HeaderEngine
from pacsguard.deid.keys import SecretKey
from pacsguard.profile import ALL_RULES, Action, Option, Policy, resolve_choice, rule_for

VALUES: dict[str, Any] = {
    "PN": "ZORGLUB^Anselme", "LO": "Anselme Zorglub seen 2020-01-02", "SH": "ORIGINAL SH",
    "LT": "Anselme Zorglub seen 2020-01-02", "ST": "Anselme Zorglub seen 2020-01-02",
    "UT": "Anselme Zorglub seen 2020-01-02", "UC": "Anselme Zorglub", "DA": "20200102",
    "DT": "20200102030405", "TM": "030405", "UI": "1.2.3.4.5.6.7", "CS": "ORIGINAL", "AS": "045Y",
    "DS": "1.5", "IS": "7", "AE": "ORIGAE", "UR": "http://example.org/x", "US": 7, "SS": 7,
    "UL": 7, "SL": 7, "FL": 7.0, "FD": 7.0, "OB": b"\x01\x02", "OW": b"\x01\x02",
    "UN": b"ORIGINAL", "OF": b"\x01\x02\x03\x04",
}


def _rows() -> list[tuple[int, str]]:
    out = []
    for rule in ALL_RULES.values():
        if len(rule.id) != 8 or not all(c in "0123456789abcdef" for c in rule.id):
            continue
        tag = int(rule.id, 16)
        if tag >> 16 in (0x0000, 0x0002, 0x0004) or not dictionary_has_tag(tag):
            continue
        vr = dictionary_VR(tag)
        if vr in VALUES or vr == "SQ":
            out.append((tag, vr))
    return out


ROWS = _rows()
OPTION_SETS = [frozenset()] + [frozenset({o}) for o in Option
                               if o is not Option.RETAIN_LONGITUDINAL_FULL_DATES] + [
    frozenset({Option.RETAIN_LONGITUDINAL_FULL_DATES})]


def _check(tag: int, vr: str, expected: Action, before: Any, ds: Dataset) -> str | None:
    present = tag in ds
    after = ds[tag].value if present else None
    where = f"({tag >> 16:04X},{tag & 0xFFFF:04X}) {vr} expected {expected.value}"
    if tag in (0x00100010, 0x00100020) and expected in (Action.Z, Action.D):
        return None if present and str(after).startswith("PG-") else f"{where}: no pseudonym"
    if expected is Action.X:
        return None if not present else f"{where}: still present"
    if not present:
        return f"{where}: removed"
    if vr == "SQ":
        if expected is Action.Z:
            return None if len(after) == 0 else f"{where}: sequence not emptied"
        return None if len(after) == 1 else f"{where}: sequence items lost"
    if expected is Action.Z:
        return None if after in ("", None, b"") else f"{where}: not emptied"
    if expected is Action.K:
        return None if after == before else f"{where}: changed"
    if expected is Action.U or (vr == "UI" and expected in (Action.D, Action.C)):
        return None if str(after).startswith("2.25.") else f"{where}: UID not remapped"
    if expected is Action.D:
        return None if after not in ("", None, b"") and after != before else f"{where}: no dummy"
    if expected is Action.C:
        if vr in ("DA", "DT"):
            return None if after and after != before else f"{where}: date not shifted"
        if vr in ("LO", "LT", "ST", "UT", "UC"):
            return None if "Zorglub" not in str(after) else f"{where}: text not cleaned"
        return None
    return f"{where}: unexpected action"


@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda s: ",".join(sorted(s)) or "basic")
def test_every_row_follows_the_table(options: frozenset[Option], key: SecretKey) -> None:
    engine = HeaderEngine(Policy(options=options), key)
    problems = []
    for tag, vr in ROWS:
        ds = Dataset()
        ds.add_new(0x00100020, "LO", "PID-77")
        ds.add_new(0x00100010, "PN", "ZORGLUB^Anselme")
        if vr == "SQ":
            item = Dataset()
            item.add_new(0x00080104, "LO", "harmless code meaning")
            before: Any = [item]
        else:
            before = VALUES[vr]
        if tag not in (0x00100010, 0x00100020):
            ds.add_new(tag, vr, before)
        else:
            before = ds[tag].value
        rule = rule_for(tag)
        assert rule is not None
        expected = rule.action(options)
        if vr == "SQ" and expected is Action.Z and "X" in rule.basic.split("/"):
            expected = Action.X  # documented: sequences are removed rather than emptied
        engine.deidentify(ds)
        problem = _check(tag, vr, expected, before, ds)
        if problem:
            problems.append(problem)
    assert not problems, "\n".join(problems[:20])
    assert len(ROWS) > 450  # the table's rows that pydicom's dictionary knows


def test_choice_rule() -> None:
    assert resolve_choice("X/Z", True) is Action.Z
    assert resolve_choice("X/Z", False) is Action.X
    assert resolve_choice("X/D", True) is Action.D
    assert resolve_choice("Z/D", True) is Action.D
    assert resolve_choice("X/Z/D", True) is Action.D
    assert resolve_choice("X/Z/U*", True) is Action.U
    assert resolve_choice("K", True) is Action.K


def test_patterns() -> None:
    assert rule_for(0x50001000) is not None and rule_for(0x50001000).basic == "X"  # type: ignore[union-attr]
    assert rule_for(0x60023000).id == "60xx3000"  # type: ignore[union-attr]
    assert rule_for(0x601E4000).id == "60xx4000"  # type: ignore[union-attr]
    assert rule_for(0x00091001).id == "ggggeeee-where-gggg-is-odd"  # type: ignore[union-attr]
    assert rule_for(0x00280010) is None
