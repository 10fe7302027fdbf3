"""Recall and false-redaction on a small generated set (10-20 px text, three contrasts).

Printed with ``pytest -s``; bench/pixels_bench.py measures the same on a larger set.
"""

from __future__ import annotations

import pytest

from pacsguard.pixels import PixelPolicy, clean_pixels
from pacsguard.samples import burned_text

KINDS = ("mono8", "mono16", "signed16", "mono1", "rgb", "ybr", "palette", "mono16")


@pytest.mark.slow
def test_recall_floor_and_false_redaction(rapidocr: str) -> None:
    phi_hit = phi_n = other_hit = other_n = 0
    for i, kind in enumerate(KINDS):
        sample = burned_text.make_sample(
            500 + i,
            kind,
            rows=256,
            cols=256,
            sizes=(10, 13) if i % 2 else (13, 20),
            contrast=(1.0, 0.5, 0.2)[i % 3],
        )
        ds = burned_text.roundtrip(sample.ds)
        res = clean_pixels(ds, sample.identifiers, PixelPolicy(mode="phi-text"))
        ph, pn, oh, on = burned_text.score(sample.truth, list(res.redacted))
        phi_hit, phi_n, other_hit, other_n = phi_hit + ph, phi_n + pn, other_hit + oh, other_n + on
    recall, false_rate = phi_hit / phi_n, other_hit / other_n
    print(
        f"\npixels: recall={recall:.3f} ({phi_hit}/{phi_n}) "
        f"false-redaction={false_rate:.3f} ({other_hit}/{other_n})"
    )
    assert recall >= 0.9
    assert false_rate <= 0.25
