"""Decode pixel data to arrays and write redacted arrays back, honestly.

Decoding goes through pydicom's pixel backends (pylibjpeg with its libjpeg, openjpeg
and rle plugins, pyjpegls, Pillow). Arrays are decoded in their *stored* colour space
(``as_rgb=False``) so that a lossless round trip changes nothing outside the redacted
boxes; only the 4:2:2 sub-sampling of native ``YBR_FULL_422`` is undone, which is why
such data comes back as ``YBR_FULL``.

Re-encoding (see :data:`REENCODE`):

* lossless syntaxes with an encoder here (RLE Lossless natively, JPEG-LS Lossless via
  pyjpegls, JPEG 2000 Lossless via pylibjpeg-openjpeg) are re-encoded in the same syntax;
  JPEG Lossless (process 14, any predictor) as JPEG Lossless first-order prediction with
  pacsguard's own encoder (:mod:`pacsguard.pixels.jpegll`, grey, palette and RGB), kept
  only when pydicom's decoder gives every value back;
* native little endian and Deflated syntaxes keep their syntax;
* everything else (JPEG baseline/extended, YBR JPEG Lossless, JPEG-LS near-lossless,
  lossy JPEG 2000, HTJ2K) is written as Explicit VR Little Endian; Explicit VR Big Endian
  (retired) fails closed, since its other OB/OW values would need swapping as well. Lossy inputs
  are converted from YBR to RGB at that point, since their values are not exact anyway.

A transfer syntax is only ever claimed for bytes actually produced in that syntax.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)

from pacsguard.dicom.tags import (
    BITS_ALLOCATED,
    BITS_STORED,
    DOUBLE_FLOAT_PIXEL_DATA,
    EXTENDED_OFFSET_TABLE,
    EXTENDED_OFFSET_TABLE_LENGTHS,
    FLOAT_PIXEL_DATA,
    LOSSY_IMAGE_COMPRESSION,
    PHOTOMETRIC_INTERPRETATION,
    PIXEL_DATA,
    PLANAR_CONFIGURATION,
    SAMPLES_PER_PIXEL,
    TRANSFER_SYNTAX_UID,
)
from pacsguard.errors import FailClosed

__all__ = ["REENCODE", "Decoded", "decode", "encode", "output_syntax"]

_log = logging.getLogger(__name__)

NATIVE_LE = frozenset({ExplicitVRLittleEndian, ImplicitVRLittleEndian})
LOSSLESS_INPUTS = frozenset(
    {
        ExplicitVRLittleEndian,
        ImplicitVRLittleEndian,
        ExplicitVRBigEndian,
        DeflatedExplicitVRLittleEndian,
        RLELossless,
        JPEGLSLossless,
        JPEG2000Lossless,
        UID("1.2.840.10008.1.2.4.57"),  # JPEG Lossless, process 14
        UID("1.2.840.10008.1.2.4.70"),  # JPEG Lossless, process 14, SV1
        UID("1.2.840.10008.1.2.4.201"),  # HTJ2K Lossless
        UID("1.2.840.10008.1.2.4.202"),  # HTJ2K Lossless RPCL
    }
)
#: Input syntax -> syntax written after redaction, where it is not Explicit VR Little Endian.
REENCODE: dict[UID, UID] = {
    ExplicitVRLittleEndian: ExplicitVRLittleEndian,
    ImplicitVRLittleEndian: ImplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian: DeflatedExplicitVRLittleEndian,
    RLELossless: RLELossless,
    JPEGLSLossless: JPEGLSLossless,
    JPEG2000Lossless: JPEG2000Lossless,
    UID("1.2.840.10008.1.2.4.57"): JPEGLosslessSV1,  # any predictor in, first-order out
    JPEGLosslessSV1: JPEGLosslessSV1,
}
# Photometric interpretations each re-encoder accepts (PS3.5 8.2); others fall back to native.
_ENCODER_PHOTOMETRIC: dict[UID, frozenset[str]] = {
    RLELossless: frozenset({"MONOCHROME1", "MONOCHROME2", "PALETTE COLOR", "RGB", "YBR_FULL"}),
    JPEGLSLossless: frozenset({"MONOCHROME1", "MONOCHROME2", "PALETTE COLOR", "RGB"}),
    JPEG2000Lossless: frozenset({"MONOCHROME1", "MONOCHROME2", "PALETTE COLOR", "RGB"}),
    JPEGLosslessSV1: frozenset({"MONOCHROME1", "MONOCHROME2", "PALETTE COLOR", "RGB"}),  # jpegll.py
}

Array = npt.NDArray[Any]


@dataclass
class Decoded:
    """Pixel data of every frame, shaped ``(frames, rows, columns[, samples])``."""

    frames: Array
    photometric: str
    bits_stored: int
    transfer_syntax: UID

    @property
    def lossless_input(self) -> bool:
        """True when the decoded values are exactly the stored ones (no lossy codec)."""
        return self.transfer_syntax in LOSSLESS_INPUTS


def _syntax(ds: Dataset) -> UID:
    meta = getattr(ds, "file_meta", None)
    elem = meta.get(TRANSFER_SYNTAX_UID) if meta is not None else None
    if elem is None or not elem.value:
        raise FailClosed("pixel-decode", "the file has no transfer syntax in its file meta")
    return UID(str(elem.value))


def decode(ds: Dataset) -> Decoded:
    """Decode all frames of ``ds`` without colour conversion.

    Raises
    ------
    FailClosed
        ``pixel-decode`` when the data cannot be decoded, ``pixel-unsupported`` for
        float pixel data or bit depths the redactor does not handle.
    """
    from pydicom.pixels.decoders.base import get_decoder

    if FLOAT_PIXEL_DATA in ds or DOUBLE_FLOAT_PIXEL_DATA in ds:
        raise FailClosed("pixel-unsupported", "float pixel data cannot be redacted")
    if PIXEL_DATA not in ds:
        raise FailClosed("pixel-decode", "the dataset has no Pixel Data")
    tsyntax = _syntax(ds)
    if tsyntax == ExplicitVRBigEndian:
        # Other OB/OW values (LUTs, overlays) would need byte-swapping too; retired syntax.
        raise FailClosed("pixel-unsupported", "big endian pixel data is not rewritten")
    bits = ds.get(BITS_ALLOCATED)
    if bits is None or int(bits.value) not in (8, 16):
        raise FailClosed("pixel-unsupported", "only 8- and 16-bit pixel data can be redacted")
    try:
        decoder = get_decoder(tsyntax)
    except NotImplementedError as exc:
        raise FailClosed("pixel-decode", "no decoder for the file's transfer syntax") from exc
    if not decoder.is_available:
        raise FailClosed("pixel-decode", "the decoder for the transfer syntax is not installed")
    try:
        opts: dict[str, Any] = {"as_rgb": False}
        arr, meta = decoder.as_array(ds, **opts)
    except Exception as exc:  # any backend failure means we cannot see the pixels
        why = type(exc).__name__
        raise FailClosed("pixel-decode", f"pixel data cannot be decoded ({why})") from exc
    samples = int(ds.get(SAMPLES_PER_PIXEL).value) if SAMPLES_PER_PIXEL in ds else 1
    nframes = int(meta.get("number_of_frames", 1))
    want_ndim = 4 if samples > 1 else 3
    if arr.ndim == want_ndim - 1:
        arr = arr[np.newaxis, ...]
    if arr.ndim != want_ndim or arr.shape[0] != nframes:
        raise FailClosed("pixel-decode", "decoded pixel data has an unexpected shape")
    photometric = str(meta.get("photometric_interpretation", ds.get(PHOTOMETRIC_INTERPRETATION).value))
    if photometric == "YBR_FULL_422":  # the decoders removed the sub-sampling already
        photometric = "YBR_FULL"
    if photometric not in {"MONOCHROME1", "MONOCHROME2", "RGB", "YBR_FULL", "PALETTE COLOR"}:
        raise FailClosed("pixel-unsupported", f"photometric interpretation {photometric}")
    bits_stored = int(ds.get(BITS_STORED).value) if BITS_STORED in ds else int(bits.value)
    return Decoded(np.ascontiguousarray(arr), photometric, bits_stored, tsyntax)


def output_syntax(dec: Decoded) -> UID:
    """The syntax the redacted data is written in (see module docstring)."""
    out = REENCODE.get(dec.transfer_syntax, ExplicitVRLittleEndian)
    allowed = _ENCODER_PHOTOMETRIC.get(out)
    if allowed is not None:
        from pydicom.pixels.encoders.base import get_encoder

        if out == JPEGLosslessSV1:  # our own encoder; its output is checked by a decoder
            available = _jpeg_lossless_checkable() and 2 <= dec.bits_stored <= 16
        else:
            available = get_encoder(out).is_available
        if dec.photometric not in allowed or not available:
            return ExplicitVRLittleEndian  # no encoder here: write the truth, uncompressed
    return out


def _jpeg_lossless_checkable() -> bool:
    from pydicom.pixels.decoders.base import get_decoder

    return bool(get_decoder(JPEGLosslessSV1).is_available)


def _encode_jpeg_lossless(ds: Dataset, frames: Array, bits_stored: int) -> None:
    """Encapsulate every frame with :mod:`pacsguard.pixels.jpegll`, then decode the result
    with pydicom's decoder and keep it only if every value comes back; otherwise the
    native bytes already in ``ds`` stay (the truth, uncompressed)."""
    from pydicom.encaps import encapsulate
    from pydicom.pixels.decoders.base import get_decoder

    from pacsguard.pixels.jpegll import encode_frame

    native = (ds.PixelData, ds.file_meta.TransferSyntaxUID)
    try:
        ds.PixelData = encapsulate([encode_frame(f, bits_stored) for f in frames])
        ds[PIXEL_DATA].VR = "OB"
        ds[PIXEL_DATA].is_undefined_length = True
        ds.file_meta.TransferSyntaxUID = JPEGLosslessSV1
        opts: dict[str, Any] = {"as_rgb": False}
        back, _ = get_decoder(JPEGLosslessSV1).as_array(ds, **opts)
        if back.reshape(frames.shape).astype(frames.dtype).tobytes() == frames.tobytes():
            return
    except Exception as exc:  # any failure of ours or of the decoder: keep the native bytes
        _log.warning("JPEG Lossless re-encoding failed (%s); written uncompressed", type(exc).__name__)
    else:
        _log.warning("JPEG Lossless re-encoding did not decode back exactly; written uncompressed")
    ds.PixelData, ds.file_meta.TransferSyntaxUID = native
    ds[PIXEL_DATA].VR = "OW" if frames.dtype.itemsize > 1 else "OB"
    ds[PIXEL_DATA].is_undefined_length = False


def _native_bytes(frames: Array, bits_allocated: int) -> bytes:
    dtype = np.dtype(("<i" if frames.dtype.kind == "i" else "<u") + str(bits_allocated // 8))
    return bytes(frames.astype(dtype, copy=False).tobytes())


def encode(ds: Dataset, dec: Decoded) -> UID:
    """Write ``dec.frames`` into ``ds`` and return the transfer syntax now in file_meta.

    Updates Pixel Data, Transfer Syntax UID, Photometric Interpretation and Planar
    Configuration. Raises ``FailClosed("pixel-encode", ...)`` if an encoder fails.
    """
    out = output_syntax(dec)
    frames = dec.frames
    photometric = dec.photometric
    if not dec.lossless_input and photometric == "YBR_FULL":
        from pydicom.pixels.processing import convert_color_space

        frames = convert_color_space(frames.copy(), "YBR_FULL", "RGB", per_frame=True)
        photometric = "RGB"
    samples = frames.shape[-1] if frames.ndim == 4 else 1
    bits_allocated = int(ds[BITS_ALLOCATED].value)
    ds[PHOTOMETRIC_INTERPRETATION].value = photometric
    if samples > 1:
        ds.PlanarConfiguration = 0
    elif PLANAR_CONFIGURATION in ds:
        del ds[PLANAR_CONFIGURATION]
    for tag in (EXTENDED_OFFSET_TABLE, EXTENDED_OFFSET_TABLE_LENGTHS):
        if tag in ds:
            del ds[tag]
    if not dec.lossless_input and LOSSY_IMAGE_COMPRESSION not in ds:
        ds.LossyImageCompression = "01"  # the values already went through a lossy codec
    ds.PixelData = _native_bytes(frames, bits_allocated)
    elem = ds[PIXEL_DATA]
    elem.VR = "OW" if bits_allocated > 8 else "OB"
    elem.is_undefined_length = False
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian if out not in NATIVE_LE else out
    if out in (RLELossless, JPEGLSLossless, JPEG2000Lossless):
        arr = frames if frames.shape[0] > 1 else frames[0]
        try:
            ds.compress(out, arr, generate_instance_uid=False)
        except Exception as exc:  # encoder missing or refusing: fail closed, never mislabel
            raise FailClosed("pixel-encode", f"re-encoding failed ({type(exc).__name__})") from exc
        if out == JPEG2000Lossless and photometric == "RGB":
            # openjpeg applies the reversible colour transform to RGB: PS3.5 8.2.4 names
            # that YBR_RCT (dciodvfy refuses RGB there); decoders give RGB back either way.
            ds[PHOTOMETRIC_INTERPRETATION].value = "YBR_RCT"  # ``dec`` keeps RGB: its frames are RGB
    elif out == JPEGLosslessSV1:
        _encode_jpeg_lossless(ds, frames, dec.bits_stored)
    elif out == DeflatedExplicitVRLittleEndian:
        ds.file_meta.TransferSyntaxUID = out  # pydicom deflates the whole dataset on write
    # From here on ``dec`` describes what was written (thumbnails are drawn from it).
    dec.frames, dec.photometric = frames, photometric
    return UID(str(ds.file_meta.TransferSyntaxUID))
