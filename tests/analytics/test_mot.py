"""The tracking metrics, validated against published scores of the TUD fixtures (py-motmetrics / MOTChallenge)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sharpeyes.analytics.mot import MotRow, evaluate, read_mot, write_mot
from tests.conftest import DATA

TUD = DATA / "motmetrics-tud"


@pytest.mark.parametrize(
    ("sequence", "mota", "false_positives", "misses", "switches", "idf1"),
    [
        ("TUD-Campus", 0.526462, 13, 150, 7, 0.558),
        ("TUD-Stadtmitte", 0.564014, 45, 452, 7, None),
    ],
)
def test_scores_match_the_published_ones(
    sequence: str, mota: float, false_positives: int, misses: int, switches: int, idf1: float | None
) -> None:
    folder = TUD / sequence
    if not folder.exists():
        pytest.skip(f"{folder} not found: set SHARPEYES_TEST_DATA to the shared data folder")
    scores = evaluate(read_mot(folder / "gt.txt", min_confidence=1), read_mot(folder / "test.txt"))
    assert scores.mota == pytest.approx(mota, abs=1e-6)
    assert (scores.false_positives, scores.misses, scores.id_switches) == (false_positives, misses, switches)
    if idf1 is not None:
        assert scores.idf1 == pytest.approx(idf1, abs=1e-3)


def _walk(track_id: int, frames: range, x0: float) -> list[MotRow]:
    return [MotRow(f, track_id, x0 + 5 * f, 100, 40, 80) for f in frames]


def test_a_perfect_tracker_scores_one_and_a_swap_is_one_switch(tmp_path: Path) -> None:
    truth = _walk(1, range(1, 21), 0) + _walk(2, range(1, 21), 300)
    assert evaluate(truth, truth).mota == 1.0
    assert evaluate(truth, truth).idf1 == 1.0
    swapped = _walk(7, range(1, 11), 0) + _walk(8, range(11, 21), 0) + _walk(9, range(1, 21), 300)
    scores = evaluate(truth, swapped)
    assert scores.id_switches == 1
    assert (scores.false_positives, scores.misses) == (0, 0)
    assert scores.mota == pytest.approx(1 - 1 / 40)
    assert scores.idf1 == pytest.approx((2 * 30) / 80)
    path = tmp_path / "out.txt"
    assert write_mot(path, swapped) == 40
    assert read_mot(path) == sorted(swapped, key=lambda r: (r.frame, r.track_id))
