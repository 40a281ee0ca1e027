"""A user-supplied CLIP-style model behind the same search: pictures and words in one space, so a description the
parser does not know still finds the track that looks like it. The model here is a small one made for the test
(the encoders' maths is the user's; what is tested is how the platform loads, feeds and searches with them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import onnx
import pytest
from fastapi.testclient import TestClient
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, pre_tokenizers

from sharpeyes.analytics.clip import CLIP_MEAN, CLIP_STD, ClipEmbedder
from sharpeyes.api.app import create_app
from sharpeyes.cli.wiring import build_runtime
from sharpeyes.core.errors import InvalidInputError
from sharpeyes.core.settings import Settings
from sharpeyes.core.tracks import TrackRecord
from sharpeyes.services.cameras import CameraDraft
from tests.conftest import ADMIN_PASSWORD

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR
WORDS = {"[PAD]": 0, "[UNK]": 1, "scarlet": 2, "crimson": 3, "navy": 4}


def _seen(bgr: tuple[int, int, int]) -> np.ndarray:
    """What the toy image encoder makes of a plain picture of this colour: its normalised RGB, and a zero."""
    rgb = np.array(bgr[::-1], np.float32) / 255.0
    return np.append((rgb - CLIP_MEAN) / CLIP_STD, 0.0).astype(np.float32)


def _toy_model(folder: Path) -> Path:
    """Image encoder: mean colour → 4 values; text encoder: the sum of its words' rows (red words near red)."""
    folder.mkdir()
    image = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["pixel_values"], ["mean"], axes=[2, 3], keepdims=0),
            helper.make_node("MatMul", ["mean", "lift"], ["image_embeds"]),
        ],
        "image",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["n", 3, 32, 32])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["n", 4])],
        [numpy_helper.from_array(np.eye(3, 4, dtype=np.float32), "lift")],
    )
    rows = np.zeros((len(WORDS), 4), np.float32)
    rows[WORDS["scarlet"]] = rows[WORDS["crimson"]] = _seen(RED)
    rows[WORDS["navy"]] = _seen(BLUE)
    text = helper.make_graph(
        [
            helper.make_node("Gather", ["table", "input_ids"], ["each"]),
            helper.make_node("ReduceSum", ["each", "axis"], ["text_embeds"], keepdims=0),
        ],
        "text",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, 8])],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, [1, 4])],
        [numpy_helper.from_array(rows, "table"), numpy_helper.from_array(np.array([1], np.int64), "axis")],
    )
    for graph, name in ((image, "image.onnx"), (text, "text.onnx")):
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), folder / name)
    tokenizer = Tokenizer(models.WordLevel(WORDS, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(folder / "tokenizer.json"))
    return folder


def _plain(bgr: tuple[int, int, int]) -> np.ndarray:
    return np.full((64, 32, 3), bgr, np.uint8)


def test_the_model_puts_pictures_and_words_in_one_space(tmp_path: Path) -> None:
    embedder = ClipEmbedder(_toy_model(tmp_path / "clip"))
    assert embedder.size == 4
    red, blue = embedder.embed([_plain(RED), _plain(BLUE)])
    assert float(embedder.embed_text("scarlet") @ red) > 0.99
    assert float(embedder.embed_text("navy") @ blue) > 0.99
    assert float(embedder.embed_text("scarlet") @ blue) < 0.5
    (tmp_path / "clip" / "text.onnx").unlink()
    with pytest.raises(InvalidInputError, match=r"lacks text\.onnx"):
        ClipEmbedder(tmp_path / "clip")


def test_search_ranks_tracks_by_a_description_the_model_reads(settings: Settings, tmp_path: Path) -> None:
    model = _toy_model(tmp_path / "clip")
    chosen = settings.model_copy(
        update={"analytics": settings.analytics.model_copy(update={"appearance_model": model})}
    )
    runtime = build_runtime(chosen, with_streams=False)
    runtime.services.accounts.create_admin(ADMIN_PASSWORD)
    gate = runtime.services.cameras.add(CameraDraft("gate", "rtsp://127.0.0.1:1/a"))
    start = datetime.now(UTC) - timedelta(minutes=30)
    ids = {}
    for name, colour in (("red", RED), ("blue", BLUE)):
        record = TrackRecord(gate.id, "person", start, start + timedelta(seconds=10), upper_colour=None)
        ids[name] = runtime.services.tracks.keep(record, _plain(colour))
    with TestClient(create_app(runtime.settings, runtime.services)) as client:
        token = client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        body = {"text": "crimson", "reason": "lost child report 2026-121"}
        answer = client.post("/api/v1/search", json=body, headers=auth)
        assert answer.status_code == 200, answer.text
        found = answer.json()
        assert found["ignored_terms"] == [], "the model read the word the parser does not know"
        assert found["understood"]["ranked_by_model"] is True
        assert [r["track_id"] for r in found["results"]] == [ids["red"], ids["blue"]]
        assert found["results"][0]["score"] > 0.99
        navy = client.post("/api/v1/search", json=body | {"text": "navy"}, headers=auth).json()
        assert navy["results"][0]["track_id"] == ids["blue"]
        refused = client.post("/api/v1/search", json={"text": "crimson"}, headers=auth)
        assert refused.status_code == 422, "people or vehicles: a purpose first"
    runtime.services.tracks.close()
    runtime.engine.dispose()
