"""Reading a TensorFlow.js graph model (``model.json`` + weight shards) into plain nodes and NumPy constants.

Only what a converted graph needs: the node list (name, op, inputs, attributes), the signature's inputs and
outputs, and every weight decoded (float16-quantised floats widened to float32, int64 stored as int32 widened).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sharpeyes.core.errors import InvalidInputError

_DTYPES: dict[str, np.dtype[Any]] = {
    "float32": np.dtype(np.float32),
    "int32": np.dtype(np.int32),
    "bool": np.dtype(np.bool_),
}
_FLOAT16 = np.dtype(np.float16)


@dataclass(frozen=True, slots=True)
class TfNode:
    name: str
    op: str
    inputs: tuple[str, ...]
    attrs: dict[str, Any] = field(default_factory=dict)

    def attr_ints(self, key: str) -> list[int]:
        return [int(v) for v in self.attrs.get(key, {}).get("list", {}).get("i", [])]

    def attr_string(self, key: str) -> str:
        raw = self.attrs.get(key, {}).get("s", "")
        return base64.b64decode(raw).decode() if raw else ""

    def attr_float(self, key: str, default: float) -> float:
        return float(self.attrs.get(key, {}).get("f", default))

    def attr_bool(self, key: str) -> bool:
        return bool(self.attrs.get(key, {}).get("b", False))


@dataclass(frozen=True, slots=True)
class TfGraph:
    nodes: tuple[TfNode, ...]
    weights: dict[str, np.ndarray]
    inputs: dict[str, tuple[int, ...]]
    """Signature input name (``input_1:0``) → shape."""
    outputs: tuple[str, ...]
    """Signature output names (``Identity:0``…) in the model's order."""


def read_graph_model(model_json: Path) -> TfGraph:
    """Read ``model_json`` and the weight files next to it; ``InvalidInputError`` says what is wrong."""
    try:
        document = json.loads(model_json.read_text(encoding="utf-8"))
        topology = document["modelTopology"]
        manifest = document["weightsManifest"]
        signature = document.get("signature", {})
    except (OSError, ValueError, KeyError) as err:
        raise InvalidInputError(f"{model_json.name}: not a TF.js graph model ({err})", code="bad_model") from err
    nodes = tuple(
        TfNode(n["name"], n["op"], tuple(n.get("input", [])), n.get("attr", {})) for n in topology.get("node", [])
    )
    weights: dict[str, np.ndarray] = {}
    for group in manifest:
        data = b"".join(_read_shard(model_json.parent / path) for path in group["paths"])
        offset = 0
        for spec in group["weights"]:
            array, used = _decode(spec, data, offset, model_json.name)
            weights[spec["name"]] = array
            offset += used
        if offset != len(data):
            raise InvalidInputError(
                f"{model_json.name}: weights take {offset} bytes but the files hold {len(data)}", code="bad_model"
            )
    inputs = {
        name: tuple(int(d.get("size", -1)) for d in spec["tensorShape"]["dim"])
        for name, spec in signature.get("inputs", {}).items()
    }
    outputs = tuple(signature.get("outputs", {}))
    if not inputs or not outputs:
        raise InvalidInputError(f"{model_json.name}: the model has no signature", code="bad_model")
    return TfGraph(nodes, weights, inputs, outputs)


def _read_shard(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise InvalidInputError(f"weights file {path.name} cannot be read: {err.strerror}", code="bad_model") from err


def _decode(spec: dict[str, Any], data: bytes, offset: int, source: str) -> tuple[np.ndarray, int]:
    shape = tuple(int(d) for d in spec["shape"])
    count = int(np.prod(shape)) if shape else 1
    dtype = _DTYPES.get(spec["dtype"])
    if dtype is None:
        raise InvalidInputError(f"{source}: weight dtype {spec['dtype']} is not supported", code="bad_model")
    quantization = spec.get("quantization")
    stored = dtype
    if quantization:
        if quantization["dtype"] != "float16":
            raise InvalidInputError(
                f"{source}: quantisation {quantization['dtype']} is not supported", code="bad_model"
            )
        stored = _FLOAT16
    size = count * stored.itemsize
    if offset + size > len(data):
        raise InvalidInputError(f"{source}: the weight files end inside {spec['name']}", code="bad_model")
    array: np.ndarray = np.frombuffer(data, dtype=stored, count=count, offset=offset).astype(dtype).reshape(shape)
    return array, size
