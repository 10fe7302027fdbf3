"""More faults against real peers: a spool on a small tmpfs that fills up, TLS senders,
refused callers, and SIGTERM with an association in flight."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from gwpeers import (
    Peers,
    assert_no_names,
    deid_reference,
    folder_uids,
    free_port,
    make_inputs,
    self_signed,
    send,
    spool_originals,
    wait_until,
)
from pynetdicom import AE

from pacsguard.io.cstore import keep_responses

pytestmark = [pytest.mark.slow, pytest.mark.peers]


def _store_each(port: int, files: list[Path]) -> list[int]:
    """Send each file on one association; the status of each (-1: no answer)."""
    from pydicom import dcmread

    ae = AE(ae_title="MODALITY")
    ds = dcmread(files[0], stop_before_pixels=True)
    ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 20
    statuses = []
    assoc = keep_responses(ae.associate("127.0.0.2", port, ae_title="PACSGUARD"))
    for f in files:
        if not assoc.is_established:
            assoc = keep_responses(ae.associate("127.0.0.2", port, ae_title="PACSGUARD"))
        rsp = assoc.send_c_store(f) if assoc.is_established else None
        statuses.append(int(rsp.Status) if rsp is not None and "Status" in rsp else -1)
    if assoc.is_established:
        assoc.release()
    return statuses


@pytest.mark.parametrize("quota", [True, False], ids=["spool-max", "disk-full"])
def test_small_tmpfs_spool_fills_up(peers: Peers, tmp_path: Path, key_file: Path,
                                    quota: bool) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    files = make_inputs(tmp_path / "in", per_patient=30, rows=256)  # ~130 KB each
    expected = deid_reference(tmp_path / "in", tmp_path / "ref", key_file)
    spool = tmp_path / "spool"
    spool.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(spool)], check=True,
                   timeout=20)
    try:
        scp_port = free_port()  # the destination is down: the spool can only grow
        extra = ["--spool-max", "4M"] if quota else []
        gw, port = peers.gateway(spool, [f"DEST@127.0.0.1:{scp_port}"], key_file, extra=extra)
        statuses = _store_each(port, files)
        acked = [f for f, s in zip(files, statuses, strict=True) if s == 0]
        refused = [f for f, s in zip(files, statuses, strict=True) if s != 0]
        assert acked and refused, statuses
        if quota:
            assert set(statuses) == {0, 0xA700}, statuses
        assert gw.alive()
        _, scp_dir, _ = peers.storescp("dest", "DEST", port=scp_port)
        wait_until(lambda: not spool_originals(spool), "the spool to drain", 60)
        assert len(folder_uids(scp_dir)) == len(acked)
        # the sender retries what was refused (the spool may fill up again meanwhile)
        for _ in range(10):
            statuses = _store_each(port, refused)
            assert set(statuses) <= {0, 0xA700}, statuses
            refused = [f for f, s in zip(refused, statuses, strict=True) if s != 0]
            if not refused:
                break
            time.sleep(1)
        assert not refused
        wait_until(lambda: set(folder_uids(scp_dir)) >= set(expected), "all delivered", 60)
        assert set(folder_uids(scp_dir)) == set(expected)
        wait_until(lambda: not spool_originals(spool), "the spool to drain", 30)
        gw.stop()
        assert_no_names(scp_dir, gw.log)
    finally:
        peers.close()
        subprocess.run(["umount", str(spool)], check=True, timeout=20)


def test_tls_sender_and_refused_callers(peers: Peers, tmp_path: Path, key_file: Path) -> None:
    """storescu +tls reaches the gateway over DICOM TLS; a caller not in --allow, or calling
    another AE title, is rejected at association time."""
    certs = tmp_path / "certs"
    self_signed(certs)
    files = make_inputs(tmp_path / "in", per_patient=3)
    expected = deid_reference(tmp_path / "in", tmp_path / "ref", key_file)
    out = tmp_path / "out"
    gw, port = peers.gateway(tmp_path / "spool", [str(out)], key_file, extra=[
        "--tls-cert", str(certs / "cert.pem"), "--tls-key", str(certs / "key.pem"),
        "--allow", "TLSSENDER", "--allow", "ELSEWHERE@127.0.0.9"])
    send("storescu", port, files, "TLSSENDER", extra=[
        "+tls", str(certs / "key.pem"), str(certs / "cert.pem"), "+cf", str(certs / "cert.pem")])
    wait_until(lambda: set(folder_uids(out)) == set(expected), "the TLS sends delivered")
    assert folder_uids(out) == expected
    tls = ["+tls", str(certs / "key.pem"), str(certs / "cert.pem"), "+cf", str(certs / "cert.pem")]
    stranger = send("storescu", port, files[:1], "STRANGER", extra=tls, check=False)
    assert stranger.returncode != 0 and b"Calling AE Title Not Recognized" in stranger.stdout + \
        stranger.stderr
    wrong_host = send("storescu", port, files[:1], "ELSEWHERE", extra=tls, check=False)
    assert wrong_host.returncode != 0
    plain = send("storescu", port, files[:1], "TLSSENDER", check=False)  # no TLS: refused
    assert plain.returncode != 0
    wrong_called = send("storescu", port, files[:1], "TLSSENDER", check=False,
                        extra=[*tls, "-aec", "OTHER"])
    assert wrong_called.returncode != 0
    assert len(folder_uids(out)) == len(expected)
    gw.stop()
    assert_no_names(out, gw.log)


def test_sigterm_finishes_the_association_in_flight(peers: Peers, tmp_path: Path,
                                                    key_file: Path) -> None:
    files = make_inputs(tmp_path / "in", per_patient=40, rows=128)
    expected = deid_reference(tmp_path / "in", tmp_path / "ref", key_file)
    out = tmp_path / "out"
    gw, port = peers.gateway(tmp_path / "spool", [str(out)], key_file)
    sender = subprocess.Popen(["storescu", "-aet", "MODALITY", "-aec", "PACSGUARD", "127.0.0.2",
                               str(port), *map(str, files)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    assert gw.stop(timeout=60) == 0
    assert sender.wait(60) == 0  # the association in flight was finished, not cut
    assert folder_uids(out) == expected  # and everything acknowledged was forwarded


def test_stow_rs_into_orthanc_and_study_quiet(peers: Peers, tmp_path: Path,
                                              key_file: Path) -> None:
    """STOW-RS into Orthanc's DICOMweb plugin, with --study-quiet: nothing is forwarded
    while the study is still arriving, then all of it."""
    from gwpeers import ORTHANC_PLUGIN, orthanc_sop_uids

    if not Path(ORTHANC_PLUGIN).exists():
        pytest.skip("orthanc-dicomweb not installed")
    files = make_inputs(tmp_path / "in", per_patient=4)
    expected = deid_reference(tmp_path / "in", tmp_path / "ref", key_file)
    _, _, http = peers.orthanc("stow-dest")
    spool = tmp_path / "spool"
    gw, port = peers.gateway(spool, [f"http://127.0.0.1:{http}/dicom-web"], key_file,
                             extra=["--study-quiet", "3"])
    send("dcmsend", port, files[:4], "MODALITY")
    time.sleep(1.5)
    assert orthanc_sop_uids(http) == set()  # the study is held while it may still grow
    send("dcmsend", port, files[4:], "MODALITY")
    wait_until(lambda: orthanc_sop_uids(http) == set(expected), "Orthanc holds all (STOW-RS)")
    wait_until(lambda: not spool_originals(spool), "the spool to drain")
    gw.stop()
    assert_no_names(gw.log)


def test_forward_over_tls_to_storescp(peers: Peers, tmp_path: Path, key_file: Path) -> None:
    certs = tmp_path / "certs"
    self_signed(certs)
    files = make_inputs(tmp_path / "in", per_patient=3)
    expected = deid_reference(tmp_path / "in", tmp_path / "ref", key_file)
    scp_port = free_port()
    out = tmp_path / "tls-dest" / "in"
    out.mkdir(parents=True)
    from gwpeers import Proc, port_open

    peers.add(Proc(["storescp", "+tls", str(certs / "key.pem"), str(certs / "cert.pem"), "-ic",
                    "-aet", "TLSSCP", "+xa", "-od", str(out), str(scp_port)],
                   tmp_path / "tls-dest", "storescp"))
    wait_until(lambda: port_open(scp_port), "storescp +tls")
    gw, port = peers.gateway(tmp_path / "spool", [f"TLSSCP@127.0.0.1:{scp_port}"], key_file,
                             extra=["--forward-tls-ca", str(certs / "cert.pem")])
    send("storescu", port, files, "MODALITY")
    wait_until(lambda: set(folder_uids(out)) == set(expected), "delivered over TLS")
    gw.stop()


def test_compressed_transfer_syntaxes_pass_through(peers: Peers, tmp_path: Path,
                                                   key_file: Path) -> None:
    """RLE, JPEG Lossless and JPEG-LS instances sent by dcmsend (which proposes each file's
    own syntax) come out as deid makes them from the same files."""
    from gwpeers import need

    need("dcmcrle", "dcmcjpeg", "dcmcjpls", "dcmsend")
    plain = make_inputs(tmp_path / "plain", per_patient=2)
    mixed = tmp_path / "in"
    mixed.mkdir()
    tools = (["dcmcrle"], ["dcmcjpeg"], ["dcmcjpls"], ["dcmcrle"])
    for n, f in enumerate(plain):
        subprocess.run([*tools[n % len(tools)], str(f), str(mixed / f"c{n}.dcm")], check=True,
                       capture_output=True, timeout=60)
    expected = deid_reference(mixed, tmp_path / "ref", key_file)
    assert len(expected) == len(plain)
    out = tmp_path / "out"
    _, scp_dir, scp_port = peers.storescp("dest", "DEST")
    gw, port = peers.gateway(tmp_path / "spool", [str(out), f"DEST@127.0.0.1:{scp_port}"],
                             key_file)
    send("dcmsend", port, sorted(mixed.iterdir()), "MODALITY")
    wait_until(lambda: set(folder_uids(out)) == set(expected), "the folder")
    assert folder_uids(out) == expected
    wait_until(lambda: set(folder_uids(scp_dir)) == set(expected), "storescp (+xa)")
    gw.stop()
    assert_no_names(out, scp_dir, gw.log)


def test_required_client_certificate(peers: Peers, tmp_path: Path, key_file: Path) -> None:
    certs = tmp_path / "certs"
    self_signed(certs)
    key, cert = str(certs / "key.pem"), str(certs / "cert.pem")
    files = make_inputs(tmp_path / "in", per_patient=1)
    out = tmp_path / "out"
    gw, port = peers.gateway(tmp_path / "spool", [str(out)], key_file, extra=[
        "--tls-cert", cert, "--tls-key", key, "--tls-ca", cert, "--require-client-cert"])
    anonymous = send("storescu", port, files, "MODALITY", check=False,
                     extra=["+tla", "+cf", cert])
    assert anonymous.returncode != 0  # no client certificate: the handshake fails
    send("storescu", port, files, "MODALITY", extra=["+tls", key, cert, "+cf", cert])
    wait_until(lambda: len(folder_uids(out)) == len(files), "delivered with a client cert")
    gw.stop()
