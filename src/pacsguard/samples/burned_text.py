"""Generated DICOM images with burned-in text and ground-truth boxes (tests and bench).

Every sample draws a few lines of this patient's identifiers (name, ID, birth date,
accession) and a few lines of harmless technical text, in DejaVu fonts of 10-20 px,
varied contrast, colour and position, over a noisy CT/US-like background.

Needs Pillow (the ``ocr`` extra) and the DejaVu fonts; :mod:`pacsguard.samples` does not
import it, so the rest of the samples work without them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pydicom
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = (
    "DejaVuSans.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSansCondensed.ttf",
    "DejaVuSerif-Bold.ttf",
)
SURNAMES = ("DOE", "ROE", "MARTIN", "GARCIA", "NGUYEN", "MULLER", "ROSSI", "KOWALSKI", "SILVA")
GIVEN = ("JOHN", "JANE", "MARIA", "AHMED", "LENA", "PIERRE", "YUKI", "OLGA", "PETER")
OTHER_TEXT = (
    "Series 3",
    "kVp 120",
    "W 400 L 40",
    "Axial",
    "5.0 mm",
    "Img 12",
    "Gain 55",
    "Depth 14cm",
    "ANT",
    "FR 32Hz",
)


@dataclass
class Truth:
    """One drawn line: ``bbox`` (x0, y0, x1, y1) exclusive, ``phi`` when identifying."""

    bbox: tuple[int, int, int, int]
    text: str
    phi: bool


@dataclass
class Sample:
    ds: Dataset
    identifiers: list[str]
    truth: list[Truth] = field(default_factory=list)


def font(size: int, idx: int = 0) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / FONTS[idx % len(FONTS)]), size)


def _background(rng: np.random.Generator, rows: int, cols: int) -> npt.NDArray[np.float64]:
    yy, xx = np.mgrid[:rows, :cols]
    img = rng.normal(0.18, 0.06, (rows, cols))
    body = ((yy - rows / 2) / (rows * 0.42)) ** 2 + ((xx - cols / 2) / (cols * 0.38)) ** 2 < 1
    img[body] += 0.25 + 0.1 * np.sin(xx[body] / 9.0) * np.cos(yy[body] / 13.0)
    return np.clip(img, 0, 1)


def _layout(
    rng: np.random.Generator,
    rows: int,
    cols: int,
    texts: list[tuple[str, bool]],
    sizes: tuple[int, int],
) -> list[tuple[str, bool, int, int, int, int]]:
    """Place lines in the four corners, top to bottom, without overlap."""
    out = []
    corners = [(4, 4), (cols // 2 + 8, 4), (4, rows // 2 + 40), (cols // 2 + 8, rows // 2 + 40)]
    cursor = {i: c[1] for i, c in enumerate(corners)}
    for k, (text, phi) in enumerate(texts):
        size = int(rng.integers(sizes[0], sizes[1] + 1))
        fidx = int(rng.integers(0, len(FONTS)))
        corner = k % 4
        x = corners[corner][0] + int(rng.integers(0, 6))
        if corner % 2:  # right-hand corners: right-aligned, so long lines stay inside
            x = max(cols // 2, cols - 4 - int(font(size, fidx).getlength(text)))
        y = cursor[corner]
        cursor[corner] = y + size + 8
        out.append((text, phi, x, y, size, fidx))
    return out


def _patient(rng: np.random.Generator) -> tuple[list[str], list[str]]:
    sur = SURNAMES[int(rng.integers(len(SURNAMES)))]
    giv = GIVEN[int(rng.integers(len(GIVEN)))]
    pid = f"PID{int(rng.integers(10000, 99999))}"
    y, m, d = int(rng.integers(1930, 2010)), int(rng.integers(1, 13)), int(rng.integers(1, 29))
    acc = f"ACC{int(rng.integers(100000, 999999))}"
    idents = [f"{sur}^{giv}", pid, f"{y:04d}{m:02d}{d:02d}", acc]
    name_forms = [f"{sur}^{giv}", f"{sur}, {giv}", f"{giv.title()} {sur.title()}"]
    date_forms = [f"{d:02d}/{m:02d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{d:02d}.{m:02d}.{y}"]
    drawn = [
        name_forms[int(rng.integers(3))],
        f"ID: {pid}" if rng.random() < 0.5 else pid,
        date_forms[int(rng.integers(3))],
        acc,
    ]
    return idents, drawn


def draw_mask(
    rows: int, cols: int, lines: list[tuple[str, bool, int, int, int, int]]
) -> tuple[npt.NDArray[np.float64], list[Truth]]:
    """Anti-aliased text coverage in [0, 1] and the ground-truth boxes."""
    mask = Image.new("L", (cols, rows), 0)
    draw = ImageDraw.Draw(mask)
    truth = []
    for text, phi, x, y, size, fidx in lines:
        f = font(size, fidx)
        draw.text((x, y), text, font=f, fill=255)
        x0, y0, x1, y1 = draw.textbbox((x, y), text, font=f)
        box = (max(0, int(x0)), max(0, int(y0)), min(cols, int(x1)), min(rows, int(y1)))
        truth.append(Truth(box, text, phi))
    return np.asarray(mask, dtype=np.float64) / 255.0, truth


def base_dataset(rows: int, cols: int, photometric: str, bits: int, signed: bool, frames: int) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Modality = "OT"
    ds.Manufacturer = "ACME"
    ds.BurnedInAnnotation = "YES"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1 if photometric.startswith("MONO") or photometric == "PALETTE COLOR" else 3
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = bits
    ds.BitsStored = 12 if bits == 16 else 8
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if ds.SamplesPerPixel == 3:
        ds.PlanarConfiguration = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    return ds


def make_sample(
    seed: int,
    kind: str = "mono8",
    rows: int = 256,
    cols: int = 256,
    frames: int = 1,
    sizes: tuple[int, int] = (12, 20),
    contrast: float = 1.0,
    n_other: int = 3,
) -> Sample:
    """One native (Explicit VR Little Endian) sample; ``kind`` picks the pixel format:
    mono8, mono16, signed16, mono1, rgb, ybr, palette."""
    rng = np.random.default_rng(seed)
    idents, drawn = _patient(rng)
    other = [OTHER_TEXT[int(i)] for i in rng.choice(len(OTHER_TEXT), n_other, replace=False)]
    texts = [(t, True) for t in drawn] + [(t, False) for t in other]
    order = rng.permutation(len(texts))
    lines = _layout(rng, rows, cols, [texts[int(i)] for i in order], sizes)
    mask, truth = draw_mask(rows, cols, lines)
    bg = _background(rng, rows, cols)
    level = 0.55 + 0.45 * contrast  # text brightness relative to full scale
    img = bg * (1 - mask) + level * mask
    photometric = {
        "mono8": "MONOCHROME2",
        "mono16": "MONOCHROME2",
        "signed16": "MONOCHROME2",
        "mono1": "MONOCHROME1",
        "rgb": "RGB",
        "ybr": "YBR_FULL",
        "palette": "PALETTE COLOR",
    }[kind]
    bits = 16 if kind in ("mono16", "signed16") else 8
    ds = base_dataset(rows, cols, photometric, bits, kind == "signed16", frames)
    arr: npt.NDArray[Any]
    if kind == "mono8":
        arr = np.round(img * 255).astype(np.uint8)
    elif kind == "mono1":
        arr = np.round((1 - img) * 255).astype(np.uint8)
    elif kind == "mono16":
        arr = np.round(img * 4095).astype(np.uint16)
    elif kind == "signed16":
        arr = (np.round(img * 4095) - 2048).astype(np.int16)
    elif kind in ("rgb", "ybr"):
        colour = np.array([[1.0, 1.0, 0.2], [1.0, 1.0, 1.0], [0.3, 1.0, 0.3]][seed % 3])
        rgb = bg[..., None] * (1 - mask[..., None]) + level * mask[..., None] * colour
        arr = np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)
        if kind == "ybr":
            from pydicom.pixels.processing import convert_color_space

            arr = convert_color_space(arr, "RGB", "YBR_FULL")
    else:  # palette: 256-entry grey-to-amber LUT
        arr = np.round(img * 255).astype(np.uint8)
        ramp = np.arange(256, dtype=np.uint16)
        ds.RedPaletteColorLookupTableDescriptor = [256, 0, 16]
        ds.GreenPaletteColorLookupTableDescriptor = [256, 0, 16]
        ds.BluePaletteColorLookupTableDescriptor = [256, 0, 16]
        ds.RedPaletteColorLookupTableData = (ramp * 257).astype("<u2").tobytes()
        ds.GreenPaletteColorLookupTableData = (ramp * 240).astype("<u2").tobytes()
        ds.BluePaletteColorLookupTableData = (ramp * 160).astype("<u2").tobytes()
    if frames > 1:
        stack = np.stack([arr] * frames)
        arr = stack
    ds.PixelData = arr.tobytes()
    ds["PixelData"].VR = "OW" if bits == 16 else "OB"
    return Sample(ds, idents, truth)


def roundtrip(ds: Dataset) -> Dataset:
    """Write and re-read, as a real input file would be."""
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    buf.seek(0)
    return pydicom.dcmread(buf)


def covered(bbox: tuple[int, int, int, int], boxes: list[tuple[int, int, int, int]]) -> float:
    """Fraction of ``bbox``'s area inside the union of ``boxes``."""
    x0, y0, x1, y1 = bbox
    area = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    for bx0, by0, bx1, by1 in boxes:
        ix0, iy0, ix1, iy1 = max(x0, bx0), max(y0, by0), min(x1, bx1), min(y1, by1)
        if ix1 > ix0 and iy1 > iy0:
            area[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0] = True
    return float(area.mean()) if area.size else 1.0


