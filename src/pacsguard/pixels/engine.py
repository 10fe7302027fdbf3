"""The engine-facing entry points: :func:`clean_pixels` and :func:`detect_text`.

Flow of :func:`clean_pixels`: decode every frame (fail closed if impossible), OCR each
*distinct* frame once (byte-identical frames share the result), classify every line,
select boxes by policy mode, take the union over frames (text found in one frame of a
cine is blanked in all of them, so an OCR miss on a noisier frame is covered), add the
region-rule rectangles, grow by the margin, fill, handle overlays, re-encode, and only
then set Burned In Annotation to NO.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset

from pacsguard.dicom.tags import (
    BURNED_IN_ANNOTATION,
    DOUBLE_FLOAT_PIXEL_DATA,
    FLOAT_PIXEL_DATA,
    OVERLAY_DATA,
    PIXEL_DATA,
    TRANSFER_SYNTAX_UID,
    in_group,
)
from pacsguard.errors import FailClosed
from pacsguard.pixels import codecs, overlays
from pacsguard.pixels.classify import Classification, IdentifierMatcher, canonical, classify
from pacsguard.pixels.detect import OcrBox, TextDetector, get_detector
from pacsguard.pixels.redact import Box, expand, fill_boxes, merge
from pacsguard.pixels.regions import DEFAULT_REGIONS, matching_rects
from pacsguard.pixels.render import png_thumbnail, to_display
from pacsguard.profile.pixels import Detector, PixelMode, RegionRule

__all__ = ["PixelPolicy", "PixelResult", "TextBox", "clean_pixels", "detect_text"]



@dataclass(frozen=True)
class PixelPolicy:
    """How :func:`clean_pixels` treats one file (the engine picks it per file).

    ``mode``: ``all-text`` blanks every detected line (default for US, SC, OT);
    ``phi-text`` only lines classified as identifier or PHI pattern.
    """

    mode: Literal[PixelMode.ALL_TEXT, PixelMode.PHI_TEXT] = PixelMode.PHI_TEXT
    detector: Detector = Detector.RAPIDOCR
    margin: int = 4
    #: Selected text lines are widened by this many line heights on both sides: at faint
    #: line ends the detector often stops a character or two short ("ID: PID798|94").
    widen: float = 0.75
    regions: tuple[RegionRule, ...] = DEFAULT_REGIONS

    def __post_init__(self) -> None:
        # Enums at the boundary: a caller's "all-text" becomes PixelMode.ALL_TEXT (or fails).
        mode = PixelMode(self.mode)
        if mode is PixelMode.AUTO:
            raise ValueError("PixelPolicy.mode: the caller resolves auto per file")
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "detector", Detector(self.detector))


@dataclass
class PixelResult:
    """What was done to one file's pixels (no identifying values)."""

    boxes: int
    frames: int
    transfer_syntax_in: str
    transfer_syntax_out: str
    thumbnails: tuple[bytes, bytes] | None
    #: Rectangles (x0, y0, x1, y1, margin included) filled in every frame; positions only.
    redacted: tuple[Box, ...] = ()


@dataclass(frozen=True)
class TextBox:
    """One text line found in a frame. ``text`` may be identifying: never log it.

    ``frame`` is the first frame holding these pixels (identical frames are read once);
    ``bbox`` is (x0, y0, x1, y1) with exclusive ends, without margin.
    """

    frame: int
    bbox: tuple[int, int, int, int]
    text: str
    score: float
    classification: Classification


def _selected(box: TextBox, mode: PixelMode) -> bool:
    return mode is PixelMode.ALL_TEXT or box.classification != "other"


def _same_line(a: TextBox, b: TextBox) -> bool:
    """Boxes of one frame that overlap vertically by half a line and lie at most one
    line height apart horizontally."""
    if a.frame != b.frame:
        return False
    ha, hb = a.bbox[3] - a.bbox[1], b.bbox[3] - b.bbox[1]
    overlap = min(a.bbox[3], b.bbox[3]) - max(a.bbox[1], b.bbox[1])
    gap = max(a.bbox[0], b.bbox[0]) - min(a.bbox[2], b.bbox[2])
    return overlap >= 0.5 * min(ha, hb) and gap <= max(ha, hb)


def _widened(box: TextBox | OcrBox, factor: float, matcher: IdentifierMatcher) -> Box:
    """``box`` widened on both sides by ``factor`` line heights, or by the width of the
    characters a cut-short identifier lacks when that is more."""
    x0, y0, x1, y1 = box.bbox
    dx = factor * (y1 - y0)
    missing = matcher.shortfall(box.text) if box.text else 0
    if missing:
        dx = max(dx, missing * (x1 - x0) / len(canonical(box.text)))
    d = int(np.ceil(dx))
    return (x0 - d, y0, x1 + d, y1)  # expand() clips to the image


def _select(found: Sequence[TextBox], mode: PixelMode) -> list[TextBox]:
    """Boxes to blank. The detector sometimes splits one line ("ID:PID4" + "767") and
    the tail alone reads as harmless: a box next to a selected one on its line is taken
    too, transitively."""
    chosen = [_selected(b, mode) for b in found]
    grew = True
    while grew:
        grew = False
        for i, b in enumerate(found):
            if not chosen[i] and any(chosen[j] and _same_line(b, o) for j, o in enumerate(found)):
                chosen[i] = grew = True
    return [b for b, c in zip(found, chosen, strict=True) if c]


