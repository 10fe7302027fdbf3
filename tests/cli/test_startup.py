"""Start-up: the command line is parsed before anything heavy is imported, so ``--help``,
``--version`` and a usage error cost only Python's own start (issue 12: <= 0.2 s)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pydicom", "numpy", "pynetdicom", "rich", "PIL", "cv2", "openvino", "onnxruntime",
         "rapidocr_onnxruntime", "distributed", "dask", "fsspec", "s3fs", "prometheus_client")

PROBE = """
import json, sys
from pacsguard.cli import build_parser
build_parser()
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(%r))))
"""


def test_building_the_parser_imports_nothing_heavy() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE % (HEAVY,)], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    assert json.loads(out) == []


USAGE = """
import json, sys
from pacsguard.cli import main
for argv in (["--version"], ["deid"], ["verify", "--help"]):
    try:
        main(argv)
    except SystemExit:
        pass
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(%r))))
"""


def test_version_and_usage_errors_without_heavy_imports() -> None:
    done = subprocess.run([sys.executable, "-c", USAGE % (HEAVY,)], capture_output=True,
                          text=True, timeout=60)
    lines = done.stdout.splitlines()
    assert lines[0].startswith("pacsguard ")  # --version
    assert "the following arguments are required" in done.stderr  # deid without IN OUT
    assert json.loads(lines[-1]) == []
