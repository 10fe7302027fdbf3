"""Shared fixtures for the pixel tests: skip cleanly when OCR extras are missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from pacsguard.pixels import detector_available

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf")


@pytest.fixture(autouse=True)
def _fonts() -> None:
    if not FONT.exists():
        pytest.skip("DejaVu fonts are missing (scripts/peers.sh installs fonts-dejavu-*)")


@pytest.fixture(scope="session")
def rapidocr() -> str:
    if not detector_available("rapidocr"):
        pytest.skip("rapidocr-onnxruntime is not installed (pip install -e '.[ocr]')")
    return "rapidocr"


@pytest.fixture(scope="session")
def tesseract() -> str:
    if not detector_available("tesseract"):
        pytest.skip("tesseract is not installed (scripts/peers.sh installs tesseract-ocr)")
    return "tesseract"
