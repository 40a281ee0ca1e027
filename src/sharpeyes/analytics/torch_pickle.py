"""Tensors from a PyTorch ``torch.save`` file in the legacy (non-zip) format, without PyTorch, and without running
anything the file asks for: the unpickler knows an ordered dict, float and integer storages and the one function
that rebuilds a tensor; any other name in the file is refused.

The legacy format is a run of pickles — a magic number, the protocol version, system facts, the object (tensors
refer to their storages by key), the list of storage keys — followed by each storage's raw bytes, prefixed by its
element count."""

from __future__ import annotations

import collections
import pickle
import struct
from pathlib import Path
from typing import IO, Any

import numpy as np

from sharpeyes.core.errors import InvalidInputError

MAGIC = 0x1950A86A20F9469CFC6C
MAX_ELEMENTS = 100_000_000
"""No storage or tensor of a weights file read here is larger (a bigger claim is a broken or hostile file)."""
_STORAGES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "LongStorage": np.int64, "IntStorage": np.int32}


class _Tensor:
    def __init__(self, storage: tuple[str, str], offset: int, size: tuple[int, ...], stride: tuple[int, ...]) -> None:
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride


class _Reader(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return lambda storage, offset, size, stride, *_rest: _Tensor(storage, offset, tuple(size), tuple(stride))
        if module == "torch" and name in _STORAGES:
            return name
        raise pickle.UnpicklingError(f"refused: {module}.{name} (only tensors are read from a weights file)")

    def persistent_load(self, pid: Any) -> tuple[str, str]:
        if not (isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage" and pid[1] in _STORAGES):
            raise pickle.UnpicklingError(f"unexpected storage reference {pid!r}")
        return str(pid[1]), str(pid[2])


def read_state_dict(path: Path) -> dict[str, np.ndarray]:
    """Name → array of a legacy ``torch.save`` state dict; ``InvalidInputError`` for anything else."""
    try:
        with path.open("rb") as handle:
            return _read(handle)
    except (
        OSError,
        pickle.UnpicklingError,
        EOFError,
        struct.error,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        MemoryError,
    ) as err:
        raise InvalidInputError(f"{path.name}: not a readable weights file ({err})", code="bad_model") from err


def _read(handle: IO[bytes]) -> dict[str, np.ndarray]:
    if _Reader(handle).load() != MAGIC:  # every pickle goes through the restricted reader
        raise ValueError("not a PyTorch legacy file (magic number)")
    _Reader(handle).load()  # protocol version
    _Reader(handle).load()  # system facts (sizes, endianness)
    state = _Reader(handle).load()
    keys = _Reader(handle).load()
    if not isinstance(state, dict) or not isinstance(keys, list):
        raise ValueError("expected a state dict")
    kinds = {key: kind for kind, key in (t.storage for t in state.values() if isinstance(t, _Tensor))}
    storages: dict[str, np.ndarray] = {}
    for key in keys:
        (count,) = struct.unpack("<q", handle.read(8))
        dtype = np.dtype(_STORAGES[kinds.get(str(key), "FloatStorage")])
        if not 0 <= count <= MAX_ELEMENTS:
            raise ValueError(f"storage {key} claims {count} elements")
        raw = handle.read(count * dtype.itemsize)
        if len(raw) != count * dtype.itemsize:
            raise ValueError(f"storage {key} is cut short")
        storages[str(key)] = np.frombuffer(raw, dtype=dtype, count=count)
    arrays = {}
    for name, tensor in state.items():
        if not isinstance(tensor, _Tensor):
            raise ValueError(f"{name} is not a tensor")
        arrays[str(name)] = _tensor(storages[tensor.storage[1]], tensor, str(name))
    return arrays


def _tensor(data: np.ndarray, tensor: _Tensor, name: str) -> np.ndarray:
    """The tensor's values, checked to lie inside its storage (the file's numbers are not trusted)."""
    size, stride, offset = tensor.size, tensor.stride, tensor.offset
    if len(size) != len(stride) or any(not isinstance(v, int) or v < 0 for v in (*size, *stride, offset)):
        raise ValueError(f"{name}: bad shape {size} / stride {stride} / offset {offset}")
    elements = int(np.prod(size, dtype=np.int64)) if size else 1
    if elements > MAX_ELEMENTS:
        raise ValueError(f"{name}: {elements} elements")
    if elements == 0:
        return np.zeros(size, data.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    if last >= len(data):
        raise ValueError(f"{name}: reaches element {last} of a storage of {len(data)}")
    index = offset + sum(
        np.arange(n, dtype=np.int64).reshape([-1 if k == axis else 1 for k in range(len(size))]) * s
        for axis, (n, s) in enumerate(zip(size, stride, strict=True))
    )
    return np.array(data[index], copy=True)
