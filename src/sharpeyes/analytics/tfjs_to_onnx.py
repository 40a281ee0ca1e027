"""TF.js graph model → ONNX, for the small set of ops convolutional detectors use.

Each TF op becomes its literal ONNX equivalent; NHWC convolutions and pools are wrapped in transposes to and from
NCHW (ONNX Runtime's optimiser cancels the pairs). Subgraphs that depend on constants only (shape arithmetic such
as ``SparseToDense`` → ``AddV2`` → a ``Reshape`` target) are evaluated here with NumPy, so they never run.
Static shapes are tracked as the graph is walked: grouped convolutions need the input's channel count.

The graph is walked twice, at its own input size and at one 32 pixels larger each way, the second walk resizing by
the first walk's factors (a feature pyramid upsamples ×2 to meet the next level). When the second walk's shapes
still fit together and all that changes is a reshape's flattened spatial axes, the model is written to take any
height and width that are multiples of 32 (reshapes leave those axes to the runtime, ``-1``; resizes are scale
factors), so a detector can look at a small crop for a small cost. Otherwise it keeps the fixed size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from sharpeyes.analytics.tfjs import TfGraph, TfNode
from sharpeyes.core.errors import InvalidInputError

OPSET = 17
SUPPORTED_OPS = frozenset(
    {
        "Add",
        "AddV2",
        "ConcatV2",
        "Const",
        "Conv2D",
        "DepthwiseConv2dNative",
        "Identity",
        "LeakyRelu",
        "MaxPool",
        "Pad",
        "PadV2",
        "Placeholder",
        "Relu",
        "Reshape",
        "ResizeBilinear",
        "Sigmoid",
        "SparseToDense",
        "SplitV",
        "Transpose",
    }
)
PROBE_GROWTH = 32
"""How much larger (each way) the second walk's input is; the graph's largest stride divides it."""
_TO_NCHW = [0, 3, 1, 2]
_TO_NHWC = [0, 2, 3, 1]


class _Builder:
    def __init__(self, graph: TfGraph, growth: int = 0, factors: list[tuple[float, float]] | None = None) -> None:
        self.growth = growth
        """Added to the spatial axes of 4-D inputs (the second walk)."""
        self.factors: list[tuple[float, float]] = []
        """Each resize's height and width factors, in graph order."""
        self.follow = factors
        """The first walk's factors, which the second walk's resizes apply instead of their fixed sizes."""
        self.weights = graph.weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.constants: dict[str, np.ndarray] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.reshape_targets: set[str] = set()
        self._materialised: set[str] = set()
        self._serial = 0

    # -- helpers -----------------------------------------------------------------------------------------

    def fresh(self, hint: str) -> str:
        self._serial += 1
        return f"{hint}__{self._serial}"

    def tensor(self, name: str) -> str:
        """The ONNX name of a TF tensor reference, materialising constants as initialisers on first use."""
        if name in self.constants and name not in self._materialised:
            self.initializers.append(numpy_helper.from_array(self.constants[name], name))
            self._materialised.add(name)
        return name

    def add(self, op: str, inputs: Sequence[str], outputs: Sequence[str], **attrs: Any) -> None:
        self.nodes.append(helper.make_node(op, list(inputs), list(outputs), **attrs))

    def constant_of(self, name: str, node: TfNode) -> np.ndarray:
        if name not in self.constants:
            raise InvalidInputError(f"{node.op} {node.name}: input {name} must be constant", code="bad_model")
        return self.constants[name]


