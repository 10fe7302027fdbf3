"""scan: inventory by attribute and category, counts, risk flags, masking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from discover_fixtures import ALICE, BOB
from pacsguard.discover.scan import scan_tree
from pacsguard.samples import write_demo_tree


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "in"
    write_demo_tree(root, 4, 0)
    return root


def _attrs(report_json: str) -> dict[tuple[str, str], dict[str, object]]:
    data = json.loads(report_json)
    return {(a["attribute"], a["category"]): a for a in data["attributes"]}


def test_inventory_by_attribute_and_category(originals: Path) -> None:
    report = scan_tree(originals)
    assert report.counts == {"patients": 2, "studies": 2, "series": 3, "instances": 6}
    attrs = _attrs(report.to_json())
    expected = {
        ("(0010,0010)", "name"): (6, 2),
        ("(0010,0020)", "id"): (6, 2),
        ("(0010,0030)", "date"): (6, 2),
        ("(0010,1040)", "contact"): (6, 2),
        ("(0010,2154)", "contact"): (6, 2),
        ("(0008,0090)", "institution-staff"): (6, 2),
        ("(0008,0080)", "institution-staff"): (6, 2),
        ("(0020,000D)", "uid"): (6, 2),
        ("(0040,0275)[*].(0040,1001)", "id"): (5, 2),
        ("(0040,A730)[*].(0040,A160)", "free-text-mention"): (1, 1),
        ("(0020,4000)", "free-text-mention"): (5, 2),
        ('(0011,"ACME_PHI 1.0",10)', "private"): (5, 2),
        ('(0013,"ACME_RAW 2",10)', "private"): (5, 2),
        ("(0040,A375)[*].(0008,1115)[*].(0008,1199)[*].(0008,1155)", "uid"): (1, 1),
        ("file-meta (0002,0016)", "institution-staff"): (6, 2),
    }
    for key, (files, patients) in expected.items():
        if key[0].startswith("file-meta"):
            key = (key[0].removeprefix("file-meta "), key[1])
        assert key in attrs, key
        assert (attrs[key]["files"], attrs[key]["patients"]) == (files, patients), key


def test_values_masked_by_default_and_shown_on_request(originals: Path) -> None:
    masked = scan_tree(originals).to_json()
    for secret in ("ZEBRAFINCH", "QUENTIN", ALICE.pid, BOB.pid, "Vaneau", ALICE.birth):
        assert secret.lower() not in masked.lower()
    assert "Z*****^Q*****" in masked
    shown = scan_tree(originals, show_values=True).to_json()
    assert ALICE.name in shown and ALICE.pid in shown


def test_risk_flags_on_the_demo_tree(demo: Path) -> None:
    report = scan_tree(demo)
    flags = {(r.flag, r.detail): len(r.files) for r in report.risks.values()}
    kinds = {flag for flag, _ in flags}
    assert kinds == {"burned-in-annotation", "encapsulated-document", "overlay",
                     "unknown-private-creator"}
    assert flags[("burned-in-annotation", "BurnedInAnnotation is YES")] >= 1
    assert any("absent on a risky kind of image (US)" in d for _, d in flags)
    assert any('"ACME HOSPITAL PACS 1.0"' in d for _, d in flags)
    # Known vendor creators (GEMS, SIEMENS) are in the knowledge base: not flagged.
    assert not any("GEMS_" in d or "SIEMENS" in d for _, d in flags)
    assert report.counts == {"patients": 4, "studies": 12, "series": 32, "instances": 47}
    assert report.dicomdirs == 1 and report.other_files == 1


def test_single_file_scan(originals: Path) -> None:
    one = next(originals.rglob("*.dcm"))
    report = scan_tree(one)
    assert report.counts["instances"] == 1
    assert report.attributes
