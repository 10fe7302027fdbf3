"""Every crasher the hostile campaigns found, as a regression test; plus limits, the watchdog
and paths."""

from __future__ import annotations

import json
import random
import struct
import zlib
from pathlib import Path

import pytest
from tests.hostile import gen

from pacsguard.cli import main
from pacsguard.dicom.fswalk import WalkStats, iter_files
from pacsguard.dicom.prescan import prescan
from pacsguard.dicom.reader import read_dicom, read_dicom_file
from pacsguard.errors import CorruptDicom, LimitExceeded, PolicyError
from pacsguard.limits import Limits
from pacsguard.profile.policy import load_policy
from pacsguard.samples import write_demo_tree


def _reason(data: bytes, tmp_path: Path, limits: Limits | None = None) -> str:
    path = tmp_path / "case"
    path.write_bytes(data)
    with pytest.raises(CorruptDicom) as caught:
        read_dicom(path, limits or Limits())
    if caught.value.code == "truncated":  # scan inventories what a cut file holds
        assert read_dicom_file(path, limits or Limits()).damaged
        return caught.value.code
    # scan and verify's reading refuses it for the same reason (one reader for both)
    with pytest.raises(CorruptDicom) as again:
        read_dicom_file(path, limits or Limits())
    assert again.value.code == caught.value.code
    return caught.value.code


def _ct() -> bytes:
    return gen.encode(gen.seed_dataset(5, "CT"))


def test_valid_sample_passes_prescan() -> None:
    info = prescan(_ct())
    assert info.transfer_syntax == "1.2.840.10008.1.2.1" and info.geometry["rows"] == 16


def test_unknown_vr_is_bad_vr(tmp_path: Path) -> None:  # was NotImplementedError
    data = bytearray(_ct())
    at = data.find(b"\x28\x00\x11\x00US")  # Columns
    data[at + 4:at + 6] = b"XX"
    assert _reason(bytes(data), tmp_path) == "bad-vr"


def test_transfer_syntax_not_a_uid(tmp_path: Path) -> None:  # was AttributeError
    data = _ct()
    assert _reason(gen._with_meta(data, gen._meta(b"hello world\0")), tmp_path) == \
        "bad-transfer-syntax"
    assert _reason(gen._with_meta(data, gen._meta(b"9.9.9.9\0")), tmp_path) == "bad-transfer-syntax"


def test_compressed_syntax_over_native_pixels(tmp_path: Path) -> None:  # was ValueError in the writer
    data = gen._with_meta(_ct(), gen._meta(b"1.2.840.10008.1.2.4.50"))
    assert _reason(data, tmp_path) == "bad-transfer-syntax"


def test_deep_nesting_is_refused_before_recursion(tmp_path: Path) -> None:  # was RecursionError
    data = gen._splice_before_pixels(_ct(), gen._nested(3000, undefined=True))
    assert _reason(data, tmp_path) == "nesting-too-deep"
    shallow = gen._splice_before_pixels(_ct(), gen._nested(8, undefined=False))
    prescan(shallow)
    with pytest.raises(LimitExceeded):
        prescan(shallow, Limits(max_depth=4))


def test_deflate_bomb_stops_at_the_cap(tmp_path: Path) -> None:
    ds = gen.seed_dataset(6, "SR")
    data = gen.encode(ds, "1.2.840.10008.1.2.1.99")
    head = data[:gen.meta_end(data)]
    body = zlib.decompress(data[len(head):], -zlib.MAX_WBITS)
    bomb = head + gen._stream_deflate(body, 64 << 20)  # 64 MB of zeros in ~64 kB
    assert _reason(bomb, tmp_path) == "deflate-bomb"
    assert _reason(head + b"\x07" * 999, tmp_path) == "bad-deflate"
    prescan(data)  # the real thing passes


def test_pixel_geometry_lies(tmp_path: Path) -> None:
    ds = gen.seed_dataset(7, "CT")
    ds.Rows = 4096
    assert _reason(gen.encode(ds), tmp_path) == "pixel-geometry"
    ds = gen.seed_dataset(7, "CT")
    ds.NumberOfFrames = 10**9
    assert _reason(gen.encode(ds), tmp_path) == "too-many-frames"


