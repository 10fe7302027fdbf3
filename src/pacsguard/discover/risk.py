"""Fail-closed checks on what header de-identification cannot clean: pixels, documents.

:func:`pixel_risk` is the one answer to "may these pixels carry burned-in text?": deid
quarantines (or cleans) on it, verify reads the pixels of the files it names, and scan flags
them, all with one modality set, the policy's ``burned_in_modalities``.
"""

from __future__ import annotations

from pydicom.dataset import Dataset

from pacsguard.dicom.tags import (
    BURNED_IN_ANNOTATION,
    MODALITY,
    OVERLAY_DATA,
    OVERLAY_ROWS,
    PIXEL_DATA_TAGS,
    RECOGNIZABLE_VISUAL_FEATURES,
    SOP_CLASS_UID,
    in_group,
    is_overlay_group,
)
from pacsguard.dicom.values import value_text
from pacsguard.profile.policy import Policy

#: Secondary Capture family: screen captures and scanned documents.
SECONDARY_CAPTURE_CLASSES = frozenset({
    "1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.7.1", "1.2.840.10008.5.1.4.1.1.7.2",
    "1.2.840.10008.5.1.4.1.1.7.3", "1.2.840.10008.5.1.4.1.1.7.4",
})
#: Encapsulated PDF, CDA, STL, OBJ, MTL: their content is a document pacsguard cannot clean.
ENCAPSULATED_CLASSES = frozenset({
    "1.2.840.10008.5.1.4.1.1.104.1", "1.2.840.10008.5.1.4.1.1.104.2",
    "1.2.840.10008.5.1.4.1.1.104.3", "1.2.840.10008.5.1.4.1.1.104.4",
    "1.2.840.10008.5.1.4.1.1.104.5",
})


def _text(ds: Dataset, tag: int) -> str:
    return value_text(ds, tag).upper()


def document_risk(ds: Dataset) -> tuple[str, str] | None:
    """A reason to quarantine whatever the pixel options are, or None."""
    if _text(ds, SOP_CLASS_UID) in ENCAPSULATED_CLASSES:
        return ("encapsulated-document",
                "an encapsulated document (PDF, CDA, 3D model) cannot be de-identified")
    if _text(ds, RECOGNIZABLE_VISUAL_FEATURES) == "YES":
        return ("recognizable-visual-features",
                "Recognizable Visual Features is YES (Clean Recognizable Visual Features "
                "is not implemented)")
    return None


_DEFAULT_POLICY = Policy()


def pixel_risk(ds: Dataset, policy: Policy = _DEFAULT_POLICY, *,
               has_pixels: bool | None = None) -> tuple[str, str] | None:
    """Why this file's pixels may carry burned-in text, or None when they should not.

    ``(code, detail)``: Burned In Annotation YES, or absent (or neither YES nor NO) on a
    modality of ``policy.burned_in_modalities`` or on a Secondary Capture. Verify and scan,
    which take no policy, use the default one's modalities. ``has_pixels``: whether the file
    holds pixel data, when ``ds`` is a header read without it.
    """
    if not (any(t in ds for t in PIXEL_DATA_TAGS) if has_pixels is None else has_pixels):
        return None
    flag = _text(ds, BURNED_IN_ANNOTATION)
    if flag == "YES":
        return ("burned-in-annotation", "Burned In Annotation is YES")
    if flag == "NO":
        return None
    modality = _text(ds, MODALITY)
    if modality in policy.burned_in_modalities:
        return ("burned-in-annotation-unknown",
                f"Burned In Annotation is absent on modality {modality}, which often burns text in")
    if _text(ds, SOP_CLASS_UID) in SECONDARY_CAPTURE_CLASSES:
        return ("burned-in-annotation-unknown",
                "Burned In Annotation is absent on a Secondary Capture (screen capture)")
    return None


def embedded_overlay_groups(ds: Dataset) -> list[int]:
    """Overlay groups whose bitmap lives in the pixel data's unused high bits (no 60xx,3000)."""
    groups = {t.group for t in ds.keys() if is_overlay_group(t.group)}
    return sorted(g for g in groups
                  if in_group(OVERLAY_DATA, g) not in ds and in_group(OVERLAY_ROWS, g) in ds)
