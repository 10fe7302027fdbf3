"""The verify report's layout: alarms grouped by output file, judging columns first."""

from __future__ import annotations

import io
import re

from rich.console import Console

from pacsguard.discover.findings import Leak, VerifyReport
from pacsguard.discover.render import short_path, verify_html, verify_terminal

_DEEP = "/".join(f"StudyFolder{i}_WithAFairlyLongAnonymisedName" for i in range(5))


def _report(show_values: bool = False, provenance: bool = False) -> VerifyReport:
    src = {"source": "PatientName (0010,0010)", "action": "Z"} if provenance else {}
    leaks = [
        Leak(f"{_DEEP}/IM1.dcm", "(0040,A730)[0].(0040,A160)", "value", "name",
             "matches PatientName of the paired original",
             "Z*****^Q*****" if show_values else None, **src),
        Leak(f"{_DEEP}/IM1.dcm", "(0008,1140)[0].(0008,1155)", "dangling-reference", "uid",
             "referenced instance no longer present"),
        Leak(_DEEP, "folder name", "path", "name", "name in a path component"),
        Leak(f"{_DEEP}/IM2.dcm", "StudyInstanceUID", "grouping", "", "2 studies merged into 1"),
    ]
    return VerifyReport(leaks=leaks, show_values=show_values)


def test_short_path_keeps_the_last_two_components() -> None:
    assert short_path("a/b/c/d.dcm") == "…/c/d.dcm"
    assert short_path("c/d.dcm") == "c/d.dcm" and short_path("d.dcm") == "d.dcm"


def test_html_groups_alarms_by_file_with_the_full_path_on_hover() -> None:
    page = verify_html(_report())
    headings = re.findall(r'scope="rowgroup" title="([^"]*)"><code>([^<]*)</code>', page)
    assert headings == [(_DEEP, "…/" + "/".join(_DEEP.split("/")[-2:])),
                        (f"{_DEEP}/IM1.dcm", f"…/{_DEEP.split('/')[-1]}/IM1.dcm"),
                        (f"{_DEEP}/IM2.dcm", f"…/{_DEEP.split('/')[-1]}/IM2.dcm")]
    head = re.search(r'class="fixed grouped">.*?<thead><tr>(.*?)</tr>', page)
    assert head is not None
    assert re.findall(r"<th>([^<]*)</th>", head.group(1)) == ["location", "kind", "reason"]
    assert "<script" not in page and "Content-Security-Policy" in page
    assert "overflow-wrap:anywhere" in page and "table-layout:fixed" in page


def test_source_and_action_columns_appear_when_known_with_a_dash_otherwise() -> None:
    page = verify_html(_report(show_values=True, provenance=True))
    head = re.search(r'class="fixed grouped">.*?<thead><tr>(.*?)</tr>', page)
    assert head is not None
    assert re.findall(r"<th>([^<]*)</th>", head.group(1)) == [
        "location", "kind", "source attribute", "action", "reason", "value"]
    assert "<td>PatientName (0010,0010)</td><td>Z</td>" in page
    assert "<td>–</td><td>–</td>" in page  # the dangling reference has neither
    assert "Z*****^Q*****" in page


def test_values_are_not_shown_unless_asked() -> None:
    report = _report()
    page = verify_html(report)
    assert "value</th>" not in page and "*****" not in page


def test_terminal_groups_by_file_within_110_columns() -> None:
    buf = io.StringIO()
    verify_terminal(_report(show_values=True, provenance=True),
                    Console(file=buf, width=200, highlight=False, soft_wrap=False))
    text = buf.getvalue()
    listing = text[text.index("leaks by output file"):].splitlines()
    assert max(len(line.rstrip()) for line in listing) <= 110
    assert listing[1].split() == ["location", "kind", "source", "attribute", "action",
                                  "reason", "value"]
    # One heading per file or folder; full paths there (no hover in a terminal).
    assert sum(line.startswith("── ") for line in listing) == 3
    assert "IM2.dcm  1 alarm: grouping" in text and "IM1.dcm  2 alarms:" in text
    assert "dangling-reference" in text and "Z*****^Q*****" in text
