"""Every reason code ``deid`` can put in ``quarantine.tsv`` or ``skipped.tsv`` is reached here,
through the command line (the stable interface), from an input built for that code alone.

One case per code: a small input (a pydicom dataset, or its bytes mutated), the options that
reach the code, and the list it must land in. The file is never written to the output tree.
``test_reason_coverage.py`` scans ``src`` for the codes passed to the
:class:`~pacsguard.errors.FileRejected` classes (and the few set directly as outcomes), so a
new code without a case here fails the suite.

Three codes have no input known to reach them, so a third-party call made to fail plays the
part: ``parse-error`` (pydicom's reader raising after the raw-byte checks passed),
``pixel-encode`` (pydicom's ``compress`` refusing) and ``processing-error`` (pydicom's writer
raising, a stand-in for a bug). ``worker-crash`` kills the worker process from outside, as
the OOM killer would. Every other code comes from its input and options alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import struct
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

import pydicom.dataset
import pydicom.filereader
import pydicom.filewriter
import pytest
from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid
from tests.hostile import gen

import pacsguard
import pacsguard.errors
from pacsguard.cli import main

SRC = Path(pacsguard.__file__).resolve().parent
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
SUBJECT = "case.dcm"  #: the one input each case is about


# -- inputs ------------------------------------------------------------------------------------
def image(**attrs: object) -> Dataset:
    """A small, valid CT image (16-bit, 8 x 8, Burned In Annotation NO) that deid writes."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = CT_IMAGE
    ds.file_meta.MediaStorageSOPInstanceUID = uid = generate_uid(entropy_srcs=["reasons"])
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID, ds.SOPInstanceUID = CT_IMAGE, uid
    ds.StudyInstanceUID = generate_uid(entropy_srcs=["reasons-study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=["reasons-series"])
    ds.Modality, ds.PatientID, ds.PatientName = "CT", "PID-40417", "NOWAK^ANNA"
    ds.PatientBirthDate, ds.StudyDate = "19610304", "20240105"
    ds.BurnedInAnnotation = "NO"
    ds.Rows = ds.Columns = 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.PixelData = bytes(range(128))
    for keyword, value in attrs.items():
        setattr(ds, keyword, value)
    return ds


def with_embedded_overlay(ds: Dataset) -> Dataset:
    """An overlay plane described in group 6000 whose bits live in Pixel Data (no 6000,3000)."""
    for elem, vr, value in ((0x0010, "US", 8), (0x0011, "US", 8), (0x0040, "CS", "G"),
                            (0x0050, "SS", [1, 1]), (0x0100, "US", 16), (0x0102, "US", 12)):
        ds.add_new(0x60000000 | elem, vr, value)
    return ds


def encode(ds: Dataset) -> bytes:
    buf = BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


def element(data: bytes, tag: int) -> gen.Elem:
    return next(e for e in gen.elements(data) if e.tag == tag)


@dataclass
class Env:
    """What a case may prepare: its input folder, a scratch folder, the environment."""

    src: Path
    tmp: Path
    key_file: Path
    monkeypatch: pytest.MonkeyPatch
    args: list[str] = field(default_factory=list)
    after: list[Callable[[], None]] = field(default_factory=list)  #: when the run ends
    cleanup: list[Callable[[], None]] = field(default_factory=list)  #: when the test ends
    out: Path | None = None  #: the output folder, if not ``tmp/out``
    euid: int | None = None  #: run as this user (root only)

    def put(self, data: bytes | Dataset, name: str = SUBJECT) -> Path:
        path = self.src / name
        path.write_bytes(data if isinstance(data, bytes) else encode(data))
        return path

    def policy(self, text: str) -> None:
        path = self.tmp / "policy.toml"
        if not path.exists():
            self.args += ["-p", str(path)]
        with path.open("a") as fh:
            fh.write(text)

    def tesseract(self, script: str | None) -> None:
        """Pixel cleaning with tesseract, and ``PATH`` holding only a stand-in for it (a shell
        script body), or nothing at all (``None``): the detector is not installed."""
        bin_dir = self.tmp / "bin"
        bin_dir.mkdir()
        if script is not None:
            exe = bin_dir / "tesseract"
            exe.write_text("#!/bin/sh\n" + script + "\n")
            exe.chmod(0o755)
        self.monkeypatch.setenv("PATH", str(bin_dir))
        self.policy('[pixels]\ndetector = "tesseract"\n')
        self.args.append("--clean-pixels")


@dataclass(frozen=True)
class Case:
    build: Callable[[Env], None]
    listed: str = "quarantine.tsv"
    outcome: str = "quarantined"
    written: int = 0  #: outputs the run may write (another input's)
    exit_code: int = 1


def _no_pixels(env: Env) -> None:
    env.args.append("--no-clean-pixels")


def burned_in_annotation(env: Env) -> None:
    env.put(image(BurnedInAnnotation="YES"))
    _no_pixels(env)


def burned_in_annotation_unknown(env: Env) -> None:
    ds = image(Modality="US")
    del ds.BurnedInAnnotation
    env.put(ds)
    _no_pixels(env)


def overlay_in_pixel_data(env: Env) -> None:
    ds = with_embedded_overlay(image())
    env.put(ds)
    _no_pixels(env)


def encapsulated_document(env: Env) -> None:
    ds = image(SOPClassUID="1.2.840.10008.5.1.4.1.1.104.1", Modality="DOC")
    for kw in ("Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation",
               "SamplesPerPixel", "PhotometricInterpretation", "PixelData"):
        delattr(ds, kw)
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = b"%PDF-1.4\n%%EOF\n"
    env.put(ds)


def recognizable_visual_features(env: Env) -> None:
    env.put(image(RecognizableVisualFeatures="YES"))


def no_pixel_cleaner(env: Env) -> None:
    env.put(image(BurnedInAnnotation="YES"))
    env.tesseract(None)


def pixel_detector(env: Env) -> None:
    env.put(image(BurnedInAnnotation="YES"))
    env.tesseract("exit 3")


def pixel_decode(env: Env) -> None:
    # Well-formed encapsulation under JPEG Baseline, but the codestream is garbage.
    data = bytearray(encode(image(BurnedInAnnotation="YES")))
    ts = b"1.2.840.10008.1.2.4.50\0"
    sop = str(image().SOPInstanceUID).encode()
    data = bytearray(gen._with_meta(bytes(data), gen._meta(ts, sop=sop + b"\0" * (len(sop) % 2))))
    e = element(bytes(data), 0x7FE00010)
    frag = b"\xff\xd8\xff\xdb" + b"\x00" * 60
    data[e.offset:] = (b"\xe0\x7f\x10\x00OB\0\0\xff\xff\xff\xff" + b"\xfe\xff\x00\xe0\0\0\0\0"
                       + b"\xfe\xff\x00\xe0" + struct.pack("<I", len(frag)) + frag
                       + b"\xfe\xff\xdd\xe0\0\0\0\0")
    env.put(bytes(data))
    env.tesseract("exit 0")


def pixel_unsupported(env: Env) -> None:
    env.put(image(BurnedInAnnotation="YES", BitsAllocated=32, BitsStored=32, HighBit=31,
                  PixelData=bytes(256)))
    env.tesseract("exit 0")


def pixel_encode(env: Env) -> None:
    # RLE in, so RLE out once a region rule blanks a corner; the encoder refusing is played by
    # pydicom's compress raising (no input is known to make an installed encoder refuse).
    ds = image(BurnedInAnnotation="YES", Manufacturer="ACME")
    ds.compress(RLELossless, generate_instance_uid=False)
    env.put(ds)
    env.tesseract("exit 0")
    env.policy('[[pixels.regions]]\nname = "corner"\nmanufacturer = "ACME"\nrows = 8\n'
               "rects = [[0, 0, 4, 4]]\n")

    def refuse(self: Dataset, *args: object, **kwargs: object) -> None:
        raise RuntimeError("encoder refused")

    env.monkeypatch.setattr(pydicom.dataset.Dataset, "compress", refuse)


def residual_identifier(env: Env) -> None:
    # The patient ID copied into an attribute the profile keeps (Convolution Kernel).
    env.put(image(ConvolutionKernel="PID-40417"))


def missing_sop_instance_uid(env: Env) -> None:
    ds = image()
    del ds.SOPInstanceUID
    env.put(ds)


def unsafe_output_name(env: Env) -> None:
    # A pseudonym format the policy accepts, whose value would make a hidden folder.
    env.put(image())
    env.policy('[profile]\npseudonym_format = ".{hash:10}"\n')


def charset_undecodable(env: Env) -> None:
    placeholder = b"QQQQQQQQQQQQQQ"
    data = encode(image(SpecificCharacterSet="ISO_IR 192", PatientName=placeholder.decode()))
    env.put(data.replace(placeholder, b"NOWAK\xff\xfe^ANNA  "))


def parse_error(env: Env) -> None:
    # What passes the raw-byte checks and pydicom still refuses: no such input is known (the
    # hostile campaigns found none), so pydicom's reader raising plays it.
    env.put(image())

    def refuse(*args: object, **kwargs: object) -> None:
        raise ValueError("pydicom refuses")

    env.monkeypatch.setattr(pydicom.filereader, "read_partial", refuse)


def truncated(env: Env) -> None:
    env.put(encode(image())[:-40])


def bad_vr(env: Env) -> None:
    data = bytearray(encode(image()))
    at = data.find(b"\x28\x00\x11\x00US")  # Columns
    data[at + 4:at + 6] = b"XX"
    env.put(bytes(data))


def bad_length(env: Env) -> None:
    data = bytearray(encode(image()))
    struct.pack_into("<I", data, element(bytes(data), 0x7FE00010).len_at, 0xFFFFFFF0)
    env.put(bytes(data))


def bad_structure(env: Env) -> None:
    data = encode(image())
    at = element(data, 0x7FE00010).offset
    env.put(data[:at] + b"\xfe\xff\x00\xe0\x00\x00\x00\x00" + data[at:])  # an item at top level


def bad_file_meta(env: Env) -> None:
    data = bytearray(encode(image()))
    data[136:138] = b"PN"  # (0002,0000) group length as PN
    env.put(bytes(data))


def bad_transfer_syntax(env: Env) -> None:
    env.put(gen._with_meta(encode(image()), gen._meta(b"9.9.9.9\0")))


def bad_encapsulation(env: Env) -> None:
    data = bytearray(gen._with_meta(encode(image()), gen._meta(b"1.2.840.10008.1.2.5\0")))
    at = element(bytes(data), 0x7FE00010).offset
    data[at:] = (b"\xe0\x7f\x10\x00OB\0\0\xff\xff\xff\xff"  # offset table, then no fragment
                 b"\xfe\xff\x00\xe0\0\0\0\0\xfe\xff\xdd\xe0\0\0\0\0")
    env.put(bytes(data))


def _deflated() -> bytes:
    return encode(_with_syntax(image(), "1.2.840.10008.1.2.1.99"))


def _with_syntax(ds: Dataset, syntax: str) -> Dataset:
    ds.file_meta.TransferSyntaxUID = syntax
    return ds


def bad_deflate(env: Env) -> None:
    data = _deflated()
    env.put(data[:gen.meta_end(data)] + b"\x07" * 999)


def deflate_bomb(env: Env) -> None:
    data = _deflated()
    head = data[:gen.meta_end(data)]
    body = zlib.decompress(data[len(head):], -zlib.MAX_WBITS)
    env.put(head + gen._stream_deflate(body, 64 << 20))  # 64 MB of zeros in ~64 kB


def pixel_geometry(env: Env) -> None:
    env.put(image(Rows=64))  # 64 x 8 pixels claimed, 8 x 8 stored


def too_large(env: Env) -> None:
    env.put(image(Rows=1024, Columns=640, PixelData=bytes(1024 * 640 * 2)))  # 1.3 MB
    env.policy("[limits]\nmax_file_mb = 1\n")


def nesting_too_deep(env: Env) -> None:
    env.put(gen._splice_before_pixels(encode(image()), gen._nested(8, undefined=False)))
    env.policy("[limits]\nmax_depth = 4\n")


def too_many_elements(env: Env) -> None:
    env.put(image())
    env.policy("[limits]\nmax_elements = 16\n")  # the smallest allowed; the image has more


def too_many_frames(env: Env) -> None:
    env.put(image(NumberOfFrames=2, PixelData=bytes(256)))
    env.policy("[limits]\nmax_frames = 1\n")


def _slow(env: Env) -> None:
    """An input that takes seconds: a million empty items in one sequence, within raised limits."""
    items = b"\xfe\xff\x00\xe0\x00\x00\x00\x00" * 1_000_000
    blob = b"\x40\x00\x30\xa7SQ\x00\x00" + struct.pack("<I", len(items)) + items
    env.put(gen._splice_before_pixels(encode(image()), blob))
    env.policy("[limits]\nmax_elements = 2000000\nmax_total_elements = 10000000\n")


def timeout(env: Env) -> None:
    _slow(env)
    env.args += ["--file-timeout", "0.5"]


def worker_crash(env: Env) -> None:
    # The worker is killed (as the OOM killer would) whenever it has run a while; the file
    # is retried alone, its worker dies again, so it alone is to blame.
    _slow(env)
    env.args += ["--file-timeout", "600"]
    stop = threading.Event()
    thread = threading.Thread(target=_kill_children, args=(stop, _children()), daemon=True)
    thread.start()
    env.after += [stop.set, thread.join]


def _children() -> set[int]:
    me, found = os.getpid(), set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def _kill_children(stop: threading.Event, before: set[int]) -> None:
    first_seen: dict[int, float] = {}
    while not stop.wait(0.05):
        now = time.monotonic()
        for pid in _children() - before:
            if now - first_seen.setdefault(pid, now) > 0.2:
                with suppress(ProcessLookupError):  # only the workers this test started
                    os.kill(pid, signal.SIGKILL)


def processing_error(env: Env) -> None:
    # A bug stands in as pydicom's writer raising what no input can explain.
    env.put(image())

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    env.monkeypatch.setattr(pydicom.filewriter, "write_dataset", broken)


NOBODY = 65534


def unreadable(env: Env) -> None:
    # A file of mode 000. Root reads it anyway, so as root the run goes as user nobody, in a
    # folder nobody can reach (pytest's own is root's alone).
    if os.geteuid() == 0:
        base = Path(tempfile.mkdtemp(prefix="pacsguard-reasons-"))
        env.cleanup.append(lambda: shutil.rmtree(base))
        base.chmod(0o755)
        env.src, env.out = base / "in", base / "out"
        env.src.mkdir()
        shutil.copy(env.key_file, base / "test.key")
        env.key_file, env.euid = base / "test.key", NOBODY
    path = env.put(image())
    for p in (env.src.parent, env.src, path, env.key_file):
        if env.euid is not None:
            os.chown(p, NOBODY, NOBODY)
    path.chmod(0)


def write_error(env: Env) -> None:
    # Learn where the file goes, then put a plain file where its patient folder must be.
    env.put(image())
    probe = env.tmp / "probe"
    assert main(["-q", "deid", str(env.src), str(probe), "--key-file", str(env.key_file),
                 "-j", "1", "--no-progress", "--file-timeout", "0"]) == 0
    patient = next(p.name for p in probe.iterdir() if p.is_dir())
    out = env.tmp / "out"
    out.mkdir()
    (out / patient).write_bytes(b"in the way")


def duplicate(env: Env) -> None:
    data = encode(image())
    env.put(data, "a-first.dcm")
    env.put(data)  # case.dcm sorts after a-first.dcm: the duplicate


def not_dicom(env: Env) -> None:
    env.put(b"just some text, no DICOM here\n" * 10)


def dicomdir(env: Env) -> None:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=["reasons-dicomdir"])
    ds.FileSetID = "REASONS"
    ds.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity = 0
    ds.OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity = 0
    ds.FileSetConsistencyFlag = 0
    ds.DirectoryRecordSequence = Sequence()
    env.put(ds)


CASES: dict[str, Case] = {
    "burned-in-annotation": Case(burned_in_annotation),
    "burned-in-annotation-unknown": Case(burned_in_annotation_unknown),
    "overlay-in-pixel-data": Case(overlay_in_pixel_data),
    "encapsulated-document": Case(encapsulated_document),
    "recognizable-visual-features": Case(recognizable_visual_features),
    "no-pixel-cleaner": Case(no_pixel_cleaner),
    "pixel-detector": Case(pixel_detector),
    "pixel-decode": Case(pixel_decode),
    "pixel-unsupported": Case(pixel_unsupported),
    "pixel-encode": Case(pixel_encode),
    "residual-identifier": Case(residual_identifier),
    "missing-sop-instance-uid": Case(missing_sop_instance_uid),
    "unsafe-output-name": Case(unsafe_output_name),
    "charset-undecodable": Case(charset_undecodable),
    "parse-error": Case(parse_error),
    "truncated": Case(truncated),
    "bad-vr": Case(bad_vr),
    "bad-length": Case(bad_length),
    "bad-structure": Case(bad_structure),
    "bad-file-meta": Case(bad_file_meta),
    "bad-transfer-syntax": Case(bad_transfer_syntax),
    "bad-encapsulation": Case(bad_encapsulation),
    "bad-deflate": Case(bad_deflate),
    "deflate-bomb": Case(deflate_bomb),
    "pixel-geometry": Case(pixel_geometry),
    "too-large": Case(too_large),
    "nesting-too-deep": Case(nesting_too_deep),
    "too-many-elements": Case(too_many_elements),
    "too-many-frames": Case(too_many_frames),
    "timeout": Case(timeout),
    "worker-crash": Case(worker_crash),
    "processing-error": Case(processing_error),
    "unreadable": Case(unreadable),
    "write-error": Case(write_error, outcome="failed"),
    "duplicate-sop-instance-uid": Case(duplicate, outcome="duplicate", written=1, exit_code=0),
    "not-dicom": Case(not_dicom, listed="skipped.tsv", outcome="skipped", exit_code=0),
    "dicomdir": Case(dicomdir, listed="skipped.tsv", outcome="skipped", exit_code=0),
}

#: Code-like strings in ``src`` that ``deid`` never lists, with where they belong instead.
NOT_DEID = {
    "unknown-private-creator": "a scan finding (discover/scan.py)",
    "file-bytes": "where verify's search found a value (discover/search.py)",
}


def _rows(path: Path) -> dict[str, tuple[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "input\toutcome\treason\tdetail"
    rows = [line.split("\t") for line in lines[1:]]
    return {Path(r[0]).name: (r[1], r[2]) for r in rows}


@pytest.mark.parametrize("code", sorted(CASES), ids=sorted(CASES))
def test_reason_is_reached(code: str, tmp_path: Path, key_file: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES[code]
    env = Env(tmp_path / "in", tmp_path, key_file, monkeypatch)
    env.src.mkdir()
    try:
        case.build(env)
        _check(case, code, env)
    finally:
        for end in env.cleanup:
            end()


def _check(case: Case, code: str, env: Env) -> None:
    out = env.out or env.tmp / "out"
    try:
        with _as_user(env.euid):
            rc = main(["deid", str(env.src), str(out), "--key-file", str(env.key_file),
                       "--no-progress", "-j", "1", "--file-timeout", "0", *env.args])
    finally:
        for end in env.after:
            end()
    assert rc == case.exit_code
    side = out.with_name(out.name + ".pacsguard")
    rows = _rows(side / case.listed)
    assert rows.get(SUBJECT) == (case.outcome, code), rows
    other = "skipped.tsv" if case.listed == "quarantine.tsv" else "quarantine.tsv"
    assert SUBJECT not in _rows(side / other)
    assert len(list(out.rglob("*.dcm"))) == case.written
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]  # nothing staged is left


@contextmanager
def _as_user(euid: int | None) -> Iterator[None]:
    if euid is None:
        yield
        return
    os.setegid(euid)
    os.seteuid(euid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
