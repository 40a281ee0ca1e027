"""MobileNetV2 (ImageNet) as an ONNX appearance embedder, built from its weights: the convolutional body
(``features.*`` of the usual PyTorch layout), global average pooling, a 1280-value vector out.

Each convolution's batch normalisation is folded into its weights; ReLU6 is ``Clip(0, 6)``. Blocks follow the
paper's table (expansion, channels, repeats, first stride); a block adds its input back when it keeps stride 1 and
its channel count. The body takes any input size that is a multiple of 32."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from sharpeyes.core.errors import InvalidInputError

OPSET = 17
BN_EPSILON = 1e-5
BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
"""(expansion, output channels, repeats, first stride) per stage."""
EMBEDDING_SIZE = 1280


class _Graph:
    def __init__(self, state: dict[str, np.ndarray]) -> None:
        self.state = state
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[onnx.TensorProto] = []
        self._serial = 0

    def name(self, hint: str) -> str:
        self._serial += 1
        return f"{hint}_{self._serial}"

    def conv_bn(self, x: str, conv: str, bn: str, *, stride: int, relu6: bool) -> str:
        """Convolution ``conv`` with batch norm ``bn`` folded in, optionally followed by ReLU6."""
        weight = self._get(f"{conv}.weight")
        gamma, beta = self._get(f"{bn}.weight"), self._get(f"{bn}.bias")
        mean, var = self._get(f"{bn}.running_mean"), self._get(f"{bn}.running_var")
        scale = gamma / np.sqrt(var + BN_EPSILON)
        folded = (weight * scale[:, None, None, None]).astype(np.float32)
        bias = (beta - mean * scale).astype(np.float32)
        out_channels, in_per_group, kh, kw = weight.shape
        w_name, b_name = self.name(f"{conv}.w"), self.name(f"{conv}.b")
        self.weights += [numpy_helper.from_array(folded, w_name), numpy_helper.from_array(bias, b_name)]
        groups = out_channels if in_per_group == 1 and kh == 3 else 1
        pad = kh // 2
        out = self.name(conv)
        self.nodes.append(
            helper.make_node(
                "Conv",
                [x, w_name, b_name],
                [out],
                kernel_shape=[kh, kw],
                strides=[stride, stride],
                pads=[pad, pad, pad, pad],
                group=groups,
            )
        )
        if not relu6:
            return out
        clipped = self.name(f"{conv}.relu6")
        self.nodes.append(helper.make_node("Clip", [out, "zero", "six"], [clipped]))
        return clipped

    def _get(self, key: str) -> np.ndarray:
        if key not in self.state:
            raise InvalidInputError(f"MobileNetV2 weights: {key} is missing", code="bad_model")
        return np.asarray(self.state[key], np.float32)


def build_onnx(state: dict[str, np.ndarray]) -> onnx.ModelProto:
    """The embedder for a MobileNetV2 ``features`` state dict; ``InvalidInputError`` when it is not one."""
    g = _Graph(state)
    g.weights += [
        numpy_helper.from_array(np.array(0, np.float32), "zero"),
        numpy_helper.from_array(np.array(6, np.float32), "six"),
    ]
    x = g.conv_bn("image", "features.0.0", "features.0.1", stride=2, relu6=True)
    index = 1
    for expansion, _channels, repeats, first_stride in BLOCKS:
        for repeat in range(repeats):
            stride = first_stride if repeat == 0 else 1
            prefix = f"features.{index}.conv"
            block_in = x
            if expansion == 1:  # depthwise, then linear projection
                x = g.conv_bn(x, f"{prefix}.0", f"{prefix}.1", stride=stride, relu6=True)
                x = g.conv_bn(x, f"{prefix}.3", f"{prefix}.4", stride=1, relu6=False)
            else:  # expand, depthwise, linear projection
                x = g.conv_bn(x, f"{prefix}.0", f"{prefix}.1", stride=1, relu6=True)
                x = g.conv_bn(x, f"{prefix}.3", f"{prefix}.4", stride=stride, relu6=True)
                x = g.conv_bn(x, f"{prefix}.6", f"{prefix}.7", stride=1, relu6=False)
            in_channels = g._get(f"{prefix}.0.weight").shape[0 if expansion == 1 else 1]
            out_channels = g._get(f"{prefix}.{3 if expansion == 1 else 6}.weight").shape[0]
            if stride == 1 and in_channels == out_channels:
                summed = g.name(f"{prefix}.add")
                g.nodes.append(helper.make_node("Add", [block_in, x], [summed]))
                x = summed
            index += 1
    x = g.conv_bn(x, f"features.{index}.0", f"features.{index}.1", stride=1, relu6=True)
    g.nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"]))
    g.nodes.append(helper.make_node("Flatten", ["pooled"], ["embedding"], axis=1))
    graph = helper.make_graph(
        g.nodes,
        "mobilenet_v2_embedder",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "height", "width"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, EMBEDDING_SIZE])],
        g.weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="sharpeyes")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model
