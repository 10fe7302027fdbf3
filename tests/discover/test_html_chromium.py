"""The HTML reports, as a person sees them: headless Chromium renders the counts, no identifier."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from discover_fixtures import ALICE, BOB, find_outputs

from pacsguard.discover import scan_tree, verify_trees
from pacsguard.discover.render import scan_html, verify_html

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
