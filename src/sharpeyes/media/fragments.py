"""Following a relay as fMP4: each upstream connection's packets remuxed into one fragment (moof + mdat) per
frame, starting at the latest keyframe so a follower has a picture at once. Nothing is decoded or re-encoded,
except streams browsers cannot play (``transcode``). The low-latency live feed and the live HLS segmenter are both
followers."""

from __future__ import annotations

import contextlib
import io
import logging
import threading
from typing import Any

import av

from sharpeyes.core.media import EncodedPacket, StreamInfo
from sharpeyes.media.overlay import FramePainter
from sharpeyes.media.relay import PacketRelay
from sharpeyes.media.transcode import BrowserTranscoder, needs_transcoding

logger = logging.getLogger(__name__)

FRAGMENT_OPTIONS = {"movflags": "empty_moov+default_base_moof+frag_every_frame"}


class _Capture(io.RawIOBase):
    """A write-only file that hands out what the muxer wrote since the last call."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        return len(chunk)

    def take(self) -> bytes:
        data, self._chunks = b"".join(self._chunks), []
        return data


class Fragmenter:
    """Remuxes one connection's packets into fMP4: ``init`` once, then a fragment (moof + mdat) per packet."""

    def __init__(self, info: StreamInfo) -> None:
        assert info.mp4_init is not None
        self.info = info
        self._capture = _Capture()
        template = av.open(io.BytesIO(info.mp4_init))
        self._output = av.open(self._capture, "w", format="mp4", options=FRAGMENT_OPTIONS)
        self._stream = self._output.add_stream_from_template(template.streams.video[0])
        template.close()
        self._output.start_encoding()
        self.init = self._capture.take()
        self._shift: int | None = None

    def push(self, packet: EncodedPacket) -> bytes:
        """Mux one packet; returns the bytes of the fragment it completes: the muxer finishes a frame's fragment
        when the next frame arrives (it needs the frame's duration), so this is the previous packet's."""
        ts = packet.dts if packet.dts is not None else packet.pts or 0
        if self._shift is None:
            self._shift = -ts  # the browser's timeline starts at zero
        out = av.Packet(packet.data)
        out.dts = ts + self._shift
        out.pts = (packet.pts if packet.pts is not None else ts) + self._shift
        out.time_base = packet.time_base
        out.is_keyframe = packet.keyframe
        out.stream = self._stream
        self._output.mux(out)
        return self._capture.take()

    def close(self) -> None:
        with contextlib.suppress(av.FFmpegError, OSError, ValueError):
            self._output.close()


class RelayFollower:
    """Follows a relay on its own thread, from its latest keyframe, until stopped or the relay closes. Streams a
    browser cannot play (H.265), and any stream a ``painter`` paints masks into, are transcoded to H.264 for the
    follower (``transcode``).

    Subclasses say what to do with each connection's stream (``new_stream``, returning its fragmenter), with each
    packet (``packet``), and at the end (``ended``, called exactly once).
    """

    def __init__(self, relay: PacketRelay, name: str, painter: FramePainter | None = None) -> None:
        self._relay = relay
        self._painter = painter
        self._name = name
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._source: StreamInfo | None = None
        self._fragmenter: Fragmenter | None = None
        self._transcoder: BrowserTranscoder | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def new_stream(self, info: StreamInfo) -> Fragmenter:
        raise NotImplementedError

    def packet(self, fragmenter: Fragmenter, packet: EncodedPacket) -> None:
        raise NotImplementedError

    def ended(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        subscription = self._relay.subscribe(self._name)
        try:
            last_sent = 0.0
            gop = self._relay.gop()
            if gop is not None:
                self._connection(gop.info)
                for packet in gop.packets:
                    self._feed(packet)
                last_sent = gop.packets[-1].received_s
            while not self._stop.is_set():
                item = subscription.get(0.5)
                if item is None:
                    if self._relay.closed:
                        break  # the session ended: followers start again on its successor
                    continue
                if isinstance(item, StreamInfo):
                    if item is not self._source:  # each connection restarts the timeline
                        self._connection(item)
                elif item.received_s > last_sent:  # not already sent from the GOP
                    self._feed(item)
        except Exception:
            logger.exception("%s failed", self._name)
        finally:
            self._relay.unsubscribe(subscription)
            self._end_connection()
            self.ended()

    def _connection(self, info: StreamInfo) -> None:
        self._end_connection()
        self._source = info
        if needs_transcoding(info) or self._painter:
            self._transcoder = BrowserTranscoder(info, self._painter)
        elif info.mp4_init is not None:
            self._fragmenter = self.new_stream(info)

    def _feed(self, packet: EncodedPacket) -> None:
        if self._transcoder is None:
            if self._fragmenter is not None:
                self.packet(self._fragmenter, packet)
            return
        for encoded in self._transcoder.push(packet):
            if self._fragmenter is None:
                assert self._transcoder.info is not None  # known once it has encoded a frame
                self._fragmenter = self.new_stream(self._transcoder.info)
            self.packet(self._fragmenter, encoded)

    def _end_connection(self) -> None:
        if self._fragmenter is not None:
            self._fragmenter.close()
            self._fragmenter = None
        if self._transcoder is not None:
            self._transcoder.close()
            self._transcoder = None
