"""Appearance embeddings of object pictures, for search by example ("find this suitcase"): unit vectors whose dot
product says how alike two pictures look. The bundled embedder is MobileNetV2 with ImageNet features (generic, not
trained to tell people apart); a user-supplied model can take its place behind the same interface."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image

from sharpeyes.analytics.detector import onnx_session

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
INPUT_SIDE = 224
"""Pictures are seen at 224 × 224, as the package that ships the weights feeds them."""
SIZE = 256
"""Values kept per embedding: the model's 1280 features through a fixed random orthogonal projection, which keeps
the angles between vectors (to a few hundredths) at a fifth of the index's memory and scan time."""
PROJECTION_SEED = 28181


def projection(features: int, size: int = SIZE) -> np.ndarray:
    """A fixed ``features`` × ``size`` matrix with orthonormal columns (the same on every machine: the legacy
    generator's stream is stable across NumPy versions)."""
    gaussian = np.random.RandomState(PROJECTION_SEED).standard_normal((features, size))
    return np.linalg.qr(gaussian)[0].astype(np.float32)


def picture_tensor(picture: np.ndarray, side: int, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """A BGR picture as a model's 1 × 3 × side × side input, normalised by ``mean`` and ``std`` (RGB)."""
    rgb = Image.fromarray(np.ascontiguousarray(picture[:, :, ::-1])).resize((side, side))
    tensor = ((np.asarray(rgb, np.float32) / 255.0 - mean) / std).transpose(2, 0, 1)[None]
    return np.ascontiguousarray(tensor, np.float32)


class Embedder(Protocol):
    @property
    def size(self) -> int:
        """Values per embedding."""
        ...

    def embed(self, pictures: Sequence[np.ndarray]) -> np.ndarray:
        """(N, size) unit vectors for N pictures (H × W × 3 uint8 BGR)."""
        ...


@runtime_checkable
class WordsEmbedder(Embedder, Protocol):
    """An embedder that also places descriptions in its pictures' space (a CLIP-style model)."""

    def embed_text(self, text: str) -> np.ndarray:
        """The unit vector of ``text``."""
        ...


class MobileNetEmbedder:
    def __init__(self, model: Path, threads: int = 1) -> None:
        self._session = onnx_session(model, threads)
        self._input = self._session.get_inputs()[0].name
        self._projection = projection(int(self._session.get_outputs()[0].shape[1]))

    @property
    def size(self) -> int:
        return SIZE

    def embed(self, pictures: Sequence[np.ndarray]) -> np.ndarray:
        out = np.zeros((len(pictures), SIZE), np.float32)
        for i, picture in enumerate(pictures):
            if picture.size == 0:
                continue
            tensor = picture_tensor(picture, INPUT_SIDE, IMAGENET_MEAN, IMAGENET_STD)
            (vector,) = self._session.run(None, {self._input: tensor})
            projected = vector[0] @ self._projection
            out[i] = projected / max(1e-6, float(np.linalg.norm(projected)))
        return out