def test_charset_the_codec_cannot_handle_is_bad_charset(tmp_path: Path, key_file: Path) -> None:
    cases = [c for c in gen.charset_abuse(random.Random("13:charset"), 40)]
    src = tmp_path / "in"
    src.mkdir()
    for c in cases:
        (src / c.name).write_bytes(c.data)
    out = tmp_path / "out"
    main(["-q", "deid", str(src), str(out), "--key-file", str(key_file), "-j", "1",
          "--no-clean-pixels"])
    reasons = json.loads((out / "pacsguard-summary.json").read_text())["reasons"]
    assert "processing-error" not in reasons  # pydicom's JIS encoder raises IndexError


def test_meta_without_transfer_syntax_is_written(tmp_path: Path) -> None:  # was AttributeError
    data = gen._with_meta(_ct(), gen._meta(None))  # type: ignore[arg-type]
    path = tmp_path / "case"
    path.write_bytes(data)
    assert read_dicom(path).file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"


def test_value_length_past_the_file(tmp_path: Path) -> None:
    data = bytearray(_ct())
    e = next(e for e in gen.elements(bytes(data)) if e.tag == 0x7FE00010)
    struct.pack_into("<I", data, e.len_at, 0xFFFFFFF0)
    assert _reason(bytes(data), tmp_path) == "bad-length"
    assert _reason(_ct()[:-100], tmp_path) == "truncated"


@pytest.mark.parametrize("text, entry", [
    ("[limits]\nmax_depth = 0\n", "max_depth"), ("[limits]\nmax_depth = 'x'\n", "max_depth"),
    ("[limits]\nmax_bogus = 3\n", "max_bogus"), ("limits = 3\n", "[limits]")])
def test_limits_are_validated(tmp_path: Path, text: str, entry: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=entry.replace("[", r"\[")):
        load_policy(path)


