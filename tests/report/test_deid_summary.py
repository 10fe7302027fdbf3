"""The deid summary prints from the summary's JSON dict (report/ knows no batch module)."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from pacsguard.report.deid_summary import print_deid_summary

DATA = {"outcomes": {"written": 5, "quarantined": 1, "skipped": 0, "failed": 0, "duplicate": 2},
        "already_done": 3, "reasons": {"processing-error": 1}, "patients": 2, "seconds": 1.5,
        "files_per_second": 4.0, "mb_per_second": 0.1, "key_fingerprint": "ab12",
        "review_gallery": "/o.pacsguard/gallery.html"}


def test_prints_counts_reasons_and_where_things_are() -> None:
    buf = io.StringIO()
    print_deid_summary(DATA, Path("/o/pacsguard-summary.json"), Path("/o.pacsguard"),
                       Console(file=buf, width=120, highlight=False))
    text = buf.getvalue()
    assert "duplicate" in text and "skipped" not in text  # zero counts left out
    assert "already done (resumed)" in text and "processing-error: 1" in text
    assert "a bug in pacsguard" in text and "key fingerprint ab12" in text
    assert "output: /o  (summary: /o/pacsguard-summary.json)" in text
    assert "/o.pacsguard/gallery.html" in text
