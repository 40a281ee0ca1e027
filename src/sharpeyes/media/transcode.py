"""H.264 for browsers from streams they cannot play (Chromium's Media Source Extensions have no H.265), or that a
viewer may only see with privacy masks painted in: decode, paint, and encode again with low-latency settings. Only
live viewers of such a camera pay for it; recordings keep the camera's own packets."""

from __future__ import annotations

import contextlib
import io
import time
from typing import cast

import av

from sharpeyes.core.media import FRAGMENTED_MP4_OPTIONS, EncodedPacket, StreamInfo
from sharpeyes.core.nal import is_annexb, length_prefixed, mp4_config
from sharpeyes.media.overlay import FramePainter

BROWSER_CODECS = frozenset({"h264"})
ENCODER_OPTIONS = {"preset": "ultrafast", "tune": "zerolatency", "x264-params": "bframes=0:scenecut=0"}
KEYFRAME_EVERY = 25
"""Frames between the encoder's keyframes: a new viewer of the transcoded stream waits at most this long."""


def needs_transcoding(info: StreamInfo) -> bool:
    return info.codec not in BROWSER_CODECS


class BrowserTranscoder:
    """One connection's packets in, H.264 packets out (``painter``: with masks painted in); ``info`` describes them
    once the first frame is encoded."""

    def __init__(self, source: StreamInfo, painter: FramePainter | None = None) -> None:
        self.source = source
        self._painter = painter
        self.info: StreamInfo | None = None
        self._decoder = cast(av.VideoCodecContext, av.CodecContext.create(source.codec, "r"))
        if source.extradata:
            self._decoder.extradata = source.extradata
        self._header = io.BytesIO()
        self._output: av.container.OutputContainer | None = None
        self._stream: av.VideoStream | None = None

    def push(self, packet: EncodedPacket) -> list[EncodedPacket]:
        """Decode ``packet``; the H.264 packets that come of it (none while the decoder fills up)."""
        incoming = av.Packet(packet.data)
        incoming.pts, incoming.dts, incoming.time_base = packet.pts, packet.dts, packet.time_base
        out: list[EncodedPacket] = []
        try:
            frames = self._decoder.decode(incoming)
        except (av.FFmpegError, ValueError):
            return out  # a damaged packet: the next keyframe repairs the picture
        for frame in frames:
            if self._painter:
                picture = self._painter.paint(frame)
            else:
                picture = frame if frame.format.name == "yuv420p" else frame.reformat(format="yuv420p")
            stream = self._encoder(picture)
            picture.pts, picture.time_base = frame.pts, packet.time_base
            picture.pict_type = av.video.frame.PictureType.NONE
            for encoded in stream.encode(picture):
                data = bytes(encoded)
                out.append(
                    EncodedPacket(
                        data=length_prefixed(data) if is_annexb(data) else data,
                        pts=encoded.pts,
                        dts=encoded.dts,
                        time_base=encoded.time_base or packet.time_base,
                        keyframe=bool(encoded.is_keyframe),
                        received_s=time.monotonic(),
                    )
                )
        return out

    def close(self) -> None:
        if self._output is not None:
            output, self._output = self._output, None
            with contextlib.suppress(av.FFmpegError, OSError, ValueError):  # a header in memory: nothing to lose
                output.close()

    def _encoder(self, frame: av.VideoFrame) -> av.VideoStream:
        """The encoder, opened at the first frame (its size is known then). It belongs to an in-memory MP4 muxer,
        which writes the initialisation segment browsers need; its packets are handed out, never muxed there."""
        if self._stream is not None:
            return self._stream
        output = av.open(self._header, "w", format="mp4", options=FRAGMENTED_MP4_OPTIONS)
        stream = output.add_stream("libx264", rate=25, options=ENCODER_OPTIONS)
        stream.width, stream.height, stream.pix_fmt = frame.width, frame.height, "yuv420p"
        stream.time_base = self.source.time_base
        stream.codec_context.gop_size = KEYFRAME_EVERY
        output.start_encoding()
        self._output, self._stream = output, stream
        mp4_init = self._header.getvalue()
        self.info = StreamInfo(
            codec="h264",
            width=frame.width,
            height=frame.height,
            time_base=self.source.time_base,
            extradata=mp4_config("h264", mp4_init),
            mp4_init=mp4_init,
        )
        return stream
