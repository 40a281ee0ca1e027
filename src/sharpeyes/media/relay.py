"""Fan-out of one upstream packet stream to many consumers, plus the packets since the last keyframe."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass

from sharpeyes.core.media import EncodedPacket, StreamInfo

RelayItem = EncodedPacket | StreamInfo
"""What a consumer receives: packets, and a ``StreamInfo`` before the packets of each new upstream connection."""


class Subscription:
    """A consumer's bounded queue. When the consumer lags, new packets are dropped and counted."""

    def __init__(self, name: str, max_packets: int) -> None:
        self.name = name
        self.dropped = 0
        self._queue: queue.Queue[RelayItem] = queue.Queue(maxsize=max_packets)

    def offer(self, packet: EncodedPacket) -> None:
        try:
            self._queue.put_nowait(packet)
        except queue.Full:
            self.dropped += 1

    def offer_info(self, info: StreamInfo) -> None:
        """A new connection: never dropped; packets still queued from the old one are, when there is no room."""
        while True:
            try:
                self._queue.put_nowait(info)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def get(self, timeout_s: float) -> RelayItem | None:
        """The next item, or None when none arrived within ``timeout_s``."""
        try:
            return self._queue.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def get_all(self, timeout_s: float) -> list[RelayItem]:
        """Everything queued, waiting up to ``timeout_s`` for the first item (empty when none came)."""
        first = self.get(timeout_s)
        if first is None:
            return []
        items = [first]
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                return items


@dataclass(frozen=True, slots=True)
class GopView:
    """The packets from the latest keyframe on; ``serial`` grows with every published packet."""

    info: StreamInfo
    packets: tuple[EncodedPacket, ...]
    serial: int


class PacketRelay:
    def __init__(self, *, gop_packets_max: int, consumer_queue_packets: int) -> None:
        self._lock = threading.Lock()
        self._subscriptions: list[Subscription] = []
        self._gop: list[EncodedPacket] = []
        self._info: StreamInfo | None = None
        self._serial = 0
        self._closed = False
        self._gop_max = gop_packets_max
        self._queue_max = consumer_queue_packets

    def subscribe(self, name: str) -> Subscription:
        """A new consumer; it first receives the current stream's ``StreamInfo`` when there is one."""
        subscription = Subscription(name, self._queue_max)
        with self._lock:
            self._subscriptions.append(subscription)
            if self._info is not None:
                subscription.offer_info(self._info)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    @property
    def closed(self) -> bool:
        """The session that fed this relay has ended: consumers should leave."""
        return self._closed

    def close(self) -> None:
        self._closed = True

    @property
    def consumer_count(self) -> int:
        with self._lock:
            return len(self._subscriptions)

    def set_info(self, info: StreamInfo) -> None:
        """A (re)connected upstream: earlier packets cannot be decoded with the new parameters."""
        with self._lock:
            self._info = info
            self._gop.clear()
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.offer_info(info)

    def publish(self, packet: EncodedPacket) -> None:
        with self._lock:
            self._serial += 1
            if packet.keyframe:
                self._gop = [packet]
            elif self._gop and len(self._gop) < self._gop_max:
                self._gop.append(packet)
            else:
                self._gop.clear()  # no keyframe for too long: wait for the next one
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.offer(packet)

    def gop(self) -> GopView | None:
        with self._lock:
            if self._info is None or not self._gop:
                return None
            return GopView(self._info, tuple(self._gop), self._serial)
