"""The OCR models' runtime: OpenVINO swapped in for onnxruntime, same answers."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from pacsguard.errors import FailClosed, PolicyError
from pacsguard.pixels import codecs
from pacsguard.pixels.detect import RapidOcrDetector
from pacsguard.pixels.render import to_display
from pacsguard.pixels.runtime import REC_WIDTH_STEP, OpenVinoSession, chosen_runtime
from pacsguard.pixels.tuning import CachedRecognizer, DetPreprocess
from pacsguard.samples import burned_text

needs_openvino = pytest.mark.skipif(
    importlib.util.find_spec("openvino") is None, reason="OpenVINO is not installed (pip install -e '.[ocr]')"
)


def _frame(seed: int = 3) -> np.ndarray:
    sample = burned_text.make_sample(seed, "mono8", rows=256, cols=256, sizes=(13, 16))
    ds = burned_text.roundtrip(sample.ds)
    dec = codecs.decode(ds)
    return to_display(dec.frames[0], dec.photometric, ds)


def test_runtime_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACSGUARD_OCR_RUNTIME", "onnxruntime")
    assert chosen_runtime() == "onnxruntime"
    monkeypatch.setenv("PACSGUARD_OCR_RUNTIME", "tensorflow")
    with pytest.raises(PolicyError, match="PACSGUARD_OCR_RUNTIME"):
        chosen_runtime()
    monkeypatch.setenv("PACSGUARD_OCR_RUNTIME", "auto")
    has_ov = importlib.util.find_spec("openvino") is not None
    assert chosen_runtime() == ("openvino" if has_ov else "onnxruntime")


def test_asking_for_missing_openvino_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "openvino" else real(name))
    monkeypatch.setenv("PACSGUARD_OCR_RUNTIME", "openvino")
    with pytest.raises(FailClosed, match="not installed"):
        chosen_runtime()
    monkeypatch.setenv("PACSGUARD_OCR_RUNTIME", "auto")
    assert chosen_runtime() == "onnxruntime"


def test_fast_preprocessing_equals_rapidocrs(rapidocr: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess  # type: ignore[import-untyped]

    monkeypatch.setenv("PACSGUARD_OCR_RUNTIME", "onnxruntime")
    engine = RapidOcrDetector()._get()
    rgb = np.random.default_rng(0).integers(0, 256, (300, 500, 3), dtype=np.uint8)
    ours = engine.text_det.get_preprocess(500)
    assert isinstance(ours, DetPreprocess)
    theirs = DetPreProcess(RapidOcrDetector.det_min_side, "min")(rgb)
    got = ours(rgb)
    assert got.shape == theirs.shape == (1, 3, 512, 864)
    assert got.flags["C_CONTIGUOUS"] and got.dtype == np.float32
    np.testing.assert_allclose(got, theirs, atol=1e-6)


@needs_openvino
@pytest.mark.slow
def test_openvino_sessions_replace_onnxruntime_and_agree(
    rapidocr: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACSGUARD_OCR_THREADS", "1")
    monkeypatch.setenv("PACSGUARD_OCR_PRECISION", "f32")  # bit-comparable with onnxruntime
    monkeypatch.setenv("PACSGUARD_OCR_RUNTIME", "openvino")
    ov_det = RapidOcrDetector()
    engine = ov_det._get()
    assert isinstance(engine.text_det.infer, OpenVinoSession)
    assert isinstance(engine.text_rec.recognizer.session, OpenVinoSession)
    monkeypatch.setenv("PACSGUARD_OCR_RUNTIME", "onnxruntime")
    ort_det = RapidOcrDetector()

    rgb = _frame()
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    blob = engine.text_det.get_preprocess(max(bgr.shape[:2]))(bgr)
    ort_engine = ort_det._get()
    np.testing.assert_allclose(engine.text_det.infer(blob)[0], ort_engine.text_det.infer(blob)[0], atol=1e-3)
    # Recognition input of an odd width: padded to the next multiple of REC_WIDTH_STEP.
    line = np.random.default_rng(1).standard_normal((1, 3, 48, 150)).astype(np.float32)
    assert engine.text_rec.recognizer.session(line)[0].shape[1] == ort_engine.text_rec.recognizer.session(
        np.pad(line, ((0, 0), (0, 0), (0, 0), (0, -150 % REC_WIDTH_STEP)))
    )[0].shape[1]
    # End to end: the same lines, the same words.
    ov_lines = sorted((b.bbox, b.text) for b in ov_det.detect(rgb))
    ort_lines = sorted((b.bbox, b.text) for b in ort_det.detect(rgb))
    assert ov_lines and ov_lines == ort_lines


@needs_openvino
def test_openvino_settings_reach_the_compiled_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from rapidocr_onnxruntime import __file__ as init  # type: ignore[import-untyped]

    monkeypatch.setenv("PACSGUARD_OCR_PRECISION", "f32")
    path = os.path.join(os.path.dirname(init), "models", "ch_PP-OCRv4_det_infer.onnx")
    session = OpenVinoSession(path, threads=1, static_shapes=True)
    out = session(np.zeros((1, 3, 64, 96), dtype=np.float32))[0]
    assert out.shape == (1, 1, 64, 96)
    compiled = next(iter(session._requests.values())).get_compiled_model()
    assert int(compiled.get_property("INFERENCE_NUM_THREADS")) == 1
    assert compiled.get_property("ENABLE_CPU_PINNING") is False  # two workers, two cores
    assert str(compiled.get_property("INFERENCE_PRECISION_HINT")) in ("<Type: 'float32'>", "f32")
    monkeypatch.setenv("PACSGUARD_OCR_PRECISION", "int4")
    with pytest.raises(PolicyError, match="PACSGUARD_OCR_PRECISION"):
        OpenVinoSession(path, threads=1, static_shapes=True)


@needs_openvino
def test_detection_compiles_few_shapes_and_runs_the_rest_dynamic(monkeypatch: pytest.MonkeyPatch) -> None:
    from rapidocr_onnxruntime import __file__ as init

    from pacsguard.pixels import runtime

    monkeypatch.setattr(runtime, "DET_SHAPES_KEPT", 2)
    monkeypatch.setattr(runtime, "STATIC_COMPILES", 3)
    path = os.path.join(os.path.dirname(init), "models", "ch_PP-OCRv4_det_infer.onnx")
    session = OpenVinoSession(path, threads=1, static_shapes=True)
    shapes = [(1, 3, 32, 32 * k) for k in range(1, 6)]
    for shape in shapes:  # the first two compile at once, the next ones run dynamic
        assert session(np.zeros(shape, dtype=np.float32))[0].shape == (1, 1, *shape[2:])
    assert list(session._requests) == shapes[:2] and session._compiles == 2
    assert session._dynamic is not None
    session(np.zeros(shapes[2], dtype=np.float32))  # met again: compiled, the oldest evicted
    assert list(session._requests) == [shapes[1], shapes[2]] and session._compiles == 3
    session(np.zeros(shapes[3], dtype=np.float32))  # budget spent: dynamic from now on
    assert shapes[3] not in session._requests and session._compiles == 3


@pytest.mark.slow
def test_recognition_remembers_identical_line_crops(rapidocr: str) -> None:
    detector = RapidOcrDetector()
    rec = detector._get().text_rec
    assert isinstance(rec, CachedRecognizer)
    first = burned_text.us_series_frame(0)
    lines = detector.detect(first)
    assert len(lines) >= 5 and rec.hits == 0 and rec.misses == len(lines)
    assert sorted((b.bbox, b.text) for b in detector.detect(first)) == sorted((b.bbox, b.text) for b in lines)
    assert rec.hits == len(lines) and rec.misses == len(lines)  # the same image: nothing read again
    # Later frames of the cine: the same lines over other speckle, read from memory; a
    # crop whose box moved by a pixel is read afresh, and reads the same as without memory.
    fresh = RapidOcrDetector()
    fresh._get().text_rec.size = 0  # no memory
    for i in (1, 2, 3):
        frame = burned_text.us_series_frame(i)
        assert sorted((b.bbox, b.text) for b in detector.detect(frame)) == sorted(
            (b.bbox, b.text) for b in fresh.detect(frame)
        )
    assert rec.hits >= 4 * len(lines) - 2


@needs_openvino
def test_openvino_errors_fail_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    from rapidocr_onnxruntime import __file__ as init

    path = os.path.join(os.path.dirname(init), "models", "ch_PP-OCRv4_det_infer.onnx")
    session = OpenVinoSession(path, threads=1, static_shapes=True)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Exception from src/plugins/intel_cpu: unsupported")

    monkeypatch.setattr(session._core, "compile_model", broken)
    with pytest.raises(FailClosed) as err:
        session(np.zeros((1, 3, 32, 32), dtype=np.float32))
    assert err.value.code == "pixel-detector"


@pytest.mark.parametrize(
    ("var", "value", "command"),
    [("PACSGUARD_OCR_RUNTIME", "bogus", "deid"), ("PACSGUARD_OCR_PRECISION", "int8", "verify")],
)
def test_bad_ocr_settings_stop_the_cli_before_any_work(
    var: str, value: str, command: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pacsguard.cli import main

    monkeypatch.setenv(var, value)
    src = tmp_path / "in"
    src.mkdir()
    key = tmp_path / "k"
    assert main(["keygen", str(key)]) == 0
    args = [command, str(src), str(tmp_path / "out")]
    if command == "deid":
        args += ["--key-file", str(key)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"{var}={value!r}" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.pacsguard").exists()