def convert(graph: TfGraph) -> onnx.ModelProto:
    """The ONNX model computing what ``graph`` computes; ``InvalidInputError`` names an unsupported op."""
    unsupported = sorted({node.op for node in graph.nodes} - SUPPORTED_OPS)
    if unsupported:
        raise InvalidInputError(f"the model uses ops this converter lacks: {', '.join(unsupported)}", code="bad_model")
    builder = _Builder(graph)
    for node in graph.nodes:
        _convert_node(builder, node)
    probe = _Builder(graph, PROBE_GROWTH, builder.factors)
    try:
        for node in graph.nodes:
            _convert_node(probe, node)
        free = _free_size(builder, probe)
    except (InvalidInputError, ValueError):  # shapes that no longer fit: the model needs its own size
        free = False
    inputs = []
    for name, shape in graph.inputs.items():
        tensor_name = name.split(":")[0]
        dims: list[int | str] = list(shape)
        for axis in _spatial_axes(shape) if free else ():
            dims[axis] = ("height", "width")[axis - _spatial_axes(shape)[0]]
        inputs.append(helper.make_tensor_value_info(tensor_name, TensorProto.FLOAT, dims))
    outputs = []
    for name in graph.outputs:
        tensor_name = name.split(":")[0]
        builder.add("Identity", [builder.tensor(tensor_name)], [name])
        out_dims: list[int | str] = list(builder.shapes[tensor_name])
        grown_dims = probe.shapes[tensor_name] if free else builder.shapes[tensor_name]
        for axis, (own, grown) in enumerate(zip(out_dims, grown_dims, strict=True)):
            if own != grown:
                out_dims[axis] = f"{tensor_name.replace('/', '_')}_{axis}"
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, out_dims))
    onnx_graph = helper.make_graph(builder.nodes, "converted", inputs, outputs, builder.initializers)
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="sharpeyes")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _spatial_axes(shape: Sequence[int]) -> tuple[int, ...]:
    """The height and width axes of a 4-D image input (NCHW when it has 3 channels first, else NHWC)."""
    if len(shape) != 4:
        return ()
    return (2, 3) if shape[1] == 3 else (1, 2)


def _free_size(native: _Builder, probe: _Builder) -> bool:
    """Whether the model can take other input sizes; if so, the native walk's reshapes are made size-free."""
    probe_values = {t.name: numpy_helper.to_array(t) for t in probe.initializers}
    flattened: list[tuple[onnx.TensorProto, int]] = []
    for tensor in native.initializers:
        own, grown = numpy_helper.to_array(tensor), probe_values.get(tensor.name)
        if grown is None or own.shape != grown.shape:
            return False
        changed = np.flatnonzero(own != grown) if own.ndim == 1 else np.array([], int)
        if own.ndim != 1 and not np.array_equal(own, grown):
            return False
        if len(changed) == 0:
            continue
        if tensor.name not in native.reshape_targets or len(changed) != 1:
            return False  # something else follows the input size: keep the fixed size
        flattened.append((tensor, int(changed[0])))
    for tensor, axis in flattened:
        target = numpy_helper.to_array(tensor).copy()
        target[axis] = -1
        tensor.CopyFrom(numpy_helper.from_array(target, tensor.name))
    return True


