"""The gateway against real peers on loopback: DCMTK senders (several at once), storescp and
Orthanc destinations, and the faults that lose instances in other gateways.

Each test asserts that every acknowledged instance reaches every destination by its
de-identified SOP Instance UID (byte for byte what ``pacsguard deid`` writes, with the same
key), that the spool ends with no original in it, and that the gateway's output and logs
name no patient.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from gwpeers import (
    Peers,
    assert_no_names,
    deid_reference,
    folder_uids,
    http_get,
    make_inputs,
    orthanc_sop_uids,
    send,
    spool_originals,
    wait_until,
)

from pacsguard.io.cstore import keep_responses

pytestmark = [pytest.mark.slow, pytest.mark.peers]


def _delivered(folder: Path, expected: dict[str, bytes], what: str, timeout: float = 60) -> None:
    wait_until(lambda: set(folder_uids(folder)) >= set(expected), f"{what} holds all", timeout)
    got = folder_uids(folder)
    assert set(got) == set(expected), what


def _spool_drained(spool: Path, timeout: float = 30) -> None:
    wait_until(lambda: not spool_originals(spool), "the spool to empty", timeout)


def test_several_senders_to_storescp_orthanc_and_folder(peers: Peers, tmp_path: Path,
                                                        key_file: Path) -> None:
    files = make_inputs(tmp_path / "in", per_patient=8)
    expected = deid_reference(tmp_path / "in", tmp_path / "ref", key_file)
    _, scp_dir, scp_port = peers.storescp("dest1", "DEST1")
    _, o_dicom, o_http = peers.orthanc("orthanc-dest")
    spool, out = tmp_path / "spool", tmp_path / "out"
    status_port = 0
    from gwpeers import free_port

    status_port = free_port()
    gw, port = peers.gateway(spool, [f"DEST1@127.0.0.1:{scp_port}", f"ORTHANC@127.0.0.1:{o_dicom}",
                                     str(out)], key_file,
                             extra=["--status", f"127.0.0.1:{status_port}"])
    quarters = [files[i::4] for i in range(4)]
    threads = [threading.Thread(target=send, args=(tool, port, q, f"SENDER{i}"))
               for i, (tool, q) in enumerate(zip(("storescu", "dcmsend", "storescu", "dcmsend"),
                                                 quarters, strict=True))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    _delivered(out, expected, "the folder destination")
    assert folder_uids(out) == expected  # byte for byte what deid writes
    _delivered(scp_dir, expected, "storescp")
    wait_until(lambda: orthanc_sop_uids(o_http) == set(expected), "Orthanc holds all", 60)
    _spool_drained(spool)
    code, body = http_get(status_port, "/status")
    status = json.loads(body)
    assert code == 200 and status["received"] == len(files) == status["deidentified"]
    assert all(d["forwarded"] == len(files) for d in status["destinations"].values())
    code, metrics = http_get(status_port, "/metrics")
    assert code == 200 and b"pacsguard_gateway_received_total %d.0" % len(files) in metrics
    assert http_get(status_port, "/healthz")[0] == 200
    for uid in expected:  # /status and /metrics carry no identifier, not even new UIDs
        assert uid.encode() not in body + metrics
    assert gw.stop() == 0  # SIGTERM: a clean exit
    assert_no_names(out, scp_dir, gw.log, spool)


def test_sigkill_after_ack_before_forward(peers: Peers, tmp_path: Path, key_file: Path) -> None:
    files = make_inputs(tmp_path / "in")
    expected = deid_reference(tmp_path / "in", tmp_path / "ref", key_file)
    from gwpeers import free_port

    scp_port = free_port()  # the destination is down: nothing can be forwarded yet
    spool = tmp_path / "spool"
    gw, port = peers.gateway(spool, [f"DEST@127.0.0.1:{scp_port}"], key_file)
    send("storescu", port, files, "MODALITY")  # every instance acknowledged (exit 0)
    gw.kill()
    wait_until(lambda: not gw.group_alive(), "its worker processes to die with it", 10)
    assert len(list((spool / "received").glob("*.dcm"))) == len(files)  # durable before Success
    _, scp_dir, _ = peers.storescp("dest", "DEST", port=scp_port)
    gw2, _ = peers.gateway(spool, [f"DEST@127.0.0.1:{scp_port}"], key_file, name="gateway2")
    _delivered(scp_dir, expected, "storescp after the restart")
    _spool_drained(spool)
    gw2.stop()
    assert_no_names(scp_dir, gw.log, gw2.log, spool)


def test_sigkill_during_deidentification_and_forwarding(peers: Peers, tmp_path: Path,
                                                        key_file: Path) -> None:
    """Killed at a random point while the spool is busy: a restart finishes everything."""
    files = make_inputs(tmp_path / "in", per_patient=20)
    expected = deid_reference(tmp_path / "in", tmp_path / "ref", key_file)
    _, scp_dir, scp_port = peers.storescp("dest", "DEST")
    spool, out = tmp_path / "spool", tmp_path / "out"
    fwd = [f"DEST@127.0.0.1:{scp_port}", str(out)]
    gw, port = peers.gateway(spool, fwd, key_file)
    send("dcmsend", port, files, "MODALITY")
    time.sleep(0.3)
    gw.kill()
    gw2, _ = peers.gateway(spool, fwd, key_file, name="gateway2")
    _delivered(scp_dir, expected, "storescp")
    _delivered(out, expected, "the folder")
    assert folder_uids(out) == expected
    _spool_drained(spool)
    gw2.stop()
    assert_no_names(out, scp_dir, gw.log, gw2.log)


def test_destination_killed_mid_stream_and_restarted(peers: Peers, tmp_path: Path,
                                                     key_file: Path) -> None:
    files = make_inputs(tmp_path / "in", per_patient=40, rows=128)
    expected = deid_reference(tmp_path / "in", tmp_path / "ref", key_file)
    scp, scp_dir, scp_port = peers.storescp("dest", "DEST")
    spool = tmp_path / "spool"
    gw, port = peers.gateway(spool, [f"DEST@127.0.0.1:{scp_port}"], key_file)
    sender = threading.Thread(target=send, args=("storescu", port, files, "MODALITY"))
    sender.start()
    wait_until(lambda: len(list(scp_dir.iterdir())) >= 5, "the first instances forwarded")
    scp.kill()  # mid-stream
    time.sleep(1.5)
    _, scp_dir2, _ = peers.storescp("dest-again", "DEST", port=scp_port)
    sender.join(120)
    wait_until(lambda: set(folder_uids(scp_dir)) | set(folder_uids(scp_dir2)) >= set(expected),
               "every instance delivered once the destination is back", 60)
    _spool_drained(spool)
    gw.stop()
    assert_no_names(scp_dir, scp_dir2, gw.log, spool)


def test_failure_status_goes_to_dead_letter(peers: Peers, tmp_path: Path, key_file: Path) -> None:
    """A destination that refuses with a permanent status: the instances are dead-lettered
    with the status recorded, and the other destination still gets everything."""
    from pynetdicom import AE, evt
    from pynetdicom.presentation import AllStoragePresentationContexts

    refused: list[str] = []

    def refuse(event: object) -> int:
        refused.append("x")
        return 0xA900  # Dataset does not match SOP class: permanent

    ae = AE(ae_title="REFUSER")
    for cx in AllStoragePresentationContexts:
        ae.add_supported_context(cx.abstract_syntax)
    from gwpeers import free_port

    rport = free_port()
    server = ae.start_server(("127.0.0.1", rport), block=False,
                             evt_handlers=[(evt.EVT_C_STORE, refuse)])
    try:
        files = make_inputs(tmp_path / "in")
        expected = deid_reference(tmp_path / "in", tmp_path / "ref", key_file)
        spool, out = tmp_path / "spool", tmp_path / "out"
        gw, port = peers.gateway(spool, [f"REFUSER@127.0.0.1:{rport}", str(out)], key_file)
        send("storescu", port, files, "MODALITY")
        _delivered(out, expected, "the folder")
        wait_until(lambda: len(list((spool / "dead").rglob("*.dcm"))) == len(files),
                   "every refused instance dead-lettered")
        _spool_drained(spool)
        dead = folder_uids(spool / "dead")
        assert dead == expected  # the de-identified copies, ready to replay
        for status in (spool / "dead").rglob("*.json"):
            assert json.loads(status.read_text())["status"] == 0xA900
        gw.stop()
        assert_no_names(out, spool, gw.log)
    finally:
        server.shutdown()


def test_sender_aborts_mid_association(peers: Peers, tmp_path: Path, key_file: Path) -> None:
    """Three instances acknowledged, then an abort in the middle of the fourth: the three
    are delivered, the partial one (never acknowledged) leaves nothing in the spool."""
    import shutil
    from io import BytesIO

    from pydicom import dcmread
    from pynetdicom import AE
    from pynetdicom.dimse_messages import C_STORE_RQ
    from pynetdicom.dimse_primitives import C_STORE
    from pynetdicom.dsutils import split_dataset
    from pynetdicom.pdu import P_DATA_TF

    files = make_inputs(tmp_path / "in", per_patient=2, rows=256)
    sent, partial = files[:3], files[3]
    (tmp_path / "sent").mkdir()
    for f in sent:
        shutil.copy(f, tmp_path / "sent" / f"{f.parent.name}-{f.name}")
    expected = deid_reference(tmp_path / "sent", tmp_path / "ref", key_file)
    _, scp_dir, scp_port = peers.storescp("dest", "DEST")
    spool = tmp_path / "spool"
    gw, port = peers.gateway(spool, [f"DEST@127.0.0.1:{scp_port}"], key_file)
    ds = dcmread(partial)
    ae = AE(ae_title="ABORTER")
    ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
    assoc = keep_responses(ae.associate("127.0.0.2", port, ae_title="PACSGUARD"))
    assert assoc.is_established
    for f in sent:
        assert assoc.send_c_store(f).Status == 0
    # Half of a C-STORE: its command and the first half of its data set, then an abort.
    prim = C_STORE()
    prim.MessageID, prim.Priority = 9, 2
    prim.AffectedSOPClassUID, prim.AffectedSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
    _, offset = split_dataset(partial)
    body = partial.read_bytes()[offset:]
    prim.DataSet = BytesIO(body)
    msg = C_STORE_RQ()
    msg.primitive_to_message(prim)
    ctx = assoc.accepted_contexts[0].context_id
    fragments = list(msg.encode_msg(ctx, 4096))
    assert len(fragments) > 10
    for fragment in fragments[: len(fragments) // 2]:  # never the last one
        pdu = P_DATA_TF()
        pdu.from_primitive(fragment)
        assoc.dul.socket.send(pdu.encode())
    time.sleep(0.5)
    assoc.abort()
    _delivered(scp_dir, expected, "storescp")
    time.sleep(1)
    assert set(folder_uids(scp_dir)) == set(expected)  # not the partial one
    assert not list((spool / "quarantine").iterdir())
    _spool_drained(spool)
    gw.stop()
    assert_no_names(scp_dir, spool, gw.log)
