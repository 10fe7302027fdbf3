"""Burned-in text: detect and redact personal data in pixels and overlays (issue 4).

Public API (the de-identification engine codes against exactly this)::

    from pacsguard.pixels import PixelPolicy, clean_pixels, detect_text, detector_available

See docs/pixels.md for the supported encodings, detectors, region rules and the
limits of Clean Recognizable Visual Features.
"""

from pacsguard.pixels.classify import Classification
from pacsguard.pixels.detect import TextDetector, detector_available, get_detector
from pacsguard.pixels.engine import PixelPolicy, PixelResult, TextBox, clean_pixels, detect_text
from pacsguard.pixels.regions import DEFAULT_REGIONS

__all__ = [
    "DEFAULT_REGIONS",
    "Classification",
    "PixelPolicy",
    "PixelResult",
    "TextBox",
    "TextDetector",
    "clean_pixels",
    "detect_text",
    "detector_available",
    "get_detector",
]
