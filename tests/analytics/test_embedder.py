"""The appearance embedder: weights read from a PyTorch file without PyTorch (and nothing else run from it), and
embeddings that tell pictures apart on real footage."""

from __future__ import annotations

import os
import pickle
import struct
from pathlib import Path

import av
import numpy as np
import pytest

from sharpeyes.analytics.mot import read_mot
from sharpeyes.analytics.torch_pickle import MAGIC, read_state_dict
from sharpeyes.core.errors import InvalidInputError
from sharpeyes.core.settings import AnalyticsSettings
from sharpeyes.services.models import ModelService
from tests.conftest import DATA


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch should-never-exist",))


def test_a_weights_file_that_asks_to_run_code_is_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil.pt"
    with evil.open("wb") as handle:
        for part in (MAGIC, 1001, {"little_endian": True}):
            pickle.dump(part, handle, protocol=2)
        pickle.dump({"w": _Payload()}, handle, protocol=2)
    with pytest.raises(InvalidInputError) as refused:
        read_state_dict(evil)
    assert "refused: posix.system" in refused.value.message or "refused: os.system" in refused.value.message
    assert not (tmp_path / "should-never-exist").exists()
    assert not Path("should-never-exist").exists()
    truncated = tmp_path / "short.pt"
    truncated.write_bytes(evil.read_bytes()[:20])
    with pytest.raises(InvalidInputError):
        read_state_dict(truncated)
    with pytest.raises(InvalidInputError):
        read_state_dict(tmp_path / "missing.pt")


def test_the_same_person_looks_more_alike_than_two_people(nanodet_model: Path) -> None:
    pets = DATA / "pets09-s2l1"
    if not pets.exists():
        pytest.skip(f"{pets} not found: set SHARPEYES_TEST_DATA to the shared data folder")
    embedder = ModelService(nanodet_model.parent).embedder(AnalyticsSettings(detector_threads=1))
    assert embedder.size == 256
    truth = read_mot(pets / "gt" / "gt.txt", min_confidence=1)
    pictures: dict[int, list[np.ndarray]] = {}
    with av.open(str(pets / "pets09-s2l1.mp4")) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index % 50:
                continue
            image = frame.to_ndarray(format="bgr24")
            for row in truth:
                if row.frame == index + 1 and row.h > 70:
                    crop = image[int(max(0, row.y)) : int(row.y + row.h), int(max(0, row.x)) : int(row.x + row.w)]
                    pictures.setdefault(row.track_id, []).append(crop)
    ids = [track for track, crops in pictures.items() if len(crops) >= 2]
    vectors = {track: embedder.embed(pictures[track]) for track in ids}
    assert np.allclose(np.linalg.norm(vectors[ids[0]], axis=1), 1.0, atol=1e-4)
    same = [float((v @ v.T)[np.triu_indices(len(v), 1)].mean()) for v in vectors.values()]
    others = [float((vectors[a] @ vectors[b].T).mean()) for a in ids for b in ids if a < b]
    assert len(ids) >= 8
    print(f"mean similarity: same person {np.mean(same):.3f}, two people {np.mean(others):.3f}")
    assert np.mean(same) > np.mean(others) + 0.02
    assert embedder.embed([np.zeros((0, 0, 3), np.uint8)]).sum() == 0, "an empty picture embeds to nothing"


def _one_tensor_file(path: Path, size: tuple[int, ...], stride: tuple[int, ...], stored: int) -> Path:
    """A legacy weights file holding one tensor ``w`` of ``size``/``stride`` over a storage of ``stored`` floats."""
    state = (
        b"\x80\x02ccollections\nOrderedDict\n)R"
        b"X\x01\x00\x00\x00w"
        b"ctorch._utils\n_rebuild_tensor_v2\n("
        b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x01NtQ"
        + pickle.dumps(0, 2)[2:-1]
        + pickle.dumps(size, 2)[2:-1]
        + pickle.dumps(stride, 2)[2:-1]
        + b"tRs."
    )
    with path.open("wb") as handle:
        for part in (MAGIC, 1001, {"little_endian": True}):
            pickle.dump(part, handle, protocol=2)
        handle.write(state)
        pickle.dump(["0"], handle, protocol=2)
        handle.write(struct.pack("<q", stored) + b"\x00\x00\x80\x3f" * stored)
    return path


def test_tensors_are_read_only_inside_their_storage(tmp_path: Path) -> None:
    fine = read_state_dict(_one_tensor_file(tmp_path / "fine.pt", (2, 2), (2, 1), 4))
    assert fine["w"].tolist() == [[1.0, 1.0], [1.0, 1.0]]
    for size, stride in (((4096,), (1,)), ((8,), (1 << 40,))):  # past the storage's end: memory not its own
        with pytest.raises(InvalidInputError) as refused:
            read_state_dict(_one_tensor_file(tmp_path / "bad.pt", size, stride, 1))
        assert "reaches element" in refused.value.message