def _scan(
    ds: Dataset,
    dec: codecs.Decoded,
    detector: TextDetector,
    matcher: IdentifierMatcher,
    *,
    read: bool = True,
) -> tuple[list[TextBox], list[npt.NDArray[np.uint8]]]:
    """OCR each distinct frame once; returns boxes and the display image of every frame."""
    seen: dict[bytes, int] = {}
    boxes: list[TextBox] = []
    displays: list[npt.NDArray[np.uint8]] = []
    for i in range(dec.frames.shape[0]):
        frame = dec.frames[i]
        digest = hashlib.sha256(frame.tobytes()).digest()
        if digest in seen:
            displays.append(displays[seen[digest]])
            continue
        seen[digest] = i
        rgb = to_display(frame, dec.photometric, ds)
        displays.append(rgb)
        for ob in detector.detect(rgb, read=read):
            cls = classify(ob.text, matcher) if read else "other"
            boxes.append(TextBox(i, ob.bbox, ob.text, ob.score, cls))
    return boxes, displays


def detect_text(ds: Dataset, identifiers: Sequence[str], detector: str = "rapidocr") -> list[TextBox]:
    """Read every text line in ``ds``'s pixels, classified against ``identifiers``.

    Used by scan and verify. Raises FailClosed when pixels cannot be decoded or the
    detector is missing.
    """
    det = get_detector(detector)
    dec = codecs.decode(ds)
    boxes, _ = _scan(ds, dec, det, IdentifierMatcher.build(identifiers))
    return boxes


def _set_burned_in_no(ds: Dataset) -> None:
    if BURNED_IN_ANNOTATION in ds:
        ds[BURNED_IN_ANNOTATION].value = "NO"
    else:
        ds.BurnedInAnnotation = "NO"


def _thumb_index(boxes: Sequence[TextBox]) -> int:
    if not boxes:
        return 0
    counts: dict[int, int] = {}
    for b in boxes:
        counts[b.frame] = counts.get(b.frame, 0) + 1
    return max(counts, key=lambda k: counts[k])


def clean_pixels(
    ds: Dataset, identifiers: Sequence[str], policy: PixelPolicy, *, want_thumbnails: bool = False,
    embedded_overlays: bool = False,
) -> PixelResult:
    """Redact burned-in text in place, handle overlays, then set BurnedInAnnotation=NO.

    Parameters
    ----------
    ds
        Header-de-identified dataset with ``file_meta``; modified in place (Pixel Data,
        Transfer Syntax UID, Photometric Interpretation, Planar Configuration, overlays).
    identifiers
        The file's own identifying strings (name parts, IDs, dates), for classification.
    policy
        Mode, detector, margin, region rules, overlay handling.
    want_thumbnails
        Return ``(before_png, after_png)`` thumbnails of the frame with most text.
    embedded_overlays
        The original held overlays in Pixel Data's unused high bits. The header step has
        already removed their 60xx groups, so ``ds`` no longer says so: the pixels must be
        written back (decoding masks those bits) even when no text is found.

    Raises
    ------
    FailClosed
        ``pixel-decode`` (undecodable), ``pixel-unsupported`` (float data, 1/32-bit,
        unknown photometric), ``pixel-encode``, ``pixel-detector`` (detector missing).
    """
    detector = get_detector(policy.detector)
    matcher = IdentifierMatcher.build(identifiers)
    ts_elem = ds.file_meta.get(TRANSFER_SYNTAX_UID)
    ts_in = str(ts_elem.value) if ts_elem is not None else ""
    if PIXEL_DATA not in ds:
        if FLOAT_PIXEL_DATA in ds or DOUBLE_FLOAT_PIXEL_DATA in ds:
            raise FailClosed("pixel-unsupported", "float pixel data cannot be redacted")
        overlays.remove_overlays(ds)
        _set_burned_in_no(ds)
        return PixelResult(0, 0, ts_in, ts_in, None)

    dec = codecs.decode(ds)
    # Retired overlays living in unused high bits of Pixel Data: decoding masked them
    # off, so the pixels must be written back even when no text is found.
    embedded = embedded_overlays or any(
        in_group(OVERLAY_DATA, g) not in ds for g in overlays.overlay_groups(ds))
    nframes, rows, cols = dec.frames.shape[:3]
    # all-text blanks every line whatever it says: finding is enough, reading is skipped.
    found, displays = _scan(ds, dec, detector, matcher, read=policy.mode is not PixelMode.ALL_TEXT)
    raw: list[Box] = [_widened(b, policy.widen, matcher) for b in _select(found, policy.mode)]
    raw += [(x, y, x + w, y + h) for x, y, w, h in matching_rects(ds, policy.regions)]
    boxes = merge(b for r in raw if (b := expand(r, policy.margin, cols, rows)) is not None)

    thumb_i = _thumb_index(found)
    before = png_thumbnail(displays[thumb_i]) if want_thumbnails else b""
    filled = fill_boxes(dec.frames, boxes, dec.photometric, ds)
    overlays.remove_overlays(ds)
    ts_out = codecs.encode(ds, dec) if boxes or embedded else _unchanged_syntax(ds, dec)
    _set_burned_in_no(ds)
    thumbs = None
    if want_thumbnails:
        after = png_thumbnail(to_display(dec.frames[thumb_i], dec.photometric, ds))
        thumbs = (before, after)
    return PixelResult(filled, nframes, ts_in, str(ts_out), thumbs, tuple(boxes))


def _unchanged_syntax(ds: Dataset, dec: codecs.Decoded) -> str:
    # Nothing to blank: the pixel data stays byte for byte as it was.
    return str(dec.transfer_syntax)
