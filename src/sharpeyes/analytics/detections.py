"""Detections: boxes with scores and classes, and the operations every detector shares (NMS, shifting)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COCO_CLASSES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear",
    "hair drier", "toothbrush",
)  # fmt: skip
PERSON = 0
CLASS_NAMES_ZH = {
    "person": "人员", "bicycle": "自行车", "car": "汽车", "motorcycle": "摩托车/电动车", "bus": "公交车",
    "truck": "货车", "backpack": "背包", "umbrella": "雨伞", "handbag": "手提包", "suitcase": "行李箱",
    "dog": "狗", "cell phone": "手机",
}  # fmt: skip
"""Chinese names of the classes people ask about (the others are shown in English)."""


@dataclass(frozen=True, slots=True)
class Detections:
    """``xyxy`` float32 (N, 4) in pixels of the image given, ``confidence`` (N,), ``class_id`` int (N,)."""

    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    features: np.ndarray | None = None
    """Optional appearance vectors (N, D), unit length, for the tracker."""

    @staticmethod
    def empty() -> Detections:
        return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))

    def with_features(self, features: np.ndarray) -> Detections:
        return Detections(self.xyxy, self.confidence, self.class_id, features)

    def __len__(self) -> int:
        return len(self.confidence)

    def shifted(self, dx: float, dy: float, scale: float = 1.0) -> Detections:
        """Boxes scaled by ``scale`` then moved by (dx, dy): from a region's pixels to the frame's."""
        boxes = self.xyxy * scale + np.array([dx, dy, dx, dy], np.float32)
        return Detections(boxes.astype(np.float32), self.confidence, self.class_id, self.features)

    def select(self, keep: np.ndarray) -> Detections:
        features = self.features[keep] if self.features is not None else None
        return Detections(self.xyxy[keep], self.confidence[keep], self.class_id[keep], features)

    @staticmethod
    def concatenate(parts: list[Detections]) -> Detections:
        if not parts:
            return Detections.empty()
        with_features = [p.features for p in parts if p.features is not None]
        return Detections(
            np.concatenate([p.xyxy for p in parts]).astype(np.float32),
            np.concatenate([p.confidence for p in parts]).astype(np.float32),
            np.concatenate([p.class_id for p in parts]).astype(np.int64),
            np.concatenate(with_features) if len(with_features) == len(parts) else None,
        )


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in ``a`` (N, 4) with every box in ``b`` (M, 4), xyxy."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def nms(detections: Detections, iou_threshold: float) -> Detections:
    """Class-aware non-maximum suppression: the best box of each overlapping group of one class survives."""
    if len(detections) == 0:
        return detections
    order = np.argsort(-detections.confidence, kind="stable")
    boxes, classes = detections.xyxy[order], detections.class_id[order]
    overlaps = iou_matrix(boxes, boxes)
    suppressed = np.zeros(len(order), bool)
    keep = []
    for i in range(len(order)):
        if suppressed[i]:
            continue
        keep.append(order[i])
        suppressed |= (overlaps[i] > iou_threshold) & (classes == classes[i])
    return detections.select(np.array(keep, dtype=np.int64))
