"""Object stores through fsspec, against a moto S3 server on loopback: S3->S3 and S3->local
give the local run's bytes and names; listing is streamed; a remote OUT needs --side-dir."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pydicom
import pytest
from scalepeers import objects, tree, upload

from pacsguard.cli import main
from pacsguard.dicom.payload import Payload
from pacsguard.io import ObjectSink, ObjectSource
from pacsguard.samples import write_demo_tree

ARGS = ["--no-clean-pixels", "--no-progress", "-j", "2"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("demo") / "in"
    write_demo_tree(src, patients=4, seed=0)
    return src


def deid(*args: str, key_file: Path) -> int:
    return main(["-q", "deid", *args, "--key-file", str(key_file), *ARGS])


def test_s3_to_s3_and_s3_to_local_give_the_local_bytes(
        demo: Path, s3: Any, key_file: Path, tmp_path: Path) -> None:
    assert deid(str(demo), str(tmp_path / "local"), key_file=key_file) == 1  # samples quarantine some
    expected = tree(tmp_path / "local")
    assert len(expected) > 20
    upload(s3, demo, "hospital", "export/2026")
    s3.create_bucket(Bucket="lake")
    assert deid("s3://hospital/export/2026", "s3://lake/deid", "--side-dir",
                str(tmp_path / "side"), key_file=key_file) == 1
    remote = objects(s3, "lake", "deid")
    summary = json.loads(remote.pop("pacsguard-summary.json"))
    assert remote == expected  # the same names, the same bytes; nothing else in the bucket
    assert summary["outcomes"]["written"] == len(expected)
    side = tmp_path / "side"
    assert (side / "journal.sqlite").exists() and (side / "summary.json").exists()
    rows = (side / "quarantine.tsv").read_text().splitlines()[1:]
    assert rows and all(r.startswith("s3://hospital/export/2026/") for r in rows)

    assert deid("s3://hospital/export/2026", str(tmp_path / "s3local"), key_file=key_file) == 1
    assert tree(tmp_path / "s3local") == expected

    # A rerun redoes nothing: every input is settled in the journal and its object exists.
    assert deid("s3://hospital/export/2026", "s3://lake/deid", "--side-dir", str(side),
                "--json", str(tmp_path / "again.json"), key_file=key_file) == 1
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["outcomes"]["written"] == 0 and again["already_done"] >= len(expected)


def test_remote_output_needs_a_side_dir(demo: Path, s3: Any, key_file: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    s3.create_bucket(Bucket="lake")
    assert deid(str(demo), "s3://lake/deid", key_file=key_file) == 2
    assert "--side-dir is required" in capsys.readouterr().err
    assert s3.list_objects_v2(Bucket="lake").get("KeyCount", 0) == 0


def test_missing_bucket_and_missing_prefix_exit_2(demo: Path, s3: Any, key_file: Path,
                                                  tmp_path: Path) -> None:
    assert deid(str(demo), "s3://no-such-bucket/x", "--side-dir", str(tmp_path / "s"),
                key_file=key_file) == 2
    s3.create_bucket(Bucket="empty")
    assert deid("s3://empty/nothing-here", str(tmp_path / "out"), key_file=key_file) == 2
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.dcm"))


def test_listing_is_streamed_a_page_at_a_time_in_key_order(s3: Any) -> None:
    s3.create_bucket(Bucket="many")
    keys = [f"p/{n:05d}" for n in range(1005)]
    for key in reversed(keys):
        s3.put_object(Bucket="many", Key=key, Body=b"x")
    s3.put_object(Bucket="many", Key="p/folder/", Body=b"")  # a folder marker: no instance
    s3.put_object(Bucket="many", Key="pother/0", Body=b"x")  # another prefix: not listed
    source = ObjectSource(["s3://many/p"])
    fs = source.stores[0].fs
    calls: list[str] = []
    real = fs._call_s3

    async def counting(method: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(method)
        return await real(method, *args, **kwargs)

    fs._call_s3 = counting
    handles = source.handles()
    assert next(handles) == "s3://many/p/00000"
    assert calls.count("list_objects_v2") == 1  # one page fetched, not the whole listing
    rest = list(handles)
    assert calls.count("list_objects_v2") == 2
    assert ["s3://many/p/00000", *rest] == [f"s3://many/{k}" for k in keys]
    assert source.stamp(rest[0]) == (1, source.stamp(rest[0])[1])  # size from the listing
    assert source.load(rest[-1]) == b"x"


def test_one_put_at_the_final_key(s3: Any) -> None:
    s3.create_bucket(Bucket="out")
    sink = ObjectSink("s3://out/deid/")
    sink.prepare()
    assert s3.list_objects_v2(Bucket="out").get("KeyCount", 0) == 0  # the probe is gone
    staged = sink.stage("PG-1/1.2/1.3.dcm", Payload(b"DICM" * 100), "s3://in/a")
    assert s3.get_object(Bucket="out", Key="deid/PG-1/1.2/1.3.dcm")["Body"].read() == b"DICM" * 100
    sink.commit(staged, "PG-1/1.2/1.3.dcm")
    assert sink.exists("PG-1/1.2/1.3.dcm") and not sink.exists("PG-1/other.dcm")
    assert s3.list_objects_v2(Bucket="out")["KeyCount"] == 1


def test_duplicate_sop_uid_keeps_the_first_input_on_an_object_store(
        demo: Path, s3: Any, key_file: Path, tmp_path: Path) -> None:
    """Two inputs with one SOP Instance UID: the object holds the output of the input that
    sorts first, as on a folder, although the loser's PUT came last (the coordinator writes
    the owner's instance again)."""
    src = tmp_path / "dup"
    first = next(p for p in sorted(demo.rglob("*.dcm")) if "CT" in str(p))
    ds = pydicom.dcmread(first)
    (src / "a").mkdir(parents=True)
    shutil.copy(first, src / "a" / "one.dcm")
    ds.SeriesDescription = "a different description"
    (src / "b").mkdir()
    ds.save_as(src / "b" / "two.dcm")
    args = ["--key-file", str(key_file), "--no-clean-pixels", "--no-progress", "-j", "1",
            "--file-timeout", "0"]
    assert main(["-q", "deid", str(src), str(tmp_path / "local"), *args]) == 0
    expected = tree(tmp_path / "local")
    assert len(expected) == 1
    upload(s3, src, "dup", "in")
    s3.create_bucket(Bucket="lake")
    assert main(["-q", "deid", "s3://dup/in", "s3://lake/out", "--side-dir",
                 str(tmp_path / "side"), *args]) == 0
    remote = objects(s3, "lake", "out")
    remote.pop("pacsguard-summary.json")
    assert remote == expected
    lines = (tmp_path / "side" / "quarantine.tsv").read_text().splitlines()
    assert len(lines) == 2 and lines[1].startswith("s3://dup/in/b/two.dcm\tduplicate")


