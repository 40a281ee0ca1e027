"""An IVF index (faiss, 8-bit scalar quantizer, inner product) over appearance vectors, for when an exact scan is too
slow. Each track's camera, class and times are kept in arrays indexed by track id, so a filter becomes a bitmap that
faiss checks while it scans its lists: the narrower the filter, the more lists it visits (all of them, and then the
search is exact, when the filter leaves few tracks), so a filtered search still finds its neighbours. The
candidates it finds are scored again on the int8 vectors sqlite-vec keeps (held here too), so the order is the exact
search's."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import faiss
import numpy as np

from sharpeyes.core.tracks import AppearanceFilter
from sharpeyes.store.vectors import SCALE, VectorBatch, likeness

LISTS_VISITED = 24
"""Lists visited by a search that nothing filters out; divided by the share a filter keeps."""
TRAINED_ON = 100_000
"""Vectors the lists' centres are learnt from (a sample when there are more)."""
RESCORED = 4
"""Candidates scored again on the int8 vectors, per neighbour asked for."""
SCANNED_UNDER = 50_000
"""When no more tracks than this pass the filter, they are all scored (exact, and quicker than visiting lists)."""
COMPARED_ONE_BY_ONE = 8
"""Classes or cameras up to this many are compared one by one; more are looked up in a table."""
NOBODY = 0
"""The camera and class code of an id no track has."""


