"""Object detectors behind one interface: images (regions of frames, BGR) in, ``Detections`` out.

- ``NanoDet``: the bundled NanoDet-m (COCO, trained at 416×416, provisioned by ``sharpeyes models install``); GFL
  head with outputs per stride 8/16/32 of class scores (already sigmoid) and 4 × 11 distance bins. The installed
  model takes any size that is a multiple of 32: an image is kept at its own resolution (scaled down only when
  its long side is over ``max_side``) and padded to the next multiple, so a small crop costs little (a 224×224
  look takes about 12 ms of one core here, a 416×416 one 40 ms).
- ``YoloDetector``: a user-supplied ONNX detector in the common YOLO layouts — v5 ``[1, N, 5 + C]`` (centre box,
  objectness, class scores) or v8/v11 ``[1, 4 + C, N]`` (centre box, class scores) — on a letterboxed RGB input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import onnxruntime as ort
from PIL import Image

from sharpeyes.analytics.detections import Detections, nms
from sharpeyes.core.errors import InvalidInputError

NANODET_MEAN = np.array([103.53, 116.28, 123.675], np.float32)
NANODET_STD = np.array([57.375, 57.12, 58.395], np.float32)
NANODET_STRIDES = (8, 16, 32)
NANODET_BINS = 11
NANODET_SIZE = 416
"""The size NanoDet-m was trained at (and the side of a fixed-size model)."""


class Detector(Protocol):
    @property
    def input_size(self) -> int:
        """The square side the model works at: regions of about this size lose nothing to resizing."""
        ...

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """One ``Detections`` per image (H × W × 3 uint8 BGR), in that image's pixels."""
        ...


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    model: Path
    kind: Literal["nanodet", "yolo"] = "nanodet"
    score_threshold: float = 0.3
    nms_iou: float = 0.5
    threads: int = 2
    max_side: int = 2 * NANODET_SIZE
    """A model that takes any size sees an image whole up to this long side (larger ones are scaled down)."""


def open_detector(config: DetectorConfig) -> Detector:
    session = onnx_session(config.model, config.threads)
    if config.kind == "yolo":
        return YoloDetector(session, config)
    return NanoDet(session, config)


