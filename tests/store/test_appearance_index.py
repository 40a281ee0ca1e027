"""The appearance index: sqlite-vec searches exactly with the filter inside the scan; past its threshold an IVF index
answers the same neighbours, and after a restart it holds every vector sqlite-vec holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from sharpeyes.core.tracks import AppearanceFilter, TrackRecord
from sharpeyes.store import appearance, ivf, vectors
from sharpeyes.store.appearance import LocalAppearanceIndex
from sharpeyes.store.vectors import SqliteVecStore, VectorBatch, likeness, quantize
from tests.support.waiting import wait_for

SIZE = 64
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
CAMERAS = ("east-gate", "west-gate", "square")


def _tracks(count: int, first_id: int = 1, seed: int = 0) -> list[TrackRecord]:
    """Vectors in clusters (a few looks, each seen many times), spread over ten days and three cameras."""
    rng = np.random.default_rng(seed)
    looks = rng.standard_normal((40, SIZE))
    vectors = looks[rng.integers(0, len(looks), count)] + 0.4 * rng.standard_normal((count, SIZE))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    out = []
    for i in range(count):
        start = NOW - timedelta(hours=float(rng.uniform(0, 240)))
        out.append(
            TrackRecord(
                camera_id=CAMERAS[i % 3],
                class_name="person" if i % 4 else "car",
                start=start,
                end=start + timedelta(seconds=20),
                embedding=vectors[i].astype(np.float32),
                id=first_id + i,
            )
        )
    return out


def _exact(tracks: list[TrackRecord], vector: np.ndarray, wanted: AppearanceFilter, k: int) -> list[float]:
    """The ``k`` best likenesses a brute-force search finds."""
    kept = [
        t
        for t in tracks
        if t.start <= wanted.end
        and t.end >= wanted.start
        and (not wanted.classes or t.class_name in wanted.classes)
        and (wanted.camera_ids is None or t.camera_id in wanted.camera_ids)
    ]
    if not kept:
        return []
    scores = likeness(quantize(np.array([t.embedding for t in kept])), vector)
    return sorted(scores.tolist(), reverse=True)[:k]


FILTERS = (
    AppearanceFilter(NOW - timedelta(days=30), NOW),
    AppearanceFilter(NOW - timedelta(days=1), NOW, frozenset({"car"})),
    AppearanceFilter(NOW - timedelta(days=30), NOW, frozenset({"person"}), frozenset({"east-gate"})),
    AppearanceFilter(NOW - timedelta(days=30), NOW, camera_ids=frozenset()),
)


def test_sqlite_vec_finds_the_exact_neighbours_under_a_filter(tmp_path: Path) -> None:
    tracks = _tracks(600)
    store = SqliteVecStore(tmp_path / "vectors.sqlite", SIZE)
    store.add(VectorBatch.of(tracks))
    assert store.count() == 600
    assert store.newest() == 600
    for wanted in FILTERS:
        query = tracks[7].embedding
        found = store.nearest(query, wanted, 10)  # type: ignore[arg-type]
        assert np.allclose([s for _, s in found], _exact(tracks, query, wanted, 10), atol=1e-5)  # type: ignore[arg-type]
        for track_id, alike in found:
            cosine = float(tracks[track_id - 1].embedding @ query)  # type: ignore[operator]
            assert abs(alike - cosine) < 0.02, "likeness is the cosine, to the int8 rounding"
    assert store.nearest(tracks[0].embedding, FILTERS[0], 1)[0][0] == 1  # type: ignore[arg-type]
    store.close()


@pytest.mark.parametrize(
    ("scanned_under", "one_by_one"), [(0, 8), (50_000, 0)], ids=["lists visited", "few scored, looked up"]
)
def test_past_its_threshold_the_ivf_index_answers_as_the_exact_search_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scanned_under: int, one_by_one: int
) -> None:
    monkeypatch.setattr(ivf, "SCANNED_UNDER", scanned_under)
    monkeypatch.setattr(ivf, "COMPARED_ONE_BY_ONE", one_by_one)
    tracks = _tracks(3000)
    index = LocalAppearanceIndex(tmp_path, SIZE, ivf_from=2000)
    for start in range(0, 3000, 500):
        index.add(tracks[start : start + 500])
    assert (tmp_path / f"appearance-{SIZE}.faiss").is_file(), "built and saved once past the threshold"
    found_all = 0
    for number, wanted in enumerate(FILTERS):
        query = tracks[number * 11].embedding
        found = [s for _, s in index.nearest(query, wanted, 20)]  # type: ignore[arg-type]
        exact = _exact(tracks, query, wanted, 20)  # type: ignore[arg-type]
        assert len(found) == len(exact)
        assert sum(s >= exact[-1] - 1e-6 for s in found) >= 0.95 * len(exact), "as alike as the exact neighbours"
        found_all += len(found)
    assert found_all == 60, "the empty camera set finds nothing"
    index.close()

    # Vectors kept after the last save (a crash before closing): the reopened index catches up on them.
    later = _tracks(50, first_id=3001, seed=1)
    SqliteVecStore(tmp_path / "appearance.sqlite", SIZE).add(VectorBatch.of(later))
    reopened = LocalAppearanceIndex(tmp_path, SIZE, ivf_from=2000)
    assert reopened.newest() == 3050
    for track in later[:5]:
        assert reopened.nearest(track.embedding, FILTERS[0], 1)[0][0] == track.id  # type: ignore[arg-type]
    reopened.close()


def test_an_index_grown_far_past_its_lists_is_learnt_again_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(appearance, "REBUILT_PAST", 2)
    tracks = _tracks(4500)
    index = LocalAppearanceIndex(tmp_path, SIZE, ivf_from=1000)
    index.add(tracks[:1000])
    first = index._ivf
    assert first is not None
    assert first.trained_for == 1000
    for start in range(1000, 4500, 500):
        index.add(tracks[start : start + 500])
    rebuilt = wait_for(lambda: index._ivf if index._ivf is not first else None, 30, "the index learnt again")
    assert rebuilt.trained_for > 2000
    query = tracks[4499].embedding
    assert index.nearest(query, FILTERS[0], 1)[0][0] == 4500, "tracks kept during the rebuild are in it"  # type: ignore[arg-type]
    index.close()


def test_catching_up_reads_the_newer_vectors_by_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tracks = _tracks(300)
    store = SqliteVecStore(tmp_path / "vectors.sqlite", SIZE)
    store.add(VectorBatch.of(tracks[:200]))
    store.add(VectorBatch.of(tracks[250:]))  # ids 201-250 were tracks without a picture: gaps are skipped
    assert [int(i) for batch in store.batches(after=190) for i in batch.ids] == [*range(191, 201), *range(251, 301)]
    assert list(store.batches(after=300)) == []
    assert sum(len(batch) for batch in store.batches()) == 250
    monkeypatch.setattr(vectors, "LOOKED_UP", 10)  # many newer ones: one scan instead
    assert sorted(int(i) for batch in store.batches(after=190) for i in batch.ids) == [
        *range(191, 201),
        *range(251, 301),
    ]
    store.close()
    reopened = SqliteVecStore(tmp_path / "vectors.sqlite", SIZE)
    assert (reopened.count(), reopened.newest()) == (250, 300)
    reopened.close()
