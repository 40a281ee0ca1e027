"""Painting into decoded pictures before they are encoded again: privacy masks (opaque grey polygons) and a
visible watermark line. Works on the YUV planes directly — no colour conversion — so it costs little next to the
encoder it feeds."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import av
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from sharpeyes.core.masks import MaskPolygon

MASK_LUMA = 96
"""The grey masks are painted in (Y; chroma neutral): plainly a mask, not a dark scene."""
CJK_FONTS = ("NotoSansCJK-Regular.ttc", "NotoSansSC-Regular.otf", "wqy-microhei.ttc", "wqy-zenhei.ttc")
"""Fonts with Chinese tried for the watermark, by file name in the system's font folders; without one, Pillow's
own font draws it (Latin letters and digits; other characters show as boxes)."""

PAINTED_JPEG_QUALITY = 85

Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class _Patch:
    """Where one mask touches a plane (its bounding box) and the value painted there."""

    rows: slice
    columns: slice
    where: Mask
    value: int

    @classmethod
    def around(cls, mask: Mask, value: int) -> _Patch | None:
        rows, columns = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
        if not len(rows):
            return None
        box = (slice(int(rows[0]), int(rows[-1]) + 1), slice(int(columns[0]), int(columns[-1]) + 1))
        return cls(box[0], box[1], mask[box], value)


class FramePainter:
    """Paints ``polygons`` (picture fractions) and an optional ``watermark`` line into each picture."""

    def __init__(self, polygons: Sequence[MaskPolygon], watermark: str | None = None) -> None:
        self.polygons = tuple(polygons)
        self.watermark = watermark or None
        self._layouts: dict[tuple[int, int], tuple[list[_Patch], list[_Patch]]] = {}

    def __bool__(self) -> bool:
        return bool(self.polygons or self.watermark)

    def paint(self, frame: av.VideoFrame) -> av.VideoFrame:
        """``frame`` as yuv420p with the masks and watermark painted in (same timestamps). It is painted in place
        once made writable — FFmpeg copies it first when the decoder still holds it as a reference — and only the
        masks' bounding boxes are touched."""
        width, height = frame.width - frame.width % 2, frame.height - frame.height % 2
        picture = frame
        if frame.format.name != "yuv420p" or (width, height) != (frame.width, frame.height):
            picture = frame.reformat(width=width, height=height, format="yuv420p")
            picture.pts = frame.pts
            if frame.time_base is not None:
                picture.time_base = frame.time_base
        picture.make_writable()
        luma, blue, red = (
            np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]
            for plane in picture.planes
        )
        luma_patches, chroma_patches = self._layout(width, height)
        for patch in luma_patches:
            luma[patch.rows, patch.columns][patch.where] = patch.value
        for patch in chroma_patches:
            blue[patch.rows, patch.columns][patch.where] = patch.value
            red[patch.rows, patch.columns][patch.where] = patch.value
        return picture

    def _layout(self, width: int, height: int) -> tuple[list[_Patch], list[_Patch]]:
        """The patches for the luma plane and for both chroma planes, made once per picture size."""
        layout = self._layouts.get((width, height))
        if layout is None:
            masks = _polygon_mask(self.polygons, width, height)
            luma = [(masks, MASK_LUMA)]
            chroma = [(masks[::2, ::2] | masks[1::2, 1::2], 128)]
            if self.watermark:
                ink, halo = _text_masks(self.watermark, width, height)
                luma += [(halo, 16), (ink, 235)]
                chroma.append((halo[::2, ::2], 128))
            layout = (
                [p for p in (_Patch.around(mask, value) for mask, value in luma) if p is not None],
                [p for p in (_Patch.around(mask, value) for mask, value in chroma) if p is not None],
            )
            self._layouts[(width, height)] = layout
        return layout


def _polygon_mask(polygons: Sequence[MaskPolygon], width: int, height: int) -> Mask:
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for polygon in polygons:
        draw.polygon([(x * width, y * height) for x, y in polygon.points], fill=255, outline=255)
    return np.asarray(canvas) > 0


def _text_masks(text: str, width: int, height: int) -> tuple[Mask, Mask]:
    """The letters and their dark outline, at the picture's bottom left, sized to its height."""
    font = _font(max(12, height // 28))
    margin = max(4, height // 60)
    ink_image = Image.new("L", (width, height), 0)
    halo_image = Image.new("L", (width, height), 0)
    at = (margin, height - margin - font.size - font.size // 3)
    ImageDraw.Draw(halo_image).text(at, text, font=font, fill=255, stroke_width=max(1, font.size // 10))
    ImageDraw.Draw(ink_image).text(at, text, font=font, fill=255)
    return np.asarray(ink_image) > 127, np.asarray(halo_image) > 0


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    for name in CJK_FONTS:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    font = ImageFont.load_default(size=size)
    assert isinstance(font, ImageFont.FreeTypeFont)  # Pillow's wheels carry FreeType
    return font


def paint_jpeg(jpeg: bytes, polygons: Sequence[MaskPolygon]) -> bytes:
    """A JPEG picture with ``polygons`` painted over it (the grey of the video masks)."""
    image = Image.open(io.BytesIO(jpeg)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for polygon in polygons:
        corners = [(x * image.width, y * image.height) for x, y in polygon.points]
        draw.polygon(corners, fill=(MASK_LUMA,) * 3, outline=(MASK_LUMA,) * 3)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=PAINTED_JPEG_QUALITY)
    return out.getvalue()
