"""The pixel step: clean burned-in text of one dataset, in place (``pacsguard.pixels``).

The OCR runtime is imported on the first file that needs it, never at start-up.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from pydicom.dataset import Dataset

from pacsguard.errors import FailClosed
from pacsguard.profile.pixels import PixelMode
from pacsguard.profile.policy import Policy

if TYPE_CHECKING:
    from pacsguard.pixels import PixelPolicy, PixelResult

__all__ = ["ALL_TEXT_MODALITIES", "PixelStep"]

#: Modalities whose burned-in text is all annotation: every line is blanked, not only PHI.
ALL_TEXT_MODALITIES = frozenset({"US", "SC", "OT"})


class PixelStep:
    """Holds the pixel policy and detector state of one process."""

    def __init__(self, policy: Policy, *, want_thumbnails: bool, show_values: bool) -> None:
        self._policy = policy
        self._pixel_policy: PixelPolicy | None = None
        self._want_thumbnails = want_thumbnails
        self._show_values = show_values

    def clean(self, ds: Dataset, modality: str, identifiers: list[str], *,
              embedded_overlays: bool) -> PixelResult:
        """Blank the text in ``ds``'s pixels; raises FailClosed when it cannot.
        ``embedded_overlays``: the original kept overlays in the pixels' high bits."""
        from pacsguard.pixels import clean_pixels, detector_available

        if self._pixel_policy is None:
            self._pixel_policy = _pixel_policy(self._policy)
        policy = self._pixel_policy
        if not detector_available(policy.detector):
            raise FailClosed("no-pixel-cleaner", f"the {policy.detector} text detector is not "
                             "installed (pip install 'pacsguard[ocr]')")
        wanted = self._policy.pixels.mode
        all_text = wanted is PixelMode.ALL_TEXT or (
            wanted is PixelMode.AUTO and modality in ALL_TEXT_MODALITIES)
        mode: Literal[PixelMode.ALL_TEXT, PixelMode.PHI_TEXT] = (
            PixelMode.ALL_TEXT if all_text else PixelMode.PHI_TEXT)
        result = clean_pixels(ds, identifiers, replace(policy, mode=mode),
                              want_thumbnails=self._want_thumbnails,
                              embedded_overlays=embedded_overlays)
        if result.thumbnails is not None and not self._show_values:
            result.thumbnails = (b"", result.thumbnails[1])  # the original is identifying
        return result


def _pixel_policy(policy: Policy) -> PixelPolicy:
    from pacsguard.pixels import DEFAULT_REGIONS, PixelPolicy

    settings = policy.pixels
    return PixelPolicy(detector=settings.detector, margin=settings.margin,
                       regions=DEFAULT_REGIONS + settings.regions)
