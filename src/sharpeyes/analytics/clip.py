"""A user-supplied CLIP-style model as the appearance embedder: an image encoder and a text encoder (ONNX) that put
pictures and words in one space, with the tokenizer that goes with the text encoder (a ``tokenizer.json`` of the
Hugging Face ``tokenizers`` format, which covers CLIP's byte-level BPE and Chinese-CLIP's WordPiece). With it a
description ("a man in a long grey coat") ranks tracks by likeness too, through the same search."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sharpeyes.analytics.detector import onnx_session
from sharpeyes.analytics.embedder import picture_tensor
from sharpeyes.core.errors import InvalidInputError

FILES = ("image.onnx", "text.onnx", "tokenizer.json")
CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], np.float32)
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], np.float32)
"""The normalisation CLIP's image encoders were trained with."""
DEFAULT_SIDE = 224
DEFAULT_CONTEXT = 77
"""Used when the encoders leave their picture side or token count open."""


class ClipEmbedder:
    def __init__(self, folder: Path, threads: int = 1) -> None:
        missing = [name for name in FILES if not (folder / name).is_file()]
        if missing:
            raise InvalidInputError(
                f"analytics.appearance_model: {folder} lacks {', '.join(missing)} (a CLIP-style model is a folder"
                f" with {', '.join(FILES)}) / 外观模型目录缺少文件",
                code="bad_model",
            )
        try:
            from tokenizers import Tokenizer  # an extra: only a CLIP-style model needs it
        except ImportError as err:
            raise InvalidInputError(
                "analytics.appearance_model needs the clip extra: pip install 'sharpeyes[clip]'", code="bad_model"
            ) from err
        self._image = onnx_session(folder / "image.onnx", threads)
        self._text = onnx_session(folder / "text.onnx", threads)
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        picture = self._image.get_inputs()[0]
        self._image_input = picture.name
        self._side = picture.shape[-1] if isinstance(picture.shape[-1], int) else DEFAULT_SIDE
        words = {item.name: item for item in self._text.get_inputs()}
        self._ids_input = "input_ids" if "input_ids" in words else next(iter(words))
        length = words[self._ids_input].shape[-1]
        self._context = length if isinstance(length, int) else DEFAULT_CONTEXT
        self._mask_input = "attention_mask" if "attention_mask" in words else None
        image_size, text_size = self._image.get_outputs()[0].shape[-1], self._text.get_outputs()[0].shape[-1]
        if not isinstance(image_size, int) or image_size != text_size:
            raise InvalidInputError(
                f"analytics.appearance_model: the image encoder gives {image_size} values and the text encoder"
                f" {text_size}; a CLIP-style model gives the same number from both",
                code="bad_model",
            )
        self._size = image_size

    @property
    def size(self) -> int:
        return self._size

    def embed(self, pictures: Sequence[np.ndarray]) -> np.ndarray:
        out = np.zeros((len(pictures), self._size), np.float32)
        for i, picture in enumerate(pictures):
            if picture.size == 0:
                continue
            tensor = picture_tensor(picture, self._side, CLIP_MEAN, CLIP_STD)
            (vector,) = self._image.run(None, {self._image_input: tensor})
            out[i] = _unit(np.asarray(vector, np.float32).reshape(-1))
        return out

    def embed_text(self, text: str) -> np.ndarray:
        """The unit vector of a description, in the pictures' space."""
        ids = self._tokenizer.encode(text).ids[: self._context]
        tokens = np.zeros((1, self._context), np.int64)
        tokens[0, : len(ids)] = ids
        feed = {self._ids_input: tokens}
        if self._mask_input is not None:
            feed[self._mask_input] = (np.arange(self._context) < len(ids)).astype(np.int64)[None]
        (vector,) = self._text.run(None, feed)
        return _unit(np.asarray(vector, np.float32).reshape(-1))


def _unit(vector: np.ndarray) -> np.ndarray:
    unit: np.ndarray = vector / max(1e-6, float(np.linalg.norm(vector)))
    return unit