def _convert_node(b: _Builder, node: TfNode) -> None:
    name, op, inputs = node.name, node.op, [i.split(":")[0] if i.endswith(":0") else i for i in node.inputs]
    if op == "Const":
        value = b.weights.get(name)
        if value is None:
            raise InvalidInputError(f"constant {name} has no weights", code="bad_model")
        if node.attrs.get("dtype", {}).get("type") == "DT_INT64":
            value = value.astype(np.int64)
        b.constants[name] = value
        b.shapes[name] = value.shape
        return
    if op == "Placeholder":
        dims = [int(d.get("size", -1)) for d in node.attrs["shape"]["shape"]["dim"]]
        for axis in _spatial_axes(dims):
            dims[axis] += b.growth
        b.shapes[name] = tuple(dims)
        return
    if all(i in b.constants for i in inputs) and op not in ("Identity",):
        b.constants[name] = _evaluate(b, node, inputs)
        b.shapes[name] = b.constants[name].shape
        return
    x = inputs[0]
    shape = b.shapes[x]
    if op in ("Identity", "Sigmoid", "Relu", "LeakyRelu"):
        attrs = {"alpha": node.attr_float("alpha", 0.2)} if op == "LeakyRelu" else {}
        b.add(op, [b.tensor(x)], [name], **attrs)
        b.shapes[name] = shape
    elif op in ("Add", "AddV2"):
        b.add("Add", [b.tensor(inputs[0]), b.tensor(inputs[1])], [name])
        b.shapes[name] = tuple(np.broadcast_shapes(shape, b.shapes[inputs[1]]))
    elif op == "Transpose":
        perm = [int(p) for p in b.constant_of(inputs[1], node)]
        b.add("Transpose", [b.tensor(x)], [name], perm=perm)
        b.shapes[name] = tuple(shape[p] for p in perm)
    elif op in ("Pad", "PadV2"):
        paddings = b.constant_of(inputs[1], node).astype(np.int64)
        pads = numpy_helper.from_array(np.concatenate([paddings[:, 0], paddings[:, 1]]), b.fresh(name + "_pads"))
        b.initializers.append(pads)
        pad_inputs = [b.tensor(x), pads.name]
        if op == "PadV2":
            pad_inputs.append(b.tensor(inputs[2]))
        b.add("Pad", pad_inputs, [name], mode="constant")
        b.shapes[name] = tuple(int(s + p0 + p1) for s, (p0, p1) in zip(shape, paddings, strict=True))
    elif op in ("Conv2D", "DepthwiseConv2dNative"):
        _conv(b, node, x, shape, b.constant_of(inputs[1], node))
    elif op == "MaxPool":
        _pool(b, node, x, shape)
    elif op == "ConcatV2":
        axis = int(b.constant_of(inputs[-1], node))
        parts = inputs[:-1]
        axis = axis % len(shape)
        b.add("Concat", [b.tensor(p) for p in parts], [name], axis=axis)
        total = sum(b.shapes[p][axis] for p in parts)
        b.shapes[name] = tuple(total if i == axis else s for i, s in enumerate(shape))
    elif op == "ResizeBilinear":
        _resize(b, node, x, shape, b.constant_of(inputs[1], node))
    elif op == "SplitV":
        sizes = b.constant_of(inputs[1], node).astype(np.int64)
        axis = int(b.constant_of(inputs[2], node)) % len(shape)
        split = numpy_helper.from_array(sizes, b.fresh(name + "_split"))
        b.initializers.append(split)
        outputs = [name if k == 0 else f"{name}:{k}" for k in range(len(sizes))]
        b.add("Split", [b.tensor(x), split.name], outputs, axis=axis)
        for out, size in zip(outputs, sizes, strict=True):
            b.shapes[out] = tuple(int(size) if i == axis else s for i, s in enumerate(shape))
    elif op == "Reshape":
        target = b.constant_of(inputs[1], node).astype(np.int64)
        resolved = _resolve_shape(shape, target)
        const = numpy_helper.from_array(np.array(resolved, dtype=np.int64), b.fresh(name + "_shape"))
        b.initializers.append(const)
        b.reshape_targets.add(const.name)
        b.add("Reshape", [b.tensor(x), const.name], [name])
        b.shapes[name] = tuple(resolved)
    else:  # pragma: no cover - SUPPORTED_OPS and these branches are kept in step
        raise InvalidInputError(f"op {op} is not converted", code="bad_model")


def _conv(b: _Builder, node: TfNode, x: str, shape: tuple[int, ...], kernel: np.ndarray) -> None:
    if node.attr_string("data_format") not in ("", "NHWC"):
        raise InvalidInputError(f"{node.name}: only NHWC convolutions are converted", code="bad_model")
    kh, kw, k_in, k_out = kernel.shape
    channels = shape[3]
    if node.op == "DepthwiseConv2dNative":  # filter [kh, kw, in, multiplier]
        weight = kernel.reshape(kh, kw, 1, k_in * k_out).transpose(3, 2, 0, 1)
        groups, out_channels = k_in, k_in * k_out
    else:
        weight = kernel.transpose(3, 2, 0, 1)  # → [out, in/groups, kh, kw]
        groups, out_channels = channels // k_in, k_out
    strides = node.attr_ints("strides")[1:3] or [1, 1]
    dilations = node.attr_ints("dilations")[1:3] or [1, 1]
    pads, out_h, out_w = _padding(node, shape[1:3], (kh, kw), strides, dilations)
    w_name = b.fresh(node.name + "_w")
    b.initializers.append(numpy_helper.from_array(np.ascontiguousarray(weight, dtype=np.float32), w_name))
    nchw, conv = b.fresh(node.name + "_nchw"), b.fresh(node.name + "_conv")
    b.add("Transpose", [b.tensor(x)], [nchw], perm=_TO_NCHW)
    b.add(
        "Conv",
        [nchw, w_name],
        [conv],
        kernel_shape=[kh, kw],
        strides=strides,
        dilations=dilations,
        pads=pads,
        group=groups,
    )
    b.add("Transpose", [conv], [node.name], perm=_TO_NHWC)
    b.shapes[node.name] = (shape[0], out_h, out_w, out_channels)


