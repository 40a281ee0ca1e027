"""Forwards a camera's stream to a GB/T 28181 peer (a superior platform that asked for it with INVITE): packets
from the relay, from the latest keyframe, as Annex B with the parameter sets before each keyframe, muxed into PS
over RTP by the protocol's sender. Nothing is decoded or re-encoded — unless the camera has privacy masks, which
are painted in (``painter``; H.264 then). Runs on its own thread until stopped, the stream ends, or the peer goes
away."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from fractions import Fraction

from sharpeyes.core.media import EncodedPacket, StreamInfo
from sharpeyes.core.nal import annexb, parameter_sets
from sharpeyes.media.overlay import FramePainter
from sharpeyes.media.relay import PacketRelay
from sharpeyes.media.transcode import BrowserTranscoder
from sharpeyes.protocols.gb28181.sender import MediaSender

logger = logging.getLogger(__name__)

CODECS = ("h264", "hevc")


class Forwarder:
    def __init__(
        self,
        relay: PacketRelay,
        sender: MediaSender,
        name: str,
        on_end: Callable[[], None],
        painter: FramePainter | None = None,
    ) -> None:
        self._relay = relay
        self._painter = painter
        self._transcoder: BrowserTranscoder | None = None
        self._sender = sender
        self._name = name
        self._on_end = on_end
        self._stop = threading.Event()
        self._info: StreamInfo | None = None
        self._parameter_sets = b""
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        subscription = self._relay.subscribe(self._name)
        try:
            gop = self._relay.gop()
            last_s = 0.0
            if gop is not None:
                self._new_stream(gop.info)
                for packet in gop.packets:
                    self._send(packet)
                last_s = gop.packets[-1].received_s
            while not self._stop.is_set():
                item = subscription.get(0.5)
                if item is None:
                    if self._relay.closed:
                        break
                elif isinstance(item, StreamInfo):
                    self._new_stream(item)
                elif item.received_s > last_s:
                    self._send(item)
        except OSError as err:
            logger.info("%s: the peer went away (%s)", self._name, err)
        except Exception:
            logger.exception("%s failed", self._name)
        finally:
            self._relay.unsubscribe(subscription)
            if self._transcoder is not None:
                self._transcoder.close()
            self._sender.close()
            self._on_end()

    def _new_stream(self, info: StreamInfo) -> None:
        if self._transcoder is not None:
            self._transcoder.close()
            self._transcoder = None
        if self._painter:
            self._transcoder = BrowserTranscoder(info, self._painter)
            self._info = None  # known once the first painted picture is encoded
            return
        self._use(info)

    def _use(self, info: StreamInfo) -> None:
        self._info = info
        self._parameter_sets = parameter_sets(info.codec, info.extradata)
        if info.codec not in CODECS:
            logger.warning("%s: %s cannot be carried in GB/T 28181 PS; nothing is sent", self._name, info.codec)

    def _send(self, packet: EncodedPacket) -> None:
        if self._transcoder is None:
            self._forward(packet)
            return
        for painted in self._transcoder.push(packet):
            if self._info is None and self._transcoder.info is not None:
                self._use(self._transcoder.info)
            self._forward(painted)

    def _forward(self, packet: EncodedPacket) -> None:
        info = self._info
        if info is None or info.codec not in CODECS:
            return
        data = annexb(packet.data)
        if packet.keyframe:
            data = self._parameter_sets + data
        ticks = packet.pts if packet.pts is not None else packet.dts
        pts = int((ticks or 0) * packet.time_base * 90_000) if packet.time_base != Fraction(1, 90_000) else ticks or 0
        self._sender.send(data, pts, keyframe=packet.keyframe, codec=info.codec)
