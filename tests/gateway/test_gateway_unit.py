"""The gateway's parts without external peers: spool states and recovery, backoff, status
classification, option parsing, and a gateway in this process fed by a pynetdicom sender."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gwpeers import NAMES, folder_uids, make_inputs, wait_until
from pydicom import dcmread
from pynetdicom import AE

from pacsguard.batch.worker import WorkerConfig
from pacsguard.cli.gateway import host_port, parse_size
from pacsguard.deid.keys import SecretKey
from pacsguard.dicom.payload import Payload
from pacsguard.errors import UsageError
from pacsguard.gateway import Gateway, GatewayConfig
from pacsguard.gateway.forwarder import Backoff, Forwarder
from pacsguard.gateway.scp import AllowRule, parse_allow
from pacsguard.gateway.spool import Committed, Spool
from pacsguard.io.cstore import classify_store_status, keep_responses
from pacsguard.io.forward import Delivery, Verdict, destination_slug, parse_ae_address
from pacsguard.io.stow import _references
from pacsguard.pipeline import Deidentifier
from pacsguard.profile.policy import Policy


def test_backoff_is_bounded_and_jittered() -> None:
    b = Backoff(base=1.0, cap=8.0, max_attempts=5)
    for attempt in range(1, 12):
        d = min(8.0, 2.0 ** (attempt - 1))
        delays = {b.delay(attempt) for _ in range(50)}
        assert all(d / 2 <= x <= d for x in delays)
        assert len(delays) > 1  # jitter


@pytest.mark.parametrize(("status", "verdict"), [
    (0x0000, Verdict.DELIVERED), (0xB000, Verdict.DELIVERED), (0xB007, Verdict.DELIVERED),
    (0xA700, Verdict.RETRY), (0xA7FF, Verdict.RETRY), (0x0213, Verdict.RETRY),
    (0xA900, Verdict.PERMANENT), (0xC000, Verdict.PERMANENT), (0x0122, Verdict.PERMANENT)])
def test_store_status_classification(status: int, verdict: Verdict) -> None:
    assert classify_store_status(status) is verdict


def test_stow_response_parsing() -> None:
    body = json.dumps({"00081199": {"vr": "SQ", "Value": [{"00081155": {"vr": "UI", "Value": ["1.2"]}}]},
                       "00081198": {"vr": "SQ", "Value": [
                           {"00081155": {"vr": "UI", "Value": ["1.3"]},
                            "00081197": {"vr": "US", "Value": [0xA700]}}]}}).encode()
    stored, failed = _references(body)
    assert stored == {"1.2"} and failed == {"1.3": 0xA700}
    assert _references(b"not json") == (set(), {})


def test_option_spellings() -> None:
    a = parse_ae_address("RESEARCH@10.1.2.3:104")
    assert (a.aet, a.host, a.port) == ("RESEARCH", "10.1.2.3", 104)
    for bad in ("RESEARCH@host", "@h:1", "A@h:0", "A@h:70000", "WAYTOOLONGAETITLE1@h:1"):
        with pytest.raises(UsageError):
            parse_ae_address(bad)
    assert parse_allow("CT1@10.0.0.5") == AllowRule("CT1", "10.0.0.5")
    assert parse_allow("PACS") == AllowRule("PACS", None)
    assert parse_allow("PACS").matches("PACS", "10.9.9.9")
    assert not parse_allow("CT1@10.0.0.5").matches("CT1", "10.0.0.6")
    assert host_port("0.0.0.0:11112", "--listen") == ("0.0.0.0", 11112)
    with pytest.raises(UsageError):
        host_port("11112", "--listen")
    assert parse_size("8M") == 8 << 20 and parse_size("2G") == 2 << 30
    with pytest.raises(UsageError):
        parse_size("lots")
    assert destination_slug("A@h:1") == destination_slug("A@h:1") != destination_slug("B@h:1")


def _meta(key: str) -> Committed:
    return Committed("P/S/R/I.dcm", "2.25.1", "1.2.840.10008.5.1.4.1.1.2",
                     "1.2.840.10008.1.2.1", "2.25.9", 0.0)


def _received(spool: Spool, data: bytes = b"original") -> str:
    temp = spool.incoming / "t.dcm"
    temp.write_bytes(data)
    return spool.ingest(temp)


def test_spool_states_and_settling(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s", ["a", "b"])
    spool.create()
    key = _received(spool)
    assert spool.original(key).exists() and spool.bytes == len(b"original")
    spool.commit_deid(key, Payload(b"copy"), _meta(key))
    assert spool.pending("a") == [key] == spool.pending("b")
    spool.confirm("a", key)
    assert spool.original(key).exists()  # b has not confirmed yet
    spool.dead_letter("b", key, 0xA900, "status 0xA900")
    assert not spool.original(key).exists() and not (spool.deid / f"{key}.dcm").exists()
    assert (spool.dead("b") / f"{key}.dcm").read_bytes() == b"copy"
    assert json.loads((spool.dead("b") / f"{key}.json").read_text())["status"] == 0xA900
    assert spool.bytes == 0


def test_spool_recovery_redoes_uncommitted_and_finishes_settled(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s", ["a"])
    spool.create()
    uncommitted = _received(spool)
    (spool.deid / f"{uncommitted}.dcm").write_bytes(b"half")  # killed before the JSON
    (spool.queue("a") / f"{uncommitted}.dcm").write_bytes(b"half")
    committed = _received(spool)
    spool.commit_deid(committed, Payload(b"copy"), _meta(committed))
    settled = _received(spool)
    spool.commit_deid(settled, Payload(b"copy"), _meta(settled))
    (spool.queue("a") / f"{settled}.dcm").unlink()  # confirmed, killed before the cleanup
    (spool.incoming / "tmpabc.dcm").write_bytes(b"partial")  # never acknowledged
    again = Spool(tmp_path / "s", ["a"])
    assert again.recover() == [uncommitted]
    assert not (again.queue("a") / f"{uncommitted}.dcm").exists()
    assert again.pending("a") == [committed]
    assert not again.original(settled).exists()
    assert not list(again.incoming.iterdir())


def test_a_removed_destination_is_dead_lettered_and_originals_settle(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s", ["a", "gone"])
    spool.create()
    delivered, waiting = _received(spool), _received(spool)
    for key in (delivered, waiting):
        spool.commit_deid(key, Payload(b"copy"), _meta(key))
    spool.confirm("a", delivered)
    half = _received(spool)  # killed while committing: linked for "gone" only, no JSON
    (spool.deid / f"{half}.dcm").write_bytes(b"copy")
    os.link(spool.deid / f"{half}.dcm", spool.queue("gone") / f"{half}.dcm")
    again = Spool(tmp_path / "s", ["a"])  # restarted without --forward for "gone"
    assert again.recover() == [half]  # redone, never dead-lettered half-made
    assert not again.queue("gone").exists()
    dead = sorted(p.stem for p in again.dead("gone").glob("*.dcm"))
    assert dead == sorted([delivered, waiting])
    assert "removed from the command line" in (again.dead("gone") / f"{waiting}.json").read_text()
    assert not again.original(delivered).exists()  # every destination is done with it
    assert again.original(waiting).exists() and again.pending("a") == [waiting]
    assert again.original(half).exists()


class _Busy:
    """A destination that answers every C-STORE with a transient failure (0xA700)."""

    label = "BUSY"

    def __init__(self) -> None:
        self.tries = 0

    def send(self, batch: list[Any]) -> list[Delivery]:
        self.tries += len(batch)
        return [Delivery(Verdict.RETRY, 0xA700, "status 0xA700")] * len(batch)

    def close(self) -> None:
        pass


def test_retry_counts_survive_a_restart(tmp_path: Path) -> None:
    # A destination that refuses an instance with a transient status dead-letters it after
    # max_attempts tries in all, however often the gateway restarts in between.
    spool = Spool(tmp_path / "s", ["a"])
    spool.create()
    key = _received(spool)
    spool.commit_deid(key, Payload(b"copy"), _meta(key))
    backoff = Backoff(base=0.0, cap=0.0, max_attempts=3)
    for _ in range(2):  # two runs, each stopped after one refusal
        busy = _Busy()
        run = Forwarder("a", busy, spool, backoff=backoff)
        run._send(run._due())
        assert busy.tries == 1 and spool.pending("a") == [key]
    restarted = Spool(tmp_path / "s", ["a"])
    assert restarted.recover() == [] and restarted.attempts("a", key) == 2
    last = Forwarder("a", _Busy(), restarted, backoff=backoff)
    last._send(last._due())
    assert restarted.pending("a") == [] and (restarted.dead("a") / f"{key}.dcm").exists()
    assert "3 attempts" in (restarted.dead("a") / f"{key}.json").read_text()
    assert not list(restarted.queue("a").glob("*.attempts*"))


@pytest.fixture
def gateway(tmp_path: Path, key: SecretKey) -> Iterator[Gateway]:
    cfg = GatewayConfig(listen=("127.0.0.1", 0), ae_title="PACSGUARD", spool=tmp_path / "spool",
                        forward=[str(tmp_path / "out")], worker=WorkerConfig(Policy(), key),
                        allow=[AllowRule("MODALITY")], spool_max=0, workers=1,
                        status=("127.0.0.1", 0))
    gw = Gateway(cfg)
    gw.start()
    yield gw
    gw.stop()


def _send(port: int, files: list[Path], aet: str = "MODALITY") -> list[int]:
    ae = AE(ae_title=aet)
    ds = dcmread(files[0], stop_before_pixels=True)
    ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 20
    assoc = keep_responses(ae.associate("127.0.0.1", port, ae_title="PACSGUARD"))
    if not assoc.is_established:
        return []
    out = [int(assoc.send_c_store(f).Status) for f in files]
    assoc.release()
    return out


def test_in_process_gateway_matches_deid(gateway: Gateway, tmp_path: Path, key: SecretKey) -> None:
    files = make_inputs(tmp_path / "in", per_patient=3)
    assert gateway.receiver is not None
    port = gateway.receiver.address[1]
    assert _send(port, files) == [0] * len(files)
    assert _send(port, files[:1], aet="STRANGER") == []  # not in --allow: rejected
    pipe = Deidentifier(Policy(), key)
    expected = {}
    for f in files:
        r = pipe.process(f)
        assert r.written and r.data is not None
        expected[r.sop_instance_uid] = r.data
    out = tmp_path / "out"
    wait_until(lambda: set(folder_uids(out)) == set(expected), "the folder destination", 60)
    assert folder_uids(out) == expected
    wait_until(lambda: not list((tmp_path / "spool" / "received").iterdir()), "originals gone")
    assert gateway.status is not None
    with urllib.request.urlopen(f"http://127.0.0.1:{gateway.status.port}/status", timeout=5) as r:
        status = json.loads(r.read())
    assert status["received"] == len(files) == status["deidentified"]
    body = json.dumps(status)
    assert not any(n in body for n in NAMES)


# pynetdicom leaves a socket unclosed when a connection is refused (the destination is down)
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_spool_max_answers_out_of_resources(tmp_path: Path, key: SecretKey) -> None:
    files = make_inputs(tmp_path / "in", per_patient=3)
    cfg = GatewayConfig(listen=("127.0.0.1", 0), ae_title="PACSGUARD", spool=tmp_path / "spool",
                        forward=["DOWN@127.0.0.1:9"], worker=WorkerConfig(Policy(), key),
                        spool_max=1, workers=1)
    gw = Gateway(cfg)
    gw.start()
    try:
        assert gw.receiver is not None
        statuses = _send(gw.receiver.address[1], files)
        assert statuses[0] == 0 and set(statuses[1:]) == {0xA700}  # over the quota after one
        assert gw.receiver.refused_full == len(files) - 1
    finally:
        gw.cfg.drain_timeout = 2
        gw.stop()


def test_a_handler_failure_answers_a_failure_and_the_server_goes_on(
        gateway: Gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = make_inputs(tmp_path / "in", per_patient=1)
    assert gateway.receiver is not None
    port = gateway.receiver.address[1]
    real = Spool.ingest

    def broken(self: Spool, temp: Path) -> str:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Spool, "ingest", broken)
    assert _send(port, files[:1]) == [0xC000]
    assert not list((tmp_path / "spool" / "incoming").iterdir())  # nothing left behind
    monkeypatch.setattr(Spool, "ingest", real)
    assert _send(port, files) == [0, 0]


def slow_settle(key: str) -> object:
    """Stands in for the worker's settle in a forked worker: the first instance hangs."""
    import time as _time

    from pacsguard.gateway import workers

    if key.endswith("-hang0000"):
        _time.sleep(60)
    return workers.real_settle(key)  # type: ignore[attr-defined]


