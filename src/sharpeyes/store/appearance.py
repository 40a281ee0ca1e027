"""The embedded appearance index: sqlite-vec holds every vector and searches them exactly while there are few; past
``IVF_FROM`` an IVF index built from it answers instead, is kept on disk beside it, and is caught up from it when
opened (tracks indexed after the last save)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sharpeyes.core.tracks import AppearanceFilter, TrackRecord
from sharpeyes.store.ivf import TRAINED_ON, IvfIndex
from sharpeyes.store.vectors import SqliteVecStore, VectorBatch

logger = logging.getLogger(__name__)

IVF_FROM = 200_000
"""Vectors past which the exact scan (≈ 70 ms at this count on one core) gives way to the IVF index."""
REBUILT_PAST = 8
"""An IVF index is learnt again (in the background) when the vectors outnumber those it was learnt for this many
times: its lists grow long and searches slow down."""


class LocalAppearanceIndex:
    def __init__(self, directory: Path, size: int, ivf_from: int = IVF_FROM) -> None:
        """The index of ``size``-value vectors under ``directory`` (one sqlite-vec table per size, so a change of
        model starts a new one)."""
        self._store = SqliteVecStore(directory / "appearance.sqlite", size)
        self._saved = directory / f"appearance-{size}"
        self._ivf_from = ivf_from
        self._writing = threading.Lock()  # adds wait while a new IVF index catches up, so it misses nothing
        self._rebuilding = threading.Lock()
        self._ivf = IvfIndex.load(self._saved)
        if self._ivf is not None:
            for batch in self._store.batches(after=self._ivf.newest):
                self._ivf.add(batch)
        elif self._store.count() >= ivf_from:
            self.build()

    def add(self, tracks: Sequence[TrackRecord]) -> None:
        batch = VectorBatch.of(tracks)
        if not len(batch):
            return
        with self._writing:
            self._store.add(batch)
            if self._ivf is not None:
                self._ivf.add(batch)
        count = self._store.count()  # kept beside the vectors: no scan
        if self._ivf is None and count >= self._ivf_from:
            self.build()
        elif self._ivf is not None and count > REBUILT_PAST * self._ivf.trained_for:
            threading.Thread(target=self.build, name="appearance-ivf", daemon=True).start()

    def newest(self) -> int:
        return self._store.newest()

    def nearest(self, vector: np.ndarray, wanted: AppearanceFilter, k: int) -> list[tuple[int, float]]:
        ivf = self._ivf
        return (ivf or self._store).nearest(vector, wanted, k)

    def build(self) -> None:
        """Learn an IVF index from every vector kept, fill it, catch it up and save it; then it answers. The one
        it replaces (if any) answers meanwhile."""
        if not self._rebuilding.acquire(blocking=False):
            return  # one build at a time; another is under way
        try:
            total = self._store.count()
            logger.info("building the appearance IVF index over %d vectors", total)
            stride = max(1, total // TRAINED_ON)
            sample = np.concatenate([batch.vectors[::stride] for batch in self._store.batches()])
            ivf = IvfIndex.trained(sample, total)
            ivf.reserve(self._store.newest() + 1)
            for batch in self._store.batches():
                ivf.add(batch)
            with self._writing:
                for batch in self._store.batches(after=ivf.newest):  # kept while it was filled
                    ivf.add(batch)
                ivf.save(self._saved)
                self._ivf = ivf
        finally:
            self._rebuilding.release()

    def close(self) -> None:
        if self._ivf is not None:
            self._ivf.save(self._saved)
        self._store.close()