def test_usage_errors_exit_2_before_anything_is_written(
        demo: Path, s3: Any, key_file: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    s3.create_bucket(Bucket="bkt")
    out = tmp_path / "out"
    cases = {
        "--scheduler needs --executor dask": [str(demo), str(out), "--scheduler", "tcp://127.0.0.1:1"],
        "either all local or all in object stores": [str(demo), "s3://bkt/in", str(out)],
        "needs a bucket": ["s3://", str(out)],
        "must not be inside an input": ["s3://bkt/in", "s3://bkt/in/out", "--side-dir", str(tmp_path / "s")],
        "lies inside the output": ["s3://bkt/all/in", "s3://bkt/all", "--side-dir", str(tmp_path / "s")],
        "need local inputs and output": ["s3://bkt/in", str(out), "--verify"],
    }
    s3.put_object(Bucket="bkt", Key="in/x.dcm", Body=b"x")
    s3.put_object(Bucket="bkt", Key="all/in/x.dcm", Body=b"x")
    for message, args in cases.items():
        assert deid(*args, key_file=key_file) == 2, message
        assert message in capsys.readouterr().err
    assert not out.exists()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="bkt")["Contents"]]
    assert sorted(keys) == ["all/in/x.dcm", "in/x.dcm"]


# -- az:// against Azurite (Microsoft's emulator) on loopback -------------------------------
def _az_upload(fs: Any, folder: Path, root: str) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        fs.pipe_file(f"{root}/{path.relative_to(folder).as_posix()}", path.read_bytes())


def _az_objects(fs: Any, root: str) -> dict[str, bytes]:
    return {name[len(root) + 1:]: fs.cat_file(name) for name in fs.find(root)}


def test_az_to_az_and_az_to_local_give_the_local_bytes(
        demo: Path, az: Any, key_file: Path, tmp_path: Path) -> None:
    assert deid(str(demo), str(tmp_path / "local"), key_file=key_file) == 1
    expected = tree(tmp_path / "local")
    expected.pop("pacsguard-summary.json", None)
    fs = az
    fs.mkdir("hospital")
    fs.mkdir("lake")
    _az_upload(fs, demo, "hospital/export")  # folders: listed one level at a time
    side = tmp_path / "side"
    assert deid("az://hospital/export", "az://lake/deid", "--side-dir", str(side),
                key_file=key_file) == 1
    remote = _az_objects(fs, "lake/deid")
    summary = json.loads(remote.pop("pacsguard-summary.json"))
    assert remote == expected  # the same names and bytes as on disk
    assert summary["outcomes"]["written"] == len(expected)
    rows = (side / "quarantine.tsv").read_text().splitlines()[1:]
    assert rows and all(r.startswith("az://hospital/export/") for r in rows)
    assert deid("az://hospital/export", str(tmp_path / "azlocal"), key_file=key_file) == 1
    local = tree(tmp_path / "azlocal")
    local.pop("pacsguard-summary.json", None)
    assert local == expected
    # A rerun redoes nothing: the journal settles every input, every object exists.
    assert deid("az://hospital/export", "az://lake/deid", "--side-dir", str(side),
                "--json", str(tmp_path / "again.json"), key_file=key_file) == 1
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["outcomes"]["written"] == 0 and again["already_done"] >= len(expected)
