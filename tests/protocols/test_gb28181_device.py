"""GB/T 28181 against a device played in the test: the catalog gathered from several MESSAGEs, DeviceInfo, PTZ
controls, and live media (PS over RTP from a real clip, over UDP and over TCP) read as a source like any camera's;
the two failures of live view (no answer to INVITE; an answer but no media) told apart."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sharpeyes.core.cameras import RtspTransport
from sharpeyes.core.errors import SourceStalledError, SourceUnreachableError
from sharpeyes.core.settings import Gb28181Settings
from sharpeyes.protocols.gb28181 import catalog, ptz
from sharpeyes.protocols.gb28181 import server as server_module
from sharpeyes.protocols.gb28181.server import SipServer
from sharpeyes.protocols.gb28181.source import GbSource
from sharpeyes.protocols.sources import SourceOptions
from tests.support.clips import make_test_clip
from tests.support.gb_device import ChannelSpec, DeviceBehaviour, SimulatedDevice
from tests.support.waiting import wait_for

DEVICE = "34020000001180000001"
PASSWORD = "12345678-device"
CHANNELS = [
    ChannelSpec(f"3402000000131000000{n}", f"东门{n}号", "340202", longitude=118.38 + n / 100, latitude=31.33)
    for n in range(1, 6)
]


@pytest.fixture
def server() -> Iterator[SipServer]:
    """The SIP server on its own event loop thread, as the platform runs it."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    sip = SipServer(Gb28181Settings(enabled=True, port=0, password=PASSWORD, invite_timeout_s=2, media_timeout_s=2))
    asyncio.run_coroutine_threadsafe(sip.start(), loop).result(5)
    yield sip
    asyncio.run_coroutine_threadsafe(sip.stop(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def _ask(server: SipServer, work):  # type: ignore[no-untyped-def]
    assert server.loop is not None
    return asyncio.run_coroutine_threadsafe(work, server.loop).result(20)


@pytest.mark.parametrize("transport", ["UDP", "TCP"])
def test_the_catalog_comes_back_whole_from_several_messages(
    server: SipServer, car_footage: Path, transport: str
) -> None:
    with SimulatedDevice(DEVICE, PASSWORD, server.port, car_footage, CHANNELS, transport) as device:
        assert device.registered.wait(5)
        answer = _ask(server, server.query(DEVICE, "Catalog"))
        assert answer.complete
        assert len(answer.parts) == 3, "five items, two per message"
        channels = [item for part in answer.parts for item in catalog.items(part)]
        assert [c.channel_id for c in channels] == [c.channel_id for c in CHANNELS]
        assert channels[0].name == "东门1号"
        assert channels[0].civil_code == "340202"
        assert channels[0].longitude == pytest.approx(118.39)
        assert channels[0].is_camera
        assert channels[0].online
        info = _ask(server, server.query(DEVICE, "DeviceInfo"))
        assert info.parts[0].fields["Manufacturer"] == "Sim"


def test_a_catalog_with_a_part_missing_is_given_up_on_after_a_gap(
    server: SipServer, car_footage: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_module, "ANSWER_GAP_S", 0.5)
    lossy = DeviceBehaviour(missing_items=2)
    with SimulatedDevice(DEVICE, PASSWORD, server.port, car_footage, CHANNELS, behaviour=lossy) as device:
        assert device.registered.wait(5)
        answer = _ask(server, server.query(DEVICE, "Catalog"))
    assert not answer.complete
    assert sum(len(catalog.items(part)) for part in answer.parts) == 5


def test_a_ptz_command_reaches_the_device(server: SipServer, car_footage: Path) -> None:
    with SimulatedDevice(DEVICE, PASSWORD, server.port, car_footage, CHANNELS) as device:
        assert device.registered.wait(5)
        _ask(server, server.control(DEVICE, CHANNELS[0].channel_id, {"PTZCmd": ptz.move("left", 0.5)}))
        assert device.controls == [{"channel": CHANNELS[0].channel_id, "PTZCmd": ptz.move("left", 0.5)}]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_live_media_is_read_like_any_source(server: SipServer, car_footage: Path, transport: RtspTransport) -> None:
    with SimulatedDevice(DEVICE, PASSWORD, server.port, car_footage, CHANNELS) as device:
        assert device.registered.wait(5)
        source = GbSource(server, DEVICE, CHANNELS[0].channel_id, SourceOptions(rtsp_transport=transport),
                          invite_timeout_s=2, media_timeout_s=2)  # fmt: skip
        try:
            info = source.open()
            assert (info.codec, info.width, info.height) == ("h264", 768, 432)
            packets = []
            for packet in source.packets():
                packets.append(packet)
                if len(packets) == 30:
                    break
        finally:
            source.close()
        assert packets[0].keyframe
        assert device.invites[0].transport == transport.upper()
        assert device.invites[0].kind == "Play"
        assert len(device.invites[0].ssrc) == 10
        assert device.invites[0].ssrc.startswith("0"), "0: live"
        wait_for(lambda: device.byes == 1, 5, "the device was sent BYE")


def test_h265_live_media_is_read_too(server: SipServer, tmp_path: Path) -> None:
    clip = make_test_clip(tmp_path / "h265.mp4", duration_s=4.0, fps=10, gop=10, codec="libx265")
    with SimulatedDevice(DEVICE, PASSWORD, server.port, clip, CHANNELS) as device:
        assert device.registered.wait(5)
        source = _source(server)
        try:
            info = source.open()
            packets = [packet for packet, _ in zip(source.packets(), range(12), strict=False)]
        finally:
            source.close()
    assert (info.codec, info.width, info.height) == ("hevc", 320, 240)
    assert packets[0].keyframe
    assert len(packets) == 12


def test_no_answer_to_invite_and_no_media_are_told_apart(server: SipServer, car_footage: Path) -> None:
    silent_device = DeviceBehaviour(answer_invite=False)
    with SimulatedDevice(DEVICE, PASSWORD, server.port, car_footage, CHANNELS, behaviour=silent_device) as device:
        assert device.registered.wait(5)
        source = _source(server)
        with pytest.raises(SourceUnreachableError, match="no answer to INVITE") as silent:
            source.open()
        source.close()
        assert silent.value.code == "invite_timeout"
        device.behaviour.answer_invite, device.behaviour.send_media = True, False
        source = _source(server)
        with pytest.raises(SourceStalledError, match=r"answered the INVITE .* but no media arrived") as mute:
            source.open()
        source.close()
        assert mute.value.code == "no_media"
        wait_for(lambda: device.byes == 1, 5, "the answered INVITE was ended with BYE")
    with pytest.raises(SourceUnreachableError, match="not registered"):
        _source(server, "34020000001180000009").open()


def _source(server: SipServer, device_id: str = DEVICE) -> GbSource:
    return GbSource(server, device_id, CHANNELS[0].channel_id, SourceOptions(), invite_timeout_s=1, media_timeout_s=1)
