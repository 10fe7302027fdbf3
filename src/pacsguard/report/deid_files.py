"""The files a ``deid`` run leaves: its summary (JSON) and the quarantine and skipped lists
(TSV). Each is written whole or not at all (a temporary name, then a rename)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pacsguard.report.files import write_atomic

__all__ = ["summary_text", "tsv_field", "write_lists", "write_summary"]

#: One list row: input, outcome, reason code, detail.
Row = tuple[str, str, str, str]


def summary_text(data: Mapping[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def write_summary(data: Mapping[str, Any], targets: Sequence[Path]) -> None:
    text = summary_text(data)
    for target in targets:
        write_atomic(target, text)


def write_lists(folder: Path, lists: Mapping[str, Iterable[Row]]) -> None:
    """One TSV per name: a header, then one escaped row per input."""
    for name, rows in lists.items():
        lines = ["input\toutcome\treason\tdetail\n"]
        lines += ["\t".join(map(tsv_field, row)) + "\n" for row in rows]
        write_atomic(folder / name, "".join(lines))


_TSV_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def tsv_field(text: str) -> str:
    """One TSV field on one line, in UTF-8: backslash, tab, newline and CR are escaped
    (``\\\\``, ``\\t``, ``\\n``, ``\\r``), other control characters and the bytes of a name
    that is not UTF-8 become ``\\xNN``."""
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if ch in _TSV_ESCAPES:
            out.append(_TSV_ESCAPES[ch])
        elif 0xDC80 <= code <= 0xDCFF:  # surrogateescape: an undecodable byte of the name
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF:
            out.append(f"\\x{code & 0xFF:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)
