"""MOTChallenge tracks: reading and writing ``frame,id,x,y,w,h,conf,-1,-1,-1`` files, and scoring a tracker's
output against ground truth — CLEAR MOT (MOTA, ID switches, false positives, misses) and IDF1 — with a match
meaning IoU ≥ 0.5, as the MOTChallenge tools score it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from sharpeyes.analytics.detections import iou_matrix
from sharpeyes.core.errors import InvalidInputError

IOU_MATCH = 0.5


@dataclass(frozen=True, slots=True)
class MotRow:
    frame: int
    """1-based."""
    track_id: int
    x: float
    y: float
    w: float
    h: float
    confidence: float = -1.0

    def line(self) -> str:
        return (
            f"{self.frame},{self.track_id},{self.x:.2f},{self.y:.2f},{self.w:.2f},{self.h:.2f},"
            f"{self.confidence:.3f},-1,-1,-1"
        )


def write_mot(path: Path, rows: Iterable[MotRow]) -> int:
    lines = [row.line() for row in sorted(rows, key=lambda r: (r.frame, r.track_id))]
    path.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    return len(lines)


def read_mot(path: Path, *, min_confidence: float | None = None) -> list[MotRow]:
    """Rows of a MOT file; with ``min_confidence``, rows below it (ground truth's "ignore" rows) are left out."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            f = [float(v) for v in line.split(",")[:7]]
            row = MotRow(int(f[0]), int(f[1]), f[2], f[3], f[4], f[5], f[6] if len(f) > 6 else -1.0)
        except (ValueError, TypeError) as err:
            raise InvalidInputError(
                f"{path.name} line {number}: not a MOT row ({line[:60]!r})", code="bad_mot"
            ) from err
        if min_confidence is None or row.confidence >= min_confidence:
            rows.append(row)
    return rows


@dataclass(frozen=True, slots=True)
class MotScores:
    num_gt: int
    num_hyp: int
    matches: int
    false_positives: int
    misses: int
    id_switches: int
    idtp: int

    @property
    def mota(self) -> float:
        return 1.0 - (self.misses + self.false_positives + self.id_switches) / max(1, self.num_gt)

    @property
    def recall(self) -> float:
        return self.matches / max(1, self.num_gt)

    @property
    def precision(self) -> float:
        return self.matches / max(1, self.num_hyp)

    @property
    def idf1(self) -> float:
        return 2 * self.idtp / max(1, self.num_gt + self.num_hyp)


def _by_frame(rows: Iterable[MotRow]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    grouped: dict[int, list[MotRow]] = defaultdict(list)
    for row in rows:
        grouped[row.frame].append(row)
    return {
        frame: (
            np.array([r.track_id for r in items], np.int64),
            np.array([[r.x, r.y, r.x + r.w, r.y + r.h] for r in items], np.float64),
        )
        for frame, items in grouped.items()
    }


def evaluate(truth: Iterable[MotRow], hypotheses: Iterable[MotRow]) -> MotScores:
    gt, hyp = _by_frame(truth), _by_frame(hypotheses)
    last_match: dict[int, int] = {}  # ground-truth id → the hypothesis id it was last matched with
    last_matched: dict[int, int] = {}  # ground-truth id → the frame of that match
    last_seen: dict[int, int] = {}  # ground-truth id → the frame it last appeared in
    matches = false_positives = misses = switches = num_gt = num_hyp = 0
    pair_frames: dict[tuple[int, int], int] = defaultdict(int)
    for frame in sorted(gt.keys() | hyp.keys()):
        gt_ids, gt_boxes = gt.get(frame, (np.zeros(0, np.int64), np.zeros((0, 4), np.float32)))
        hyp_ids, hyp_boxes = hyp.get(frame, (np.zeros(0, np.int64), np.zeros((0, 4), np.float32)))
        num_gt, num_hyp = num_gt + len(gt_ids), num_hyp + len(hyp_ids)
        overlaps = iou_matrix(gt_boxes, hyp_boxes)
        allowed = overlaps >= IOU_MATCH
        pairs: list[tuple[int, int]] = []
        # CLEAR MOT: a correspondence from the object's previous appearance is kept while still valid (not when
        # the object was missed then: it is matched afresh)
        for i, gt_id in enumerate(gt_ids):
            previous = last_match.get(int(gt_id))
            if previous is None or last_matched.get(int(gt_id)) != last_seen.get(int(gt_id)):
                continue
            same = np.nonzero(hyp_ids == previous)[0]
            if len(same) and allowed[i, same[0]]:
                pairs.append((i, int(same[0])))
        taken_gt = {i for i, _ in pairs}
        taken_hyp = {j for _, j in pairs}
        free_gt = [i for i in range(len(gt_ids)) if i not in taken_gt]
        free_hyp = [j for j in range(len(hyp_ids)) if j not in taken_hyp]
        if free_gt and free_hyp:
            cost = np.where(allowed[np.ix_(free_gt, free_hyp)], 1.0 - overlaps[np.ix_(free_gt, free_hyp)], 1e6)
            for r, c in zip(*linear_sum_assignment(cost), strict=True):
                if cost[r, c] < 1e6:
                    i, j = free_gt[r], free_hyp[c]
                    previous = last_match.get(int(gt_ids[i]))
                    if previous is not None and previous != int(hyp_ids[j]):
                        switches += 1
                    pairs.append((i, j))
        for i, j in pairs:
            last_match[int(gt_ids[i])] = int(hyp_ids[j])
            last_matched[int(gt_ids[i])] = frame
        for gt_id in gt_ids:
            last_seen[int(gt_id)] = frame
        matches += len(pairs)
        misses += len(gt_ids) - len(pairs)
        false_positives += len(hyp_ids) - len(pairs)
        for i, j in np.argwhere(allowed):
            pair_frames[(int(gt_ids[i]), int(hyp_ids[j]))] += 1
    return MotScores(num_gt, num_hyp, matches, false_positives, misses, switches, _idtp(pair_frames))


def _idtp(pair_frames: dict[tuple[int, int], int]) -> int:
    """Frames of agreement under the best one-to-one assignment of ground-truth ids to hypothesis ids (IDF1)."""
    if not pair_frames:
        return 0
    gt_ids = sorted({g for g, _ in pair_frames})
    hyp_ids = sorted({h for _, h in pair_frames})
    gain = np.zeros((len(gt_ids), len(hyp_ids)))
    gt_index = {g: i for i, g in enumerate(gt_ids)}
    hyp_index = {h: j for j, h in enumerate(hyp_ids)}
    for (g, h), frames in pair_frames.items():
        gain[gt_index[g], hyp_index[h]] = frames
    rows, columns = linear_sum_assignment(-gain)
    return int(gain[rows, columns].sum())
