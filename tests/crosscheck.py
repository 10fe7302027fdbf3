"""Every file ``deid`` writes during the test session is verified against its original.

``deid``'s leak guard and ``verify`` share one definition of an identifier: whatever verify
flags in a written file, the guard should have caught. The runner lists what it writes when
``PACSGUARD_CROSSCHECK`` is set (``pacsguard.batch.crosscheck``); at the end of the session,
each pair still as written (tests change some outputs on purpose, to plant leaks) goes through
``verify``, and any leak fails the session.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import pytest

from pacsguard.batch.crosscheck import ENV, _digest
from pacsguard.discover.verify import verify_trees

_LOG = Path(tempfile.gettempdir()) / f"pacsguard-crosscheck-{os.getpid()}.tsv"


def start() -> None:
    _LOG.unlink(missing_ok=True)
    os.environ[ENV] = str(_LOG)


def _pairs() -> list[tuple[Path, Path, frozenset[int]]]:
    if not _LOG.exists():
        return []
    seen: dict[Path, tuple[Path, frozenset[int]]] = {}
    for line in _LOG.read_text(encoding="utf-8", errors="surrogateescape").splitlines():
        src, src_sha, out, out_sha, tags = line.split("\t")
        source, output = Path(src), Path(out)
        try:
            unchanged = _digest(source) == src_sha and _digest(output) == out_sha
        except OSError:
            continue  # removed by its test
        if unchanged:
            seen[output] = (source, frozenset(int(t, 16) for t in tags.split(",") if t))
    return [(s, o, k) for o, (s, k) in sorted(seen.items())]


def finish(session: pytest.Session) -> None:
    pairs = _pairs()
    _LOG.unlink(missing_ok=True)
    disagreements: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for source, output, kept in pairs:
            report = verify_trees(source, output, dciodvfy="off", workers=1)
            for leak in report.leaks:
                leaf = leak.location[-11:]
                if leaf and any(leaf == f"({t >> 16:04X},{t & 0xFFFF:04X})" for t in kept):
                    continue  # kept by the policy's own [actions]: the guard leaves it be
                disagreements.append(f"{output.name}: {leak.location} {leak.kind} {leak.detail}")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"crosscheck: verify ran on {len(pairs)} file(s) written by deid "
                            f"in this session: {len(disagreements)} leak(s)")
        for line in disagreements[:40]:
            reporter.write_line(f"  {line}")
    if disagreements:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