class IvfIndex:
    def __init__(self, index: faiss.IndexIVF, cameras: list[str], classes: list[str], trained_for: int) -> None:
        self._index = index
        self.trained_for = trained_for
        """How many vectors its lists were learnt for."""
        self._lock = threading.Lock()
        self._camera_codes = {name: code for code, name in enumerate(cameras, start=1)}
        self._class_codes = {name: code for code, name in enumerate(classes, start=1)}
        self._camera = np.zeros(0, np.int32)
        self._class = np.zeros(0, np.uint8)
        self._start = np.zeros(0, np.int64)
        self._end = np.zeros(0, np.int64)
        self._vectors = np.zeros((0, index.d), np.int8)
        self._earliest_end, self._latest_start = 2**62, 0
        """Bounds of the times held: a time limit that every track meets is not checked."""
        self.newest = 0

    @classmethod
    def trained(cls, sample: np.ndarray, total: int) -> IvfIndex:
        """An empty index for about ``total`` vectors, its lists learnt from ``sample`` (int8 vectors)."""
        size = sample.shape[1]
        lists = int(min(4096, max(16, math.sqrt(total)), max(1, len(sample) // 39)))  # faiss wants 39 a list
        quantizer = faiss.IndexFlatIP(size)
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, size, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        rng = np.random.default_rng(0)
        chosen = sample if len(sample) <= TRAINED_ON else sample[rng.choice(len(sample), TRAINED_ON, replace=False)]
        index.train(np.ascontiguousarray(chosen, np.float32) / SCALE)
        return cls(index, [], [], total)

    def add(self, batch: VectorBatch) -> None:
        if not len(batch):
            return
        with self._lock:
            top = int(batch.ids.max())
            if top >= len(self._class):
                self.reserve(max(top + 1, 2 * len(self._class)))
            self._camera[batch.ids] = [self._code(self._camera_codes, name) for name in batch.camera_ids]
            self._class[batch.ids] = [self._code(self._class_codes, name) for name in batch.classes]
            self._start[batch.ids] = batch.start_s
            self._end[batch.ids] = batch.end_s
            self._vectors[batch.ids] = batch.vectors
            self._earliest_end = min(self._earliest_end, int(batch.end_s.min()))
            self._latest_start = max(self._latest_start, int(batch.start_s.max()))
            self._index.add_with_ids(np.ascontiguousarray(batch.vectors, np.float32) / SCALE, batch.ids)
            self.newest = max(self.newest, top)

    def nearest(self, vector: np.ndarray, wanted: AppearanceFilter, k: int) -> list[tuple[int, float]]:
        query = np.ascontiguousarray(vector, np.float32).reshape(1, -1)
        with self._lock:
            kept = self._filter(wanted)
            chosen = int(np.count_nonzero(kept))
            if chosen == 0:
                return []
            if chosen <= SCANNED_UNDER:  # few pass: score them all, exactly
                found = np.flatnonzero(kept)
            else:
                bits = np.packbits(kept, bitorder="little")
                params = faiss.SearchParametersIVF(  # type: ignore[call-arg]  # the stubs lack its keywords
                    sel=faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits)),
                    nprobe=min(self._index.nlist, math.ceil(LISTS_VISITED * self._index.ntotal / chosen)),
                )
                _, candidates = self._index.search(query, min(k * RESCORED, chosen), params=params)
                found = candidates[0][candidates[0] >= 0]
            scores = likeness(self._vectors[found], query[0])
        best = np.argsort(-scores, kind="stable")[:k]
        return [(int(found[i]), float(scores[i])) for i in best]

    def _filter(self, wanted: AppearanceFilter) -> np.ndarray:
        """True for the ids of tracks that pass (ids no track has never do). Each condition costs a pass over
        every id, so one that every track meets is skipped, and a few classes or cameras are compared one by one
        rather than looked up."""
        kept: np.ndarray = self._class != NOBODY
        start, end = int(wanted.start.timestamp()), int(wanted.end.timestamp())
        if start > self._earliest_end:
            kept &= self._end >= start
        if end < self._latest_start:
            kept &= self._start <= end
        for codes, column, names in (
            (self._class_codes, self._class, wanted.classes or None),
            (self._camera_codes, self._camera, wanted.camera_ids),
        ):
            if names is not None:
                kept &= _member(column, [codes[name] for name in names if name in codes], len(codes))
        return kept

    def save(self, path: Path) -> None:
        with self._lock:
            faiss.write_index(self._index, str(path.with_suffix(".faiss")))
            np.savez(
                path.with_suffix(".npz"),
                camera=self._camera,
                kind=self._class,
                start=self._start,
                end=self._end,
                vectors=self._vectors,
            )
            names = {
                "cameras": list(self._camera_codes),
                "classes": list(self._class_codes),
                "newest": self.newest,
                "trained_for": self.trained_for,
            }
            path.with_suffix(".json").write_text(json.dumps(names))

    @classmethod
    def load(cls, path: Path) -> IvfIndex | None:
        """The index saved at ``path``, or None when there is none (or only part of one)."""
        parts = [path.with_suffix(suffix) for suffix in (".faiss", ".npz", ".json")]
        if not all(part.is_file() for part in parts):
            return None
        names = json.loads(parts[2].read_text())
        index = faiss.read_index(str(parts[0]))
        if not isinstance(index, faiss.IndexIVF):
            return None
        ivf = cls(index, names["cameras"], names["classes"], int(names["trained_for"]))
        with np.load(parts[1]) as arrays:
            ivf._camera, ivf._class = arrays["camera"], arrays["kind"]
            ivf._start, ivf._end, ivf._vectors = arrays["start"], arrays["end"], arrays["vectors"]
        ivf.newest = int(names["newest"])
        held = ivf._class != NOBODY
        if held.any():
            ivf._earliest_end, ivf._latest_start = int(ivf._end[held].min()), int(ivf._start[held].max())
        return ivf

    def reserve(self, ids: int) -> None:
        """Room for track ids below ``ids`` (they grow as tracks come; a build knows how many it will add)."""
        extra = max(ids, 1024) - len(self._class)
        if extra <= 0:
            return
        self._camera = np.concatenate([self._camera, np.full(extra, NOBODY, np.int32)])
        self._class = np.concatenate([self._class, np.full(extra, NOBODY, np.uint8)])
        self._start = np.concatenate([self._start, np.zeros(extra, np.int64)])
        self._end = np.concatenate([self._end, np.zeros(extra, np.int64)])
        self._vectors = np.concatenate([self._vectors, np.zeros((extra, self._index.d), np.int8)])

    @staticmethod
    def _code(codes: dict[str, int], name: str) -> int:
        if name not in codes:
            codes[name] = len(codes) + 1
        return codes[name]


def _member(column: np.ndarray, wanted: list[int], codes: int) -> np.ndarray:
    """Whether each value of ``column`` is one of ``wanted`` (codes below ``codes + 1``)."""
    if len(wanted) <= COMPARED_ONE_BY_ONE:
        found = np.zeros(len(column), bool)
        for code in wanted:
            found |= column == code
        return found
    allowed = np.zeros(codes + 1, bool)
    allowed[wanted] = True
    member: np.ndarray = allowed[column]
    return member