def onnx_session(model: Path, threads: int) -> ort.InferenceSession:
    """A CPU session for ``model`` with ``threads`` threads that sleep when idle; ``InvalidInputError`` for a bad
    file."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Threads sleep when idle instead of spinning: many cameras share the cores, and spinning burns what they need.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own exception types for a bad file
        raise InvalidInputError(f"model {model.name} cannot be loaded: {err}", code="bad_model") from err


class NanoDet:
    def __init__(self, session: ort.InferenceSession, config: DetectorConfig) -> None:
        self._session = session
        self._config = config
        inputs = session.get_inputs()
        shape = inputs[0].shape
        if len(inputs) != 1 or len(shape) != 4 or shape[1] != 3 or (shape[2] != shape[3] and _fixed(shape)):
            raise InvalidInputError(f"{config.model.name}: expected one 1×3×S×S input, got {shape}", code="bad_model")
        self._input = inputs[0].name
        self._free = not _fixed(shape)
        """Whether the model takes any multiple of 32 (else only its own square)."""
        self._size = NANODET_SIZE if self._free else int(shape[2])
        count = len(session.get_outputs())
        if count != 2 * len(NANODET_STRIDES):
            raise InvalidInputError(f"{config.model.name}: expected 6 outputs, got {count}", code="bad_model")
        self._outputs = self._pair_outputs(session, config.model.name)

    @property
    def input_size(self) -> int:
        return self._size

    def _pair_outputs(self, session: ort.InferenceSession, name: str) -> list[tuple[str, str, int]]:
        """(scores output, distances output, stride) for each stride, found by their shapes on a blank input."""
        blank = np.zeros((1, 3, self._size, self._size), np.float32)
        results = session.run(None, {self._input: blank})
        by_cells: dict[int, dict[int, str]] = {}
        for output, value in zip(session.get_outputs(), results, strict=True):
            if value.ndim != 3:
                raise InvalidInputError(f"{name}: output {output.name} has shape {value.shape}", code="bad_model")
            by_cells.setdefault(value.shape[1], {})[value.shape[2]] = output.name
        pairs = []
        for stride in NANODET_STRIDES:
            cells = (self._size // stride) ** 2
            found = by_cells.get(cells, {})
            distances = found.get(4 * NANODET_BINS)
            scores = next((n for width, n in found.items() if width != 4 * NANODET_BINS), None)
            if distances is None or scores is None:
                raise InvalidInputError(f"{name}: no outputs for stride {stride}", code="bad_model")
            pairs.append((scores, distances, stride))
        return pairs

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        return [self._detect_one(image) for image in images]

    def _fitted(self, image: np.ndarray) -> tuple[np.ndarray, int, int]:
        """The picture the model is given: the image itself, scaled (its shape kept) to fit a fixed-size model's
        square or a free model's ``max_side``, padded with the mean colour at the bottom and right (to the square,
        or to a multiple of 32); with the width and height of the picture inside the padding."""
        height, width = image.shape[:2]
        limit = self._config.max_side if self._free else self._size
        scale = limit / max(height, width) if not self._free else min(1.0, limit / max(height, width))
        out_h, out_w = max(1, round(height * scale)), max(1, round(width * scale))
        if (out_h, out_w) != (height, width):
            image = np.asarray(Image.fromarray(image).resize((out_w, out_h), Image.Resampling.BILINEAR))
        step = NANODET_STRIDES[-1]
        padded_h, padded_w = -(-out_h // step) * step, -(-out_w // step) * step
        if not self._free:
            padded_h = padded_w = self._size
        if (padded_h, padded_w) == (out_h, out_w):
            return image, out_w, out_h
        canvas = np.empty((padded_h, padded_w, 3), np.uint8)
        canvas[...] = np.round(NANODET_MEAN).astype(np.uint8)
        canvas[:out_h, :out_w] = image
        return canvas, out_w, out_h

    def _detect_one(self, image: np.ndarray) -> Detections:
        height, width = image.shape[:2]
        fitted, inner_w, inner_h = self._fitted(image)
        tensor = ((fitted.astype(np.float32) - NANODET_MEAN) / NANODET_STD).transpose(2, 0, 1)[None]
        results = dict(
            zip(
                [o.name for o in self._session.get_outputs()],
                self._session.run(None, {self._input: np.ascontiguousarray(tensor)}),
                strict=True,
            )
        )
        columns = fitted.shape[1]
        parts = [self._decode(results[s][0], results[d][0], stride, columns) for s, d, stride in self._outputs]
        found = nms(Detections.concatenate(parts), self._config.nms_iou)
        if len(found):
            found = Detections(
                np.clip(found.xyxy, 0, np.array([inner_w, inner_h, inner_w, inner_h], np.float32)),
                found.confidence,
                found.class_id,
            )
        scale_x, scale_y = width / inner_w, height / inner_h
        if len(found) and (scale_x != 1.0 or scale_y != 1.0):
            boxes = found.xyxy * np.array([scale_x, scale_y, scale_x, scale_y], np.float32)
            found = Detections(boxes, found.confidence, found.class_id)
        return found

    def _decode(self, scores: np.ndarray, distances: np.ndarray, stride: int, width: int) -> Detections:
        cell, cls = np.nonzero(scores > self._config.score_threshold)
        if len(cell) == 0:
            return Detections.empty()
        bins = distances[cell].reshape(-1, 4, NANODET_BINS)
        bins = np.exp(bins - bins.max(axis=2, keepdims=True))
        bins /= bins.sum(axis=2, keepdims=True)
        sides = (bins * np.arange(NANODET_BINS, dtype=np.float32)).sum(axis=2) * stride  # left, top, right, bottom
        columns = width // stride
        # Distances are measured from the cell's centre (a GFL head's points sit half a stride in): measured from its
        # corner instead, every box lands half a cell up and left — 5% of a person's height on PETS09, enough to
        # drop a third of the matches at IoU 0.5.
        cx = ((cell % columns).astype(np.float32) + 0.5) * stride
        cy = ((cell // columns).astype(np.float32) + 0.5) * stride
        boxes = np.stack([cx - sides[:, 0], cy - sides[:, 1], cx + sides[:, 2], cy + sides[:, 3]], axis=1)
        return Detections(boxes.astype(np.float32), scores[cell, cls].astype(np.float32), cls.astype(np.int64))


def _fixed(shape: Sequence[object]) -> bool:
    return all(isinstance(side, int) for side in shape[2:])


class YoloDetector:
    def __init__(self, session: ort.InferenceSession, config: DetectorConfig) -> None:
        self._session = session
        self._config = config
        inputs = session.get_inputs()
        shape = inputs[0].shape
        if len(inputs) != 1 or len(shape) != 4 or shape[1] != 3:
            raise InvalidInputError(f"{config.model.name}: expected one 1×3×H×W input, got {shape}", code="bad_model")
        self._input = inputs[0].name
        self._size = int(shape[2]) if isinstance(shape[2], int) else 640

    @property
    def input_size(self) -> int:
        return self._size

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        return [self._detect_one(image) for image in images]

    def _detect_one(self, image: np.ndarray) -> Detections:
        height, width = image.shape[:2]
        scale = self._size / max(height, width)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        rgb = np.asarray(Image.fromarray(image[:, :, ::-1]).resize((new_w, new_h), Image.Resampling.BILINEAR))
        canvas = np.full((self._size, self._size, 3), 114, np.uint8)
        canvas[:new_h, :new_w] = rgb
        tensor = (canvas.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
        (output,) = self._session.run(None, {self._input: np.ascontiguousarray(tensor)})[:1]
        found = nms(self._decode(np.asarray(output)), self._config.nms_iou)
        return found.shifted(0.0, 0.0, 1.0 / scale) if len(found) else found

    def _decode(self, output: np.ndarray) -> Detections:
        if output.ndim != 3 or output.shape[0] != 1:
            raise InvalidInputError(f"unexpected YOLO output shape {output.shape}", code="bad_model")
        rows = output[0]
        if rows.shape[0] < rows.shape[1]:  # v8/v11: [4 + C, N] (a model predicts more boxes than it has classes)
            rows = rows.T
            centres, scores = rows[:, :4], rows[:, 4:]
        else:  # v5: [N, 5 + C]
            centres, scores = rows[:, :4], rows[:, 5:] * rows[:, 4:5]
        candidate, cls = np.nonzero(scores > self._config.score_threshold)
        if len(candidate) == 0:
            return Detections.empty()
        cx, cy, w, h = centres[candidate].T
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        return Detections(boxes.astype(np.float32), scores[candidate, cls].astype(np.float32), cls.astype(np.int64))
