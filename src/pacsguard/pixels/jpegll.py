"""A JPEG Lossless encoder (ITU-T T.81 process 14, first-order prediction: DICOM's
"JPEG Lossless, Non-Hierarchical, First-Order Prediction", 1.2.840.10008.1.2.4.70).

No pip-installable package encodes this syntax, so redacted JPEG Lossless files used to be
written uncompressed. This encoder covers one sample per pixel (MONOCHROME1/2, PALETTE
COLOR) and RGB, 2 to 16 bits stored. Each frame is one scan with
selection value 1 (predict from the left; the first row from the left, the first column
from above, the first sample from half range), point transform 0, and a Huffman table
optimised for that frame (T.81 Annex K.2). The caller decodes the result with an
independent decoder before using it (:func:`pacsguard.pixels.codecs.encode`).

All work is vectorised with NumPy: no per-pixel Python loop.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["encode_frame"]

_MAX_CODE = 16
# Bit length of 0..65536: the difference category SSSS of T.81 H.1.2.2.
_CATEGORY = np.zeros(65537, dtype=np.int64)
for _k in range(1, 18):
    _CATEGORY[1 << (_k - 1) : min(1 << _k, 65537)] = _k


def _code_lengths(freq: npt.NDArray[np.int64]) -> tuple[list[int], list[int]]:
    """BITS and HUFFVAL for the symbols 0..16 with ``freq`` (T.81 Figures K.1 to K.3)."""
    n = len(freq)
    f = [int(v) for v in freq] + [1]  # one reserved code point: no code of all 1 bits
    size = [0] * (n + 1)
    others = [-1] * (n + 1)
    while True:
        live = [i for i in range(n + 1) if f[i] > 0]
        if len(live) < 2:
            break
        # v1: least frequency (largest value on ties), v2: the next least.
        v1 = min(live, key=lambda i: (f[i], -i))
        v2 = min((i for i in live if i != v1), key=lambda i: (f[i], -i))
        f[v1] += f[v2]
        f[v2] = 0
        size[v1] += 1
        while others[v1] >= 0:
            v1 = others[v1]
            size[v1] += 1
        others[v1] = v2
        size[v2] += 1
        while others[v2] >= 0:
            v2 = others[v2]
            size[v2] += 1
    bits = [0] * 33
    for s in size:
        if s:
            bits[s] += 1
    i = 32
    while i > _MAX_CODE:  # Figure K.3: no code longer than 16 bits
        while bits[i] > 0:
            j = i - 2
            while bits[j] == 0:
                j -= 1
            bits[i] -= 2
            bits[i - 1] += 1
            bits[j + 1] += 2
            bits[j] -= 1
        i -= 1
    while bits[i] == 0:
        i -= 1
    bits[i] -= 1  # drop the reserved code point
    values = sorted((s, v) for v, s in enumerate(size[:n]) if s)
    return bits[1 : _MAX_CODE + 1], [v for _, v in values]


def _canonical(bits: list[int], values: list[int]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Code and length of each symbol 0..16 (T.81 Annex C)."""
    codes = np.zeros(17, dtype=np.int64)
    lengths = np.zeros(17, dtype=np.int64)
    code = 0
    k = 0
    for length in range(1, _MAX_CODE + 1):
        for _ in range(bits[length - 1]):
            codes[values[k]] = code
            lengths[values[k]] = length
            code += 1
            k += 1
        code <<= 1
    return codes, lengths


def _differences(x: npt.NDArray[np.int64], precision: int) -> npt.NDArray[np.int64]:
    """Prediction errors of ``x`` shaped ``(rows, columns, components)``, each component
    predicted from its own samples."""
    pred = np.empty_like(x)
    pred[0, 0] = 1 << (precision - 1)
    pred[0, 1:] = x[0, :-1]
    pred[1:, 0] = x[:-1, 0]
    pred[1:, 1:] = x[1:, :-1]
    diff = (x - pred) % 65536  # T.81 H.1.2.1: modulo 2^16
    out: npt.NDArray[np.int64] = np.where(diff > 32768, diff - 65536, diff)
    return out


def _pack(values: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]) -> bytes:
    """Concatenate ``values`` of ``lengths`` bits (MSB first), pad with 1 bits, stuff 0xFF."""
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if len(ends) else 0
    starts = ends - lengths
    bitbuf = np.ones(-(-total // 8) * 8, dtype=np.uint8)  # padding bits are 1
    for b in range(int(lengths.max(initial=0))):
        sel = lengths > b
        shift = lengths[sel] - 1 - b
        bitbuf[starts[sel] + b] = (values[sel] >> shift) & 1
    packed = np.packbits(bitbuf)
    ff = np.flatnonzero(packed == 0xFF)
    return bytes(np.insert(packed, ff + 1, 0).tobytes())


def encode_frame(frame: npt.NDArray[Any], bits_stored: int) -> bytes:
    """One frame of stored values (signed ones as their two's complement in
    ``bits_stored`` bits) as a JPEG Lossless SV1 codestream: ``(rows, columns)``, or
    ``(rows, columns, 3)`` for colour, written as one interleaved scan of three components
    (colour-by-pixel, no colour transform) sharing one Huffman table."""
    if frame.ndim == 2:
        frame = frame[:, :, np.newaxis]
    if frame.ndim != 3 or frame.shape[2] not in (1, 3) or not 2 <= bits_stored <= 16:
        raise ValueError("one or three samples per pixel and 2 to 16 bits stored only")
    rows, cols, ncomp = frame.shape
    if not (0 < rows < 65536 and 0 < cols < 65536):
        raise ValueError("frame size out of JPEG's range")
    x = frame.astype(np.int64) & ((1 << bits_stored) - 1)
    # C order is the interleaved scan order: every component of a pixel, pixel by pixel.
    diff = _differences(x, bits_stored).ravel()
    ssss = _CATEGORY[np.abs(diff)]
    bits, huffval = _code_lengths(np.bincount(ssss, minlength=17).astype(np.int64))
    codes, code_len = _canonical(bits, huffval)
    # Additional bits: the difference itself when positive, its one's complement (d - 1)
    # when negative, SSSS bits of it; none for SSSS 16 (T.81 H.1.2.2, F.1.2.1.1).
    extra_len = np.where(ssss == 16, 0, ssss)
    extra = np.where(diff < 0, diff - 1, diff) & ((np.int64(1) << extra_len) - 1)
    values = (codes[ssss] << extra_len) | extra
    lengths = code_len[ssss] + extra_len
    scan = _pack(values, lengths)
    ids = range(1, ncomp + 1)
    sof = struct.pack(">BHHB", bits_stored, rows, cols, ncomp) + b"".join(
        bytes([c, 0x11, 0]) for c in ids  # Ci, H/V sampling 1x1, Tq
    )
    dht = bytes([0x00, *bits, *huffval])
    # Ns, (Cs, Td/Ta) per component, Ss = predictor 1, Se, Ah/Al = point transform 0
    sos = bytes([ncomp, *(b for c in ids for b in (c, 0x00)), 1, 0, 0x00])
    return b"".join(
        (
            b"\xff\xd8",
            b"\xff\xc3" + struct.pack(">H", len(sof) + 2) + sof,
            b"\xff\xc4" + struct.pack(">H", len(dht) + 2) + dht,
            b"\xff\xda" + struct.pack(">H", len(sos) + 2) + sos,
            scan,
            b"\xff\xd9",
        )
    )
