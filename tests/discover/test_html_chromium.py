"""The HTML reports, as a person sees them: headless Chromium renders the counts, no identifier."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from discover_fixtures import ALICE, BOB, find_outputs
from pacsguard.discover.findings import Leak, VerifyReport
from pacsguard.discover.render import scan_html, verify_html
from pacsguard.discover.scan import scan_tree
from pacsguard.discover.verify import verify_trees

_CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(_CHROMIUM is None, reason="chromium not installed (scripts/peers.sh)"),
]
_SECRETS = ("ZEBRAFINCH", "QUENTIN", "KINGSNORTH", "ODALYS", ALICE.pid, BOB.pid, "Vaneau",
            ALICE.birth, "Belvedere", "HOLLOWAY")


def dump_dom(page: Path) -> str:
    assert _CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [_CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--dump-dom", page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _card(dom: str, label: str) -> str:
    m = re.search(r'data-label="' + re.escape(label) + r'"><div class="n">([^<]*)</div>', dom)
    assert m, label
    return m.group(1)


def test_scan_html_in_chromium(originals: Path, tmp_path: Path) -> None:
    page = tmp_path / "scan.html"
    page.write_text(scan_html(scan_tree(originals)))
    dom = dump_dom(page)
    assert (_card(dom, "patients"), _card(dom, "studies"), _card(dom, "series"),
            _card(dom, "instances")) == ("2", "2", "3", "6")
    assert "<svg" in dom and "attributes per category" in dom
    for secret in _SECRETS:
        assert secret.lower() not in dom.lower(), secret


def test_verify_html_in_chromium(originals: Path, clean_output: Path, roles: dict[str, str],
                                 tmp_path: Path) -> None:
    import pydicom

    out = tmp_path / "out"
    shutil.copytree(clean_output, out)
    target = find_outputs(out, roles)["bob-1"]
    ds = pydicom.dcmread(target)
    ds.OtherPatientNames = BOB.name
    ds.save_as(target)
    page = tmp_path / "verify.html"
    page.write_text(verify_html(verify_trees(originals, out)))
    dom = dump_dom(page)
    assert _card(dom, "leaks") == "1" and _card(dom, "paired") == "6"
    assert "(0010,1001)" in dom
    for secret in _SECRETS:
        assert secret.lower() not in dom.lower(), secret


def _long_leak_report() -> VerifyReport:
    """Many alarms with paths and tag paths far wider than any screen, as a deep tree gives."""
    deep = "/".join(f"Level{i:02d}_AnonymisedStudyFolderWithAVeryLongName" for i in range(6))
    sr_path = ".".join(f"(0040,A730)[{i}]" for i in range(12)) + ".(0040,A160)"
    leaks = [
        Leak(f"{deep}/series_{s}/IM{n:05d}_WITH_A_RATHER_LONG_FILE_NAME_WITHOUT_BREAKS.dcm",
             sr_path if n % 2 else f"(0010,1001)[{n}]", "value", "name",
             "matches PatientName of the paired original; this sentence is also long enough to "
             "need wrapping inside its column", "Z*****^Q*****",
             source="OtherPatientNames (0010,1001)" if n % 3 else "", action="X" if n % 3 else "")
        for s in range(3) for n in range(8)
    ]
    leaks += [
        Leak(f"{deep}/A_FOLDER_NAMED_AFTER_THE_PATIENT_WITHOUT_ANY_BREAK_OPPORTUNITY", "folder name",
             "path", "name", "folder name contains an identifier of the originals"),
        Leak(deep, "StudyInstanceUID", "grouping", "", "2 original studies merged into 1"),
        Leak(f"{deep}/series_0", "(0008,0020)", "date-shift", "date", "offsets -12 and -30 days"),
        Leak(f"{deep}/series_1/IM00001.dcm", "(0008,1140)[0].(0008,1155)", "dangling-reference",
             "uid", "referenced SOP instance no longer present"),
    ]
    return VerifyReport(originals=24, outputs=24, paired=24, leaks=leaks, identifiers_indexed=9)


def measure_width(html_text: str, tmp_path: Path, shot: Path | None = None) -> tuple[int, int]:
    """(document scrollWidth, viewport width) of ``html_text`` in a 1280 x 900 window.

    The report's CSP forbids scripts, so a copy without the CSP carries a two-line probe
    that writes the two numbers into the DOM, read back with --dump-dom.
    """
    assert _CHROMIUM is not None
    probe = ("<script>document.body.insertAdjacentHTML('beforeend','<p id=\"probe\">'+"
             "document.documentElement.scrollWidth+'x'+window.innerWidth+'</p>')</script>")
    text, n = re.subn(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html_text)
    assert n == 1
    page = tmp_path / "probe.html"
    page.write_text(text.replace("</body>", probe + "</body>"))
    base = [_CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--window-size=1280,900", "--hide-scrollbars"]
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run([*base, f"--user-data-dir={profile}", "--dump-dom",
                               page.resolve().as_uri()], capture_output=True, text=True,
                              timeout=120, check=False, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = re.search(r'<p id="probe">(\d+)x(\d+)</p>', proc.stdout)
    assert m, proc.stdout[-2000:]
    if shot is not None:
        original = tmp_path / "report.html"
        original.write_text(html_text)
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run([*base, f"--user-data-dir={profile}", f"--screenshot={shot}",
                            original.resolve().as_uri()], capture_output=True, timeout=120,
                           check=True, stdin=subprocess.DEVNULL)
    return int(m.group(1)), int(m.group(2))


@pytest.mark.parametrize("show_values", [False, True])
def test_verify_html_fits_1280_px_without_sideways_scroll(tmp_path: Path,
                                                          show_values: bool) -> None:
    report = _long_leak_report()
    report.show_values = show_values
    html_text = verify_html(report)
    scroll, viewport = measure_width(html_text, tmp_path)
    assert viewport == 1280
    assert scroll <= viewport, f"page scrolls sideways: {scroll} px wide in {viewport} px"
    assert ("Z*****^Q*****" in html_text) is show_values
    # One heading per output file or folder, with the full path on hover.
    for path in {leak.path for leak in report.leaks}:
        assert html_text.count(f'scope="rowgroup" title="{path}"') == 1, path