def test_limits_from_policy_and_not_in_digest(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("[limits]\nmax_frames = 7\n")
    policy = load_policy(path)
    assert policy.limits.max_frames == 7
    assert policy.digest() == load_policy(tmp_path / "p.toml").digest()
    path.write_text("")
    assert load_policy(path).digest() == policy.digest()  # limits decide refusal, not output


def test_watchdog_quarantines_a_slow_file_and_loses_nothing(tmp_path: Path, key_file: Path) -> None:
    src = tmp_path / "in"
    write_demo_tree(src, patients=1, seed=4)
    cases = gen.huge_counts(random.Random(1), 2)
    next(cases)
    (src / "slow.dcm").write_bytes(next(cases).data)  # 300,000 items: seconds of work
    policy = tmp_path / "p.toml"
    policy.write_text("[limits]\nmax_elements = 1000000\nmax_total_elements = 10000000\n")
    out = tmp_path / "out"
    code = main(["-q", "deid", str(src), str(out), "--key-file", str(key_file), "-j", "2",
                 "-p", str(policy), "--no-clean-pixels", "--file-timeout", "1.5"])
    assert code == 1
    summary = json.loads((out / "pacsguard-summary.json").read_text())
    files = sum(1 for p in src.rglob("*") if p.is_file())
    assert sum(summary["outcomes"].values()) == files  # each file counted once
    assert summary["reasons"]["timeout"] == 1
    assert summary["outcomes"]["written"] >= 5
    rows = (tmp_path / "out.pacsguard" / "quarantine.tsv").read_text().splitlines()
    assert any(r.split("\t")[0].endswith("slow.dcm") and r.split("\t")[2] == "timeout" for r in rows)


def _sample(src: Path) -> None:
    src.mkdir(parents=True)
    gen.seed_dataset(1, "CT").save_as(src / "a.dcm", enforce_file_format=True)


def test_output_and_input_nesting_refused(tmp_path: Path, key_file: Path) -> None:
    src = tmp_path / "in"
    _sample(src)
    assert main(["-q", "deid", str(src), str(src / "out"), "--key-file", str(key_file)]) == 2
    assert not (src / "out").exists()
    assert main(["-q", "deid", str(src), str(tmp_path), "--key-file", str(key_file)]) == 2
    assert not (tmp_path / "pacsguard-summary.json").exists()


def test_symlink_in_output_refused(tmp_path: Path, key_file: Path) -> None:
    src, out, elsewhere = tmp_path / "in", tmp_path / "out", tmp_path / "elsewhere"
    _sample(src)
    elsewhere.mkdir()
    out.mkdir()
    (out / "PG-LINK").symlink_to(elsewhere, target_is_directory=True)
    assert main(["-q", "deid", str(src), str(out), "--key-file", str(key_file)]) == 2
    assert not list(elsewhere.iterdir()) and not (out / "pacsguard-summary.json").exists()
    link = tmp_path / "outlink"
    link.symlink_to(elsewhere, target_is_directory=True)
    assert main(["-q", "deid", str(src), str(link), "--key-file", str(key_file)]) == 2


def test_links_followed_only_inside_the_input(tmp_path: Path) -> None:
    from pacsguard.io.sources import FolderSource

    root, outside = tmp_path / "root", tmp_path / "outside"
    _sample(root)
    _sample(outside)
    (root / "sub").mkdir()
    (root / "sub" / "inner").symlink_to(root / "a.dcm")
    (root / "out-dir").symlink_to(outside, target_is_directory=True)
    (root / "out-file").symlink_to(outside / "a.dcm")
    (root / "up").symlink_to(root, target_is_directory=True)
    stats = WalkStats()
    source = FolderSource([root])
    batch = sorted(p.relative_to(root).as_posix() for p in source.paths(stats))
    assert batch == ["a.dcm", "sub/inner"]
    assert stats.links_outside == 2 and stats.loops == 1
    once = sorted(p.relative_to(root).as_posix() for p in iter_files([root], unique=True))
    assert once == ["a.dcm"]  # scan and verify: the link to a.dcm is the same file, read once


def test_odd_file_names_never_break_the_lists(tmp_path: Path, key_file: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    names = [b"new\nline.dcm", b"tab\there.dcm", b"latin1-\xe9\xff.dcm", b"back\\slash.dcm"]
    for n in names:
        (Path(str(src).encode().decode()) / n.decode("utf-8", "surrogateescape")).write_bytes(
            _ct()[:-50])  # truncated: quarantined, so listed
    out = tmp_path / "out"
    assert main(["-q", "deid", str(src), str(out), "--key-file", str(key_file), "-j", "1"]) == 1
    lines = (tmp_path / "out.pacsguard" / "quarantine.tsv").read_bytes().decode("utf-8").split("\n")
    rows = [ln.split("\t") for ln in lines[1:] if ln]
    assert len(rows) == len(names) and all(len(r) == 4 for r in rows)
    listed = {r[0].rsplit("/", 1)[-1] for r in rows}
    assert listed == {"new\\nline.dcm", "tab\\there.dcm", "latin1-\\xe9\\xff.dcm",
                      "back\\\\slash.dcm"}
    # A rerun retries them (journal keys round-trip exactly) and counts each once.
    assert main(["-q", "deid", str(src), str(out), "--key-file", str(key_file), "-j", "1"]) == 1
    summary = json.loads((out / "pacsguard-summary.json").read_text())
    assert summary["outcomes"]["quarantined"] == len(names)


def test_meta_element_with_the_wrong_vr(tmp_path: Path) -> None:  # found by atheris
    data = bytearray(_ct())
    data[136:138] = b"PN"  # (0002,0000) group length as PN: the writer's int would not fit
    assert _reason(bytes(data), tmp_path) == "bad-file-meta"


def test_meta_element_inside_the_dataset(tmp_path: Path) -> None:  # found by atheris
    data = _ct()
    body = gen.meta_end(data)
    stray = gen._meta_elem(0x00020013, b"SH", b"STRAY ")  # Implementation Version Name
    at = data.find(b"\x08\x00\x16\x00", body)  # before SOP Class UID
    assert _reason(data[:at] + stray + data[at:], tmp_path) == "bad-file-meta"


def test_command_elements_in_a_stored_dataset_are_removed(tmp_path: Path, key_file: Path) -> None:
    # atheris: a (0000,eeee) element in the dataset made pydicom's writer raise (processing-error)
    data = bytearray(_ct())
    meta_end = 144 + struct.unpack("<I", data[140:144])[0]
    command = b"\x00\x00\x00\x01US\x02\x00\x01\x00"  # (0000,0100) Command Field, US, 1
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    (src / "case.dcm").write_bytes(bytes(data[:meta_end]) + command + bytes(data[meta_end:]))
    assert 0x00000100 in read_dicom(src / "case.dcm")
    assert main(["-q", "deid", str(src), str(out), "--key-file", str(key_file), "-j", "1",
                 "--file-timeout", "0", "--no-progress", "--no-clean-pixels"]) == 0
    (written,) = out.rglob("*.dcm")
    assert not [t for t in read_dicom(written).keys() if t.group == 0x0000]
