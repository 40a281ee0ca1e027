"""The bundled detector: the project's TF.js → ONNX conversion against a reference one, and detection on real
footage (PETS09-S2L1 with its MOT ground truth)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from sharpeyes.analytics.detections import PERSON, Detections, iou_matrix, nms
from sharpeyes.analytics.detector import DetectorConfig, open_detector
from sharpeyes.core.errors import InvalidInputError

SHARED = Path(__file__).resolve().parents[3] / "shared"
DATA = Path(os.environ.get("SHARPEYES_TEST_DATA") or SHARED / "data")
REFERENCE = Path(os.environ.get("SHARPEYES_TEST_REFERENCE") or SHARED / "reference") / "nanodet-m-tf2onnx.onnx"
PETS = DATA / "pets09-s2l1"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not found: set SHARPEYES_TEST_DATA / SHARPEYES_TEST_REFERENCE to the shared folders")
    return path


def test_the_conversion_matches_a_reference_conversion(nanodet_model: Path) -> None:
    reference = _require(REFERENCE)
    x = np.random.default_rng(7).normal(0, 1, (1, 3, 416, 416)).astype(np.float32)
    ours = ort.InferenceSession(str(nanodet_model), providers=["CPUExecutionProvider"])
    theirs = ort.InferenceSession(str(reference), providers=["CPUExecutionProvider"])
    mine = dict(zip([o.name for o in ours.get_outputs()], ours.run(None, {ours.get_inputs()[0].name: x}), strict=True))
    ref = dict(
        zip([o.name for o in theirs.get_outputs()], theirs.run(None, {theirs.get_inputs()[0].name: x}), strict=True)
    )
    assert mine.keys() == ref.keys()
    worst = max(float(np.abs(mine[name] - ref[name]).max()) for name in ref)
    print(f"max abs difference from the reference conversion: {worst:.3g}")
    assert worst < 1e-4


def _ground_truth(frame: int) -> np.ndarray:
    boxes = []
    for line in (PETS / "gt" / "gt.txt").read_text().splitlines():
        f, _id, x, y, w, h, conf, *_ = line.split(",")
        if int(f) == frame and float(conf) != 0:
            boxes.append([float(x), float(y), float(x) + float(w), float(y) + float(h)])
    return np.array(boxes, np.float32).reshape(-1, 4)


def _every_40th_frame() -> Iterator[tuple[int, np.ndarray]]:
    """(0-based index, BGR picture) of every 40th frame of PETS09-S2L1 (MOT frame N is decoded frame N-1)."""
    with av.open(str(_require(PETS / "pets09-s2l1.mp4"))) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index % 40 == 0:
                yield index, frame.to_ndarray(format="bgr24")


def _recall(found: Detections, truth: np.ndarray) -> tuple[int, int]:
    overlaps = iou_matrix(truth, found.xyxy)
    hits = 0
    used: set[int] = set()
    for row in overlaps:
        order = [j for j in np.argsort(-row) if j not in used and row[j] >= 0.5]
        if order:
            used.add(int(order[0]))
            hits += 1
    return hits, len(truth)


def test_people_are_found_in_real_footage_at_full_resolution(nanodet_model: Path) -> None:
    detector = open_detector(DetectorConfig(nanodet_model))
    hits = total = 0
    for index, image in _every_40th_frame():
        height, width = image.shape[:2]
        tiles = [(x, y) for x in (0, (width - 416) // 2, width - 416) for y in (0, height - 416)]
        parts = [detector.detect([image[y : y + 416, x : x + 416]])[0].shifted(x, y) for x, y in tiles]
        people = nms(Detections.concatenate(parts), 0.5)
        people = people.select(people.class_id == PERSON)
        found, count = _recall(people, _ground_truth(index + 1))  # MOT frame N is decoded frame N-1
        hits, total = hits + found, total + count
    assert total > 50
    assert hits / total >= 0.75, f"person recall {hits}/{total}"


def test_the_installed_model_takes_any_size_and_small_crops_find_people_too(nanodet_model: Path) -> None:
    reference = _require(REFERENCE)
    ours = ort.InferenceSession(str(nanodet_model), providers=["CPUExecutionProvider"])
    assert ours.get_inputs()[0].shape[2:] == ["height", "width"]
    assert ort.InferenceSession(str(reference), providers=["CPUExecutionProvider"]).get_inputs()[0].shape[2:] == [
        416,
        416,
    ]
    detector = open_detector(DetectorConfig(nanodet_model))
    hits = total = 0
    for index, image in _every_40th_frame():
        height, width = image.shape[:2]
        truth = _ground_truth(index + 1)
        crops = []  # one crop per annotated person: a quarter of its height around it, at least 128 px
        for x1, y1, x2, y2 in truth.astype(int):
            pad = max(8, (y2 - y1) // 4)
            cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
            half_w, half_h = max(64, (x2 - x1) // 2 + pad), max(64, (y2 - y1) // 2 + pad)
            crops.append((max(0, cx - half_w), max(0, cy - half_h), min(width, cx + half_w), min(height, cy + half_h)))
        found = detector.detect([image[y1:y2, x1:x2] for x1, y1, x2, y2 in crops])
        for (x1, y1, _x2, _y2), people, box in zip(crops, found, truth, strict=True):
            people = people.select(people.class_id == PERSON).shifted(x1, y1)
            hit, _ = _recall(people, box[None])
            hits, total = hits + hit, total + 1
    assert total > 50
    assert hits / total >= 0.8, f"person recall in small crops {hits}/{total}"


def test_boxes_sit_where_the_people_are(nanodet_model: Path) -> None:
    """No systematic shift against the ground truth (decoding from the wrong point of a cell shifts every box)."""
    detector = open_detector(DetectorConfig(nanodet_model))
    shifts = []
    for index, image in _every_40th_frame():
        (found,) = detector.detect([image])  # the whole frame, full resolution
        people = found.select(found.class_id == PERSON)
        truth = _ground_truth(index + 1)
        if len(truth) == 0 or len(people) == 0:
            continue
        overlaps = iou_matrix(truth, people.xyxy)
        for row, best in enumerate(overlaps.argmax(axis=1)):
            if overlaps[row, best] >= 0.3:
                box, ours = truth[row], people.xyxy[best]
                height = box[3] - box[1]
                shifts.append(
                    (
                        (ours[0] + ours[2] - box[0] - box[2]) / 2 / height,
                        (ours[1] + ours[3] - box[1] - box[3]) / 2 / height,
                    )
                )
    assert len(shifts) > 50
    mean_x, mean_y = np.mean(shifts, axis=0)
    assert abs(mean_x) < 0.02, f"boxes shifted sideways by {mean_x:.3f} of a person's height"
    assert abs(mean_y) < 0.02, f"boxes shifted up or down by {mean_y:.3f} of a person's height"


def test_a_broken_model_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x08\x07not a model")
    with pytest.raises(InvalidInputError) as raised:
        open_detector(DetectorConfig(broken))
    assert raised.value.code == "bad_model"
    assert "broken.onnx" in raised.value.message


def _constant_model(path: Path, output: np.ndarray, size: int = 64) -> Path:
    """An ONNX "detector" that answers ``output`` whatever it sees: the YOLO layouts without a YOLO model."""
    image = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])
    result = helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(output.shape))
    value = numpy_helper.from_array(output.astype(np.float32), "value")
    node = helper.make_node("Constant", [], ["output0"], value=value)
    graph = helper.make_graph([node], "yolo-like", [image], [result])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


@pytest.mark.parametrize("layout", ["v8", "v5"])
def test_yolo_layouts_decode_to_boxes_in_the_image(tmp_path: Path, layout: str) -> None:
    classes, predictions = 80, 100  # models predict more boxes than they have attributes: that tells the layouts apart
    rows = np.zeros((predictions, 4 + classes), np.float32)
    rows[0, :4] = [32, 32, 16, 32]  # a centre box in the 64×64 model input
    rows[0, 4 + 2] = 0.9  # class 2 (car)
    rows[1, :4] = [33, 33, 16, 32]  # the same object again, lower score: suppressed
    rows[1, 4 + 2] = 0.6
    rows[2, :4] = [10, 10, 4, 4]
    rows[2, 4 + 0] = 0.1  # under the threshold
    if layout == "v8":
        output = rows.T[None]
    else:
        output = np.concatenate([rows[:, :4], np.ones((predictions, 1), np.float32), rows[:, 4:]], axis=1)[None]
    model = _constant_model(tmp_path / f"{layout}.onnx", output)
    detector = open_detector(DetectorConfig(model, kind="yolo"))
    image = np.zeros((128, 256, 3), np.uint8)  # letterboxed: scale 64 / 256 = 0.25
    (found,) = detector.detect([image])
    assert found.class_id.tolist() == [2]
    assert found.confidence.tolist() == pytest.approx([0.9])
    assert found.xyxy[0].tolist() == pytest.approx([96, 64, 160, 192])
