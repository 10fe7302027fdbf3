"""pydicom tolerant and silent inside the scope only; values never reach stderr."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from pydicom import config, dcmwrite

from pacsguard.dicom.settings import pydicom_scope
from pacsguard.samples import PATIENTS, identifying_dataset

SECRET = "DUPONT"


def test_scope_sets_and_restores_pydicom_settings() -> None:
    settings, logger = config.settings, logging.getLogger("pydicom")
    saved = (settings._reading_validation_mode, settings._writing_validation_mode,
             logger.disabled)
    try:
        settings.reading_validation_mode = config.RAISE
        settings._writing_validation_mode = None  # unset: pydicom derives it
        filters = list(warnings.filters)
        with pytest.raises(ZeroDivisionError), pydicom_scope():
            assert settings.reading_validation_mode == config.IGNORE
            assert settings.writing_validation_mode == config.IGNORE
            assert logger.disabled
            with pydicom_scope():  # nested: the outer scope is still in force after it
                pass
            assert settings.reading_validation_mode == config.IGNORE and logger.disabled
            warnings.warn(f"Invalid value for VR UI: '{SECRET}'", UserWarning, stacklevel=1)
            1 / 0  # noqa: B018 - leaving by an exception restores too
        assert settings.reading_validation_mode == config.RAISE
        assert settings._writing_validation_mode is None
        assert not logger.disabled and warnings.filters == filters
    finally:
        (settings._reading_validation_mode, settings._writing_validation_mode,
         logger.disabled) = saved


def _invalid_file(tmp_path: Path) -> Path:
    """A CT whose values pydicom warns about on reading, quoting them."""
    ds = identifying_dataset(PATIENTS[0], "CT", size=(16, 16))
    ds.StudyInstanceUID = f"1.2.{SECRET}"  # not a UID
    ds.AccessionNumber = "X" * 20 + SECRET  # longer than SH allows
    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    path = tmp_path / "in" / "ct.dcm"
    path.parent.mkdir()
    path.write_bytes(buf.getvalue())
    return path


_READ = """
import logging, sys
from pathlib import Path
logging.basicConfig(level=logging.DEBUG)
logging.getLogger("pydicom").setLevel(logging.DEBUG)
from pacsguard.dicom.reader import read_dicom, read_dicom_file
from pacsguard.dicom.settings import pydicom_scope
path = Path(sys.argv[1])
if sys.argv[2] == "scoped":
    with pydicom_scope():
        ds = read_dicom(path)
        values = [str(ds.StudyInstanceUID), str(ds.AccessionNumber)]
        df = read_dicom_file(path)
        values += [str(df.ds.StudyInstanceUID), str(df.ds.AccessionNumber)]
else:
    ds = read_dicom(path)  # the read is scoped; decoding the values afterwards is not
    values = [str(ds.StudyInstanceUID), str(ds.AccessionNumber)]
print(len(values))
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "always"}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def test_no_pydicom_warning_or_log_reaches_stderr(tmp_path: Path) -> None:
    path = _invalid_file(tmp_path)
    scoped = _run("-c", _READ, str(path), "scoped")
    assert scoped.returncode == 0, scoped.stderr[-2000:]
    assert SECRET not in scoped.stderr and "Invalid value" not in scoped.stderr
    # The same decoding outside the scope quotes the value twice (warning and log record):
    # what the scope keeps from stderr.
    bare = _run("-c", _READ, str(path), "bare")
    assert bare.returncode == 0 and bare.stderr.count(SECRET) >= 2


@pytest.mark.parametrize("command", ["scan", "deid", "verify"])
def test_commands_keep_values_off_stderr(command: str, tmp_path: Path, key_file: Path) -> None:
    path = _invalid_file(tmp_path)
    out = tmp_path / "out"
    args = {"scan": [str(path.parent)],
            "deid": [str(path.parent), str(out), "--key-file", str(key_file), "-j", "1",
                     "--no-progress"],
            "verify": [str(path.parent), str(path.parent)]}[command]
    result = _run("-m", "pacsguard", "-vv", command, *args)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert SECRET not in result.stderr and SECRET not in result.stdout
