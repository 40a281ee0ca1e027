from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from sharpeyes.core.media import EncodedPacket, StreamInfo
from sharpeyes.media.relay import PacketRelay

INFO = StreamInfo("h264", 320, 240, Fraction(1, 90000), None)


def _packet(index: int, keyframe: bool = False) -> EncodedPacket:
    return EncodedPacket(bytes([index % 256]), index, index, Fraction(1, 10), keyframe, float(index))


def test_every_consumer_sees_every_packet_in_order() -> None:
    relay = PacketRelay(gop_packets_max=100, consumer_queue_packets=100)
    first, second = relay.subscribe("recorder"), relay.subscribe("viewer")
    for index in range(10):
        relay.publish(_packet(index, keyframe=index == 0))
    for subscription in (first, second):
        got = [subscription.get(0.01) for _ in range(10)]
        assert [p.pts for p in got if isinstance(p, EncodedPacket)] == list(range(10))
        assert subscription.get(0.01) is None


def test_a_new_connection_reaches_consumers_before_its_packets() -> None:
    relay = PacketRelay(gop_packets_max=100, consumer_queue_packets=4)
    relay.set_info(INFO)
    late = relay.subscribe("late")
    assert late.get(0.01) == INFO, "a consumer joining mid-stream learns the stream first"
    for index in range(6):
        relay.publish(_packet(index))
    other = replace(INFO, width=640)
    relay.set_info(other)
    items = [late.get(0.01) for _ in range(4)]
    assert items[-1] == other, "a stream change is never dropped, even from a full queue"
    assert [p.pts for p in items[:-1] if isinstance(p, EncodedPacket)] == [1, 2, 3], "the oldest packet made room"


def test_a_slow_consumer_drops_and_counts_without_holding_others_back() -> None:
    relay = PacketRelay(gop_packets_max=100, consumer_queue_packets=8)
    slow, fast = relay.subscribe("slow"), relay.subscribe("fast")
    for index in range(20):
        relay.publish(_packet(index))
        assert fast.get(0.01) is not None
    assert slow.dropped == 12
    relay.unsubscribe(slow)
    assert relay.consumer_count == 1


def test_gop_starts_at_the_latest_keyframe() -> None:
    relay = PacketRelay(gop_packets_max=100, consumer_queue_packets=8)
    assert relay.gop() is None
    relay.set_info(INFO)
    relay.publish(_packet(0))
    assert relay.gop() is None, "nothing decodable before the first keyframe"
    for index in range(1, 8):
        relay.publish(_packet(index, keyframe=index in (1, 5)))
    gop = relay.gop()
    assert gop is not None
    assert [p.pts for p in gop.packets] == [5, 6, 7]
    assert gop.serial == 8


def test_gop_without_keyframes_for_too_long_is_dropped() -> None:
    relay = PacketRelay(gop_packets_max=10, consumer_queue_packets=8)
    relay.set_info(INFO)
    for index in range(12):
        relay.publish(_packet(index, keyframe=index == 0))
    assert relay.gop() is None
    relay.publish(_packet(12, keyframe=True))
    assert relay.gop() is not None


def test_reconnect_discards_the_old_gop() -> None:
    relay = PacketRelay(gop_packets_max=10, consumer_queue_packets=8)
    relay.set_info(INFO)
    relay.publish(_packet(0, keyframe=True))
    relay.set_info(INFO)
    assert relay.gop() is None