def test_an_instance_past_the_timeout_is_quarantined_and_the_rest_goes_on(
        tmp_path: Path, key: SecretKey, monkeypatch: pytest.MonkeyPatch) -> None:
    from pacsguard.gateway import workers
    from pacsguard.gateway.workers import DeidPool

    monkeypatch.setattr(workers, "real_settle", workers.settle, raising=False)
    monkeypatch.setattr(workers, "settle", slow_settle)
    files = make_inputs(tmp_path / "in", per_patient=2)
    spool = Spool(tmp_path / "spool", ["a"])
    spool.create()
    keys = []
    for n, f in enumerate(files):
        temp = spool.incoming / f"t{n}.dcm"
        temp.write_bytes(f.read_bytes())
        k = spool.ingest(temp)
        hang = k.rsplit("-", 1)[0] + "-hang0000"
        if n == 0:
            spool.original(k).rename(spool.original(hang))
            k = hang
        keys.append(k)
    settled: list[object] = []
    pool = DeidPool(WorkerConfig(Policy(), key), spool, 2, settled.append, file_timeout=1.0)
    try:
        for k in keys:
            pool.submit(k)
        wait_until(lambda: len(settled) == len(keys), "every instance settled", 30)
    finally:
        pool.shutdown()
    by_key = {s.key: s for s in settled}  # type: ignore[attr-defined]
    assert by_key[keys[0]].reason == "timeout"
    assert (spool.quarantine / f"{keys[0]}.dcm").exists()
    assert all(by_key[k].outcome == "written" for k in keys[1:])
    assert sorted(spool.pending("a")) == sorted(keys[1:])


def test_a_query_without_keyword_is_not_echoed() -> None:
    from pacsguard.errors import UsageError
    from pacsguard.io.retrieve import parse_query

    assert parse_query(["PatientID=PID-55821"]) == {"PatientID": "PID-55821"}
    for item in ("PID-55821", "PatientId:PID-55821"):  # a value typed alone, or with a typo
        with pytest.raises(UsageError) as err:
            parse_query([item])
        assert "55821" not in str(err.value)