def _pool(b: _Builder, node: TfNode, x: str, shape: tuple[int, ...]) -> None:
    kernel = node.attr_ints("ksize")[1:3]
    strides = node.attr_ints("strides")[1:3]
    pads, out_h, out_w = _padding(node, shape[1:3], (kernel[0], kernel[1]), strides, [1, 1])
    nchw, pooled = b.fresh(node.name + "_nchw"), b.fresh(node.name + "_pool")
    b.add("Transpose", [b.tensor(x)], [nchw], perm=_TO_NCHW)
    b.add("MaxPool", [nchw], [pooled], kernel_shape=kernel, strides=strides, pads=pads)
    b.add("Transpose", [pooled], [node.name], perm=_TO_NHWC)
    b.shapes[node.name] = (shape[0], out_h, out_w, shape[3])


def _padding(
    node: TfNode, size: Sequence[int], kernel: tuple[int, int], strides: Sequence[int], dilations: Sequence[int]
) -> tuple[list[int], int, int]:
    """ONNX pads [top, left, bottom, right] and the output size for TF's VALID or SAME."""
    mode = node.attr_string("padding") or "VALID"
    if mode not in ("VALID", "SAME"):
        raise InvalidInputError(f"{node.name}: padding {mode} is not converted", code="bad_model")
    begin, end, out = [], [], []
    for length, k, s, d in zip(size, kernel, strides, dilations, strict=True):
        span = (k - 1) * d + 1
        if mode == "VALID":
            out.append((length - span) // s + 1)
            begin.append(0)
            end.append(0)
        else:
            n = -(-length // s)
            total = max(0, (n - 1) * s + span - length)
            out.append(n)
            begin.append(total // 2)
            end.append(total - total // 2)
    return begin + end, out[0], out[1]


def _resize(b: _Builder, node: TfNode, x: str, shape: tuple[int, ...], size: np.ndarray) -> None:
    if node.attr_bool("align_corners"):
        mode = "align_corners"
    elif node.attr_bool("half_pixel_centers"):
        mode = "half_pixel"
    else:
        mode = "asymmetric"
    if b.follow is not None:
        along_h, along_w = b.follow[len(b.factors)]
        out_h, out_w = round(shape[1] * along_h), round(shape[2] * along_w)
    else:
        out_h, out_w = int(size[0]), int(size[1])
    b.factors.append((out_h / shape[1], out_w / shape[2]))
    factors = np.array([1.0, 1.0, *b.factors[-1]], dtype=np.float32)
    scales = numpy_helper.from_array(factors, b.fresh("scales"))
    b.initializers.append(scales)
    nchw, resized = b.fresh(node.name + "_nchw"), b.fresh(node.name + "_resized")
    b.add("Transpose", [b.tensor(x)], [nchw], perm=_TO_NCHW)
    b.add("Resize", [nchw, "", scales.name], [resized], mode="linear", coordinate_transformation_mode=mode)
    b.add("Transpose", [resized], [node.name], perm=_TO_NHWC)
    b.shapes[node.name] = (shape[0], out_h, out_w, shape[3])


def _resolve_shape(shape: Sequence[int], target: np.ndarray) -> list[int]:
    resolved = [int(t) if t != 0 else int(shape[i]) for i, t in enumerate(target)]
    if -1 in resolved:
        known = int(np.prod([r for r in resolved if r != -1]))
        resolved[resolved.index(-1)] = int(np.prod(shape)) // known
    return resolved


def _evaluate(b: _Builder, node: TfNode, inputs: list[str]) -> np.ndarray:
    """A node whose inputs are all constant, computed now."""
    values = [b.constants[i] for i in inputs]
    op = node.op
    if op == "SparseToDense":
        indices, output_shape, sparse_values, default = values
        dense = np.full(tuple(int(s) for s in np.atleast_1d(output_shape)), default, dtype=default.dtype)
        flat_values = np.broadcast_to(sparse_values, (len(indices),))
        for index, value in zip(np.atleast_2d(indices), flat_values, strict=False):
            dense[tuple(int(i) for i in index)] = value
        return dense
    if op in ("Add", "AddV2"):
        return np.asarray(values[0] + values[1])
    if op == "ConcatV2":
        return np.concatenate(values[:-1], axis=int(values[-1]))
    if op == "Reshape":
        return values[0].reshape([int(v) for v in values[1]])
    if op == "Transpose":
        return values[0].transpose([int(v) for v in values[1]])
    raise InvalidInputError(f"{node.name}: constant {op} is not evaluated by this converter", code="bad_model")
