from __future__ import annotations

import http.server
import itertools
import socket
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import av
import pytest

from sharpeyes.core.errors import (
    InvalidInputError,
    SourceEndedError,
    SourceUnreachableError,
    SourceUnsupportedError,
)
from sharpeyes.protocols.sources import SourceOptions, check_source_url, open_source

FAST = SourceOptions(open_timeout_s=2.0, read_timeout_s=2.0)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "scheme"),
        ("camera-1", "scheme"),
        ("ftp://host/a.mp4", "scheme"),
        ("rtsp:///path", "no host"),
        ("file://clip.mp4", "absolute path"),
    ],
)
def test_unusable_urls_are_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason):
        check_source_url(url)


def test_refused_port_is_unreachable() -> None:
    source = open_source(f"rtsp://user:pw@127.0.0.1:{_closed_port()}/live", FAST)
    with pytest.raises(SourceUnreachableError, match="connection refused") as caught:
        source.open()
    assert "pw" not in caught.value.message


def test_missing_file_is_permanent() -> None:
    with pytest.raises(SourceUnsupportedError) as caught:
        open_source("file:///no/such/clip.mp4", FAST).open()
    assert caught.value.permanent


def test_audio_only_file_has_no_video_track(audio_clip: Path) -> None:
    with pytest.raises(SourceUnsupportedError, match="no video track") as caught:
        open_source(audio_clip.as_uri(), FAST).open()
    assert caught.value.code == "no_video"


def test_text_file_is_not_video(tmp_path: Path) -> None:
    junk = tmp_path / "notes.mp4"
    junk.write_text("this is not a video\n" * 50)
    with pytest.raises(SourceUnsupportedError):
        open_source(junk.as_uri(), FAST).open()


def test_file_source_plays_once_without_loop(clip: Path) -> None:
    source = open_source(clip.as_uri() + "?loop=0&realtime=0", FAST)
    info = source.open()
    assert (info.codec, info.width, info.height) == ("h264", 320, 240)
    count = 0
    with pytest.raises(SourceEndedError):
        for count, _packet in enumerate(source.packets(), start=1):  # noqa: B007 - counted
            pass
    source.close()
    assert count == 6000


def test_file_source_loops_with_growing_timestamps(tmp_path: Path) -> None:
    from tests.support.clips import make_test_clip

    short = make_test_clip(tmp_path / "short.mp4", duration_s=2.0)
    source = open_source(short.as_uri() + "?realtime=0", FAST)
    source.open()
    packets = list(itertools.islice(source.packets(), 50))
    source.close()
    stamps = [p.dts for p in packets if p.dts is not None]
    assert len(stamps) == 50, "looped past the end of a 20-frame clip"
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)


def test_a_one_frame_file_loops_at_its_frame_rate(tmp_path: Path) -> None:
    """Regression: a one-frame clip looped as fast as the CPU allowed (thousands of packets a second)."""
    import time

    from tests.support.clips import make_test_clip

    still = make_test_clip(tmp_path / "still.mp4", duration_s=0.1, fps=10)
    source = open_source(still.as_uri(), FAST)
    source.open()
    started = time.monotonic()
    list(itertools.islice(source.packets(), 6))
    elapsed = time.monotonic() - started
    source.close()
    assert elapsed >= 0.4, "six frames at 10 fps take half a second"


def test_file_source_is_paced_in_real_time(clip: Path) -> None:
    import time

    source = open_source(clip.as_uri(), FAST)
    source.open()
    started = time.monotonic()
    list(itertools.islice(source.packets(), 11))  # 10 fps: the 11th packet is due after 1 s
    elapsed = time.monotonic() - started
    source.close()
    assert 0.9 <= elapsed < 2.0


def _remux_to_mpegts(clip: Path, dest: Path, max_packets: int = 300) -> Path:
    """HTTP cameras send streams (MPEG-TS, FLV), not seekable MP4: remux a piece of the clip as one."""
    with av.open(str(clip)) as source, av.open(str(dest), "w", format="mpegts") as sink:
        video = source.streams.video[0]
        out = sink.add_stream_from_template(video)
        for packet in itertools.islice(source.demux(video), max_packets):
            if packet.dts is not None:
                packet.stream = out
                sink.mux(packet)
    return dest


@pytest.fixture
def http_clip_server(clip: Path, tmp_path: Path) -> Iterator[str]:
    stream = _remux_to_mpegts(clip, tmp_path / "camera.ts")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(stream.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{stream.name}"
    server.shutdown()
    server.server_close()


def test_http_source_delivers_video(http_clip_server: str) -> None:
    source = open_source(http_clip_server, FAST)
    assert source.open().codec == "h264"
    packets = list(itertools.islice(source.packets(), 20))
    source.close()
    assert packets[0].keyframe
    assert all(p.data for p in packets)


def test_http_404_is_reported(http_clip_server: str) -> None:
    with pytest.raises(SourceUnsupportedError, match="not found"):
        open_source(http_clip_server.replace(".ts", "-missing.ts"), FAST).open()


def test_a_camera_dying_mid_answer_is_retried_soon() -> None:
    """Regression: a camera stopped during its RTSP handshake was taken for 'not a video stream' (retried in 60 s)."""
    import av.error

    from sharpeyes.protocols.av_source import classify_error

    garbled = av.error.InvalidDataError(1094995529, "Invalid data found when processing input")
    assert not classify_error(garbled, opening=True, timeout_s=3.0, network=True).permanent
    assert classify_error(garbled, opening=True, timeout_s=None, network=False).permanent, "a file stays unreadable"
