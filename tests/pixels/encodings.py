"""Encode a generated sample in another transfer syntax (pydicom/pylibjpeg, Pillow or DCMTK),
for the pixel tests; skips the test when the DCMTK tool it needs is missing."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    RLELossless,
)

from pacsguard.samples.burned_text import roundtrip


def _dcmtk(ds: Dataset, tool: str, args: list[str]) -> Dataset:
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} (DCMTK) is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.dcm", Path(tmp) / "out.dcm"
        ds.save_as(src, enforce_file_format=True)
        subprocess.run([exe, *args, str(src), str(dst)], check=True, capture_output=True, timeout=60)
        return pydicom.dcmread(dst)


def encode_as(ds: Dataset, syntax: str) -> Dataset:
    """Encode a native sample in ``syntax`` (pydicom/pylibjpeg, Pillow or DCMTK)."""
    ds = roundtrip(ds)
    if syntax == "native":
        return ds
    if syntax == "deflate":
        ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
        return roundtrip(ds)
    uid = {"rle": RLELossless, "jpegls": JPEGLSLossless, "j2k": JPEG2000Lossless}.get(syntax)
    if uid is not None:
        ds.compress(uid, generate_instance_uid=False)
        return roundtrip(ds)
    if syntax == "jpeg-baseline":
        arr = ds.pixel_array
        frames = arr if int(ds.get("NumberOfFrames", 1)) > 1 else arr[None]
        items = []
        for f in frames:
            buf = io.BytesIO()
            Image.fromarray(f).save(buf, format="JPEG", quality=92, subsampling=1)
            items.append(buf.getvalue())
        ds.PixelData = encapsulate(items)
        ds["PixelData"].VR = "OB"
        ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
        if ds.SamplesPerPixel == 3:
            ds.PhotometricInterpretation = "YBR_FULL_422"
        ds.LossyImageCompression = "01"
        return roundtrip(ds)
    if syntax == "jpeg-lossless":
        return _dcmtk(ds, "dcmcjpeg", ["+e1"])  # process 14, selection value 1
    if syntax == "jpeg-extended":
        return _dcmtk(ds, "dcmcjpeg", ["+ee"])  # 12-bit lossy, process 4
    if syntax == "dcmtk-jpegls":
        return _dcmtk(ds, "dcmcjpls", ["+el"])
    if syntax == "dcmtk-rle":
        return _dcmtk(ds, "dcmcrle", [])
    raise ValueError(syntax)