def score(truth: list[Truth], boxes: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    """(identifying lines >= 90 % blanked, identifying lines, harmless lines >= 50 % blanked,
    harmless lines): what recall and the false-redaction rate are counted from."""
    phi = [covered(t.bbox, boxes) for t in truth if t.phi]
    other = [covered(t.bbox, boxes) for t in truth if not t.phi]
    return sum(c >= 0.9 for c in phi), len(phi), sum(c >= 0.5 for c in other), len(other)


def us_series_frame(index: int, rows: int = 480, cols: int = 640) -> npt.NDArray[np.uint8]:
    """Frame ``index`` of an ultrasound-like cine: a speckle fan that changes from frame
    to frame, and the same burned-in lines on black (patient, ID, hospital, date, settings)
    at the same pixels in every frame, as scanners print them."""
    rng = np.random.default_rng(index)
    yy, xx = np.mgrid[0:rows, 0:cols]
    r = np.hypot(yy + 40, xx - cols / 2)
    fan = (r > 80) & (r < rows - 10) & (np.abs(np.arctan2(xx - cols / 2, yy + 40)) < 0.6)
    speckle = rng.gamma(1.5, 40, (rows, cols)) * (0.6 + 0.4 * np.sin(r / 15 + index * 0.3))
    img = np.zeros((rows, cols), dtype=np.uint8)
    img[fan] = np.clip(speckle[fan], 0, 255).astype(np.uint8)
    pil = Image.fromarray(img).convert("RGB")
    draw = ImageDraw.Draw(pil)
    f = font(13)
    for x, y, text in (
        (8, 5, "DOE^JOHN  ID: PID001234"),
        (8, 22, "ST MARY HOSPITAL  14/03/2021"),
        (cols - 100, 5, "MI 1.2 TIS 0.4"),
        (8, rows - 35, "Gain 55  Depth 14cm"),
        (8, rows - 18, f"FR 32Hz  Img {1 + index // 30}"),
    ):
        draw.text((x, y), text, fill=(230, 230, 230), font=f)
    return np.asarray(pil)
