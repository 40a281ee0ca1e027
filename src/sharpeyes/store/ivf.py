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
            self._index.add_with_ids(np.ascontiguousarray(batch.vectors, np.float32) / SCALE, batch.ids)
            self.newest = max(self.newest, top)

    def nearest(self, vector: np.ndarray, wanted: AppearanceFilter, k: int) -> list[tuple[int, float]]:
        with self._lock:
            kept = self._filter(wanted)
            chosen = int(np.count_nonzero(kept))
            if chosen == 0:
                return []
            lists = self._index.nlist
            share = chosen / max(1, self._index.ntotal)
            bits = np.packbits(kept, bitorder="little")
            params = faiss.SearchParametersIVF(  # type: ignore[call-arg]  # the stubs lack its keywords
                sel=faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits)),
                nprobe=min(lists, math.ceil(LISTS_VISITED / share)),
            )
            query = np.ascontiguousarray(vector, np.float32).reshape(1, -1)
            _, found = self._index.search(query, min(k * RESCORED, chosen), params=params)
            found = found[0][found[0] >= 0]
            scores = likeness(self._vectors[found], query[0])
        best = np.argsort(-scores, kind="stable")[:k]
        return [(int(found[i]), float(scores[i])) for i in best]

    def _filter(self, wanted: AppearanceFilter) -> np.ndarray:
        """True for the ids of tracks that pass (ids no track has never do)."""
        kept = (self._start <= int(wanted.end.timestamp())) & (self._end >= int(wanted.start.timestamp()))
        for codes, column, names in (
            (self._class_codes, self._class, wanted.classes or None),
            (self._camera_codes, self._camera, wanted.camera_ids),
        ):
            if names is None:
                continue
            allowed = np.zeros(len(codes) + 1, bool)
            allowed[[codes[name] for name in names if name in codes]] = True
            kept &= allowed[column]
        kept &= self._class != NOBODY
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
