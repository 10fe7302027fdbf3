"""``pacsguard pull`` with Orthanc as the source, by C-MOVE and by C-GET: what arrives is
what ``deid`` makes of the same files, a rerun fetches nothing, an empty query is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from gwpeers import (
    PATIENTS,
    Peers,
    assert_no_names,
    deid_reference,
    folder_uids,
    free_port,
    make_inputs,
    orthanc_upload,
)

pytestmark = [pytest.mark.slow, pytest.mark.peers]


def _pull(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pacsguard", "pull", "--no-progress", *args],
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path),
                               "TCP_NODELAY": "1"},
                          capture_output=True, text=True, timeout=300)


def _uids_by_patient(tmp: Path, files: list[Path], key_file: Path) -> dict[str, dict[str, bytes]]:
    import shutil

    out = {}
    for n, patient in enumerate(PATIENTS[:2]):
        folder = tmp / f"only{n}"
        folder.mkdir()
        for f in files:
            if f.parent.name == f"p{n}":
                shutil.copy(f, folder / f.name)
        out[patient.patient_id] = deid_reference(folder, tmp / f"ref{n}", key_file)
    return out


def test_pull_by_cmove_then_rerun_fetches_nothing(peers: Peers, tmp_path: Path,
                                                  key_file: Path) -> None:
    files = make_inputs(tmp_path / "in", per_patient=5)
    expected = _uids_by_patient(tmp_path, files, key_file)
    listen = free_port()
    _, dicom, http = peers.orthanc("source", modalities={"PULLER": ["PULLER", "127.0.0.1", listen]})
    orthanc_upload(http, files)
    out = tmp_path / "out"
    pid = PATIENTS[0].patient_id
    common = ["--from", f"ORTHANC@127.0.0.1:{dicom}", "--ae-title", "PULLER", "--listen",
              f"127.0.0.1:{listen}", "--key-file", str(key_file)]
    r = _pull(*common, "--query", f"PatientID={pid}", str(out))
    assert r.returncode == 0, r.stderr
    assert folder_uids(out) == expected[pid]  # the same bytes as deid on the same files
    again = _pull(*common, "--query", f"PatientID={pid}", str(out))
    assert again.returncode == 0, again.stderr
    assert "1 already done, 0 to retrieve" in again.stderr
    assert folder_uids(out) == expected[pid]
    spool = tmp_path / "out.pacsguard-pull" / "retrieved"
    assert not list(spool.iterdir())  # originals removed once settled
    assert_no_names(out)
    empty = _pull(*common, "--query", "PatientID=", str(out))
    assert empty.returncode == 2 and "refusing an empty query" in empty.stderr


def test_pull_by_cget_all(peers: Peers, tmp_path: Path, key_file: Path) -> None:
    files = make_inputs(tmp_path / "in", per_patient=4)
    expected = deid_reference(tmp_path / "in", tmp_path / "ref", key_file)
    _, dicom, http = peers.orthanc("source")
    orthanc_upload(http, files)
    out = tmp_path / "out"
    r = _pull("--from", f"ORTHANC@127.0.0.1:{dicom}", "--ae-title", "GETTER", "--get", "--all",
              "--concurrency", "2", "--key-file", str(key_file), str(out))
    assert r.returncode == 0, r.stderr
    assert "2 stud(ies) retrieved, 0 failed" in r.stderr
    assert folder_uids(out) == expected
    assert_no_names(out)


def test_pull_forward_to_storescp(peers: Peers, tmp_path: Path, key_file: Path) -> None:
    files = make_inputs(tmp_path / "in", per_patient=3)
    expected = deid_reference(tmp_path / "in", tmp_path / "ref", key_file)
    _, dicom, http = peers.orthanc("source")
    orthanc_upload(http, files)
    _, scp_dir, scp_port = peers.storescp("dest", "DEST")
    r = _pull("--from", f"ORTHANC@127.0.0.1:{dicom}", "--ae-title", "GETTER", "--get", "--all",
              "--spool", str(tmp_path / "spool"), "--forward", f"DEST@127.0.0.1:{scp_port}",
              "--key-file", str(key_file))
    assert r.returncode == 0, r.stderr
    assert set(folder_uids(scp_dir)) == set(expected)
    assert_no_names(scp_dir)


def test_pull_from_dcmqrscp_by_cmove(peers: Peers, tmp_path: Path, key_file: Path) -> None:
    from gwpeers import Proc, need, port_open, wait_until

    need("dcmqrscp", "dcmqridx")
    files = make_inputs(tmp_path / "in", per_patient=3)
    expected = _uids_by_patient(tmp_path, files, key_file)
    qr = tmp_path / "qr"
    (qr / "open").mkdir(parents=True)
    port, listen = free_port(), free_port()
    (qr / "dcmqrscp.cfg").write_text(f"""NetworkTCPPort  = {port}
MaxPDUSize      = 16384
MaxAssociations = 16
HostTable BEGIN
puller = (PULLER, 127.0.0.1, {listen})
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
DCMQR_OPEN   {qr / "open"}   RW  (200, 1024mb)  ANY
AETable END
""")
    subprocess.run(["dcmqridx", str(qr / "open"), *map(str, files)], check=True, timeout=60,
                   capture_output=True)
    peers.add(Proc(["dcmqrscp", "-c", str(qr / "dcmqrscp.cfg"), "-dhl"], qr, "dcmqrscp"))
    wait_until(lambda: port_open(port), "dcmqrscp listening")
    pid = PATIENTS[1].patient_id
    out = tmp_path / "out"
    r = _pull("--from", f"DCMQR_OPEN@127.0.0.1:{port}", "--ae-title", "PULLER", "--listen",
              f"127.0.0.1:{listen}", "--query", f"PatientID={pid}", "--key-file", str(key_file),
              str(out))
    assert r.returncode == 0, r.stderr
    assert folder_uids(out) == expected[pid]
    assert_no_names(out)
