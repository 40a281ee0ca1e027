"""The RTSP camera harness itself: clips, transports, auth, restarts, stalls, client counting."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from itertools import islice, pairwise
from pathlib import Path

import av
import av.error
import pytest

from tests.support.clips import (
    FRAME_NUMBER_BAND_ROWS,
    FRAME_NUMBER_BITS,
    make_audio_only_clip,
    make_test_clip,
)
from tests.support.rtsp import RtspServer, RtspServerError, rtsp_server_available

pytestmark = pytest.mark.rtsp

CLIP_SECONDS = 120.0
CLIP_FPS = 10
CLIP_GOP = 10
OPEN_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 5.0
USER = "alice"
PASSWORD = "s3cr:et@1"  # characters that must be escaped in a URL


@pytest.fixture(scope="session")
def harness_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("rtsp-harness")
    return make_test_clip(directory / "camera.mp4", duration_s=CLIP_SECONDS, fps=CLIP_FPS, gop=CLIP_GOP)


@pytest.fixture
def require_rtsp() -> None:
    reason = rtsp_server_available()
    if reason is not None:
        pytest.fail(reason)


@pytest.fixture
def camera(harness_clip: Path, require_rtsp: None) -> Iterator[RtspServer]:
    with RtspServer(harness_clip) as server:
        yield server
    assert not server.running


@pytest.fixture
def locked_camera(harness_clip: Path, require_rtsp: None) -> Iterator[RtspServer]:
    with RtspServer(harness_clip, user=USER, password=PASSWORD) as server:
        yield server


def read_video_packets(
    url: str,
    transport: str,
    count: int = 10,
    read_timeout_s: float = READ_TIMEOUT_S,
) -> int:
    """Open ``url`` with PyAV and demux until ``count`` non-empty video packets arrived."""
    got = 0
    deadline = time.monotonic() + 30.0
    with av.open(
        url,
        options={"rtsp_transport": transport},
        timeout=(OPEN_TIMEOUT_S, read_timeout_s),
    ) as container:
        assert container.streams.video, "the RTSP session has no video stream"
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        for packet in container.demux(stream):
            if packet.size:
                got += 1
            if got >= count or time.monotonic() > deadline:
                break
    return got


def drain(
    packets: Iterator[object],
    *,
    limit: int,
    max_s: float = 30.0,
    last_at: list[float] | None = None,
) -> int:
    """Pull up to ``limit`` packets for at most ``max_s``; record when the last one came."""
    started = time.monotonic()
    got = 0
    while got < limit and time.monotonic() - started < max_s:
        next(packets)
        got += 1
        if last_at is not None:
            last_at[0] = time.monotonic()
    return got


def luma_rows(frame: av.VideoFrame, rows: int) -> bytes:
    plane = frame.planes[0]
    data = bytes(plane)
    return b"".join(data[r * plane.line_size : r * plane.line_size + frame.width] for r in range(rows))


def decode_frame_number(frame: av.VideoFrame) -> int:
    plane = frame.planes[0]
    data = bytes(plane)
    row = FRAME_NUMBER_BAND_ROWS // 2 * plane.line_size
    cell = frame.width // FRAME_NUMBER_BITS
    value = 0
    for bit in range(FRAME_NUMBER_BITS):
        value = (value << 1) | (data[row + bit * cell + cell // 2] > 128)
    return value


# -- clips ----------------------------------------------------------------------------


def test_clip_is_h264_yuv420p_with_short_gop_and_moving_content(harness_clip: Path) -> None:
    with av.open(str(harness_clip)) as container:
        assert len(container.streams.video) == 1
        assert not container.streams.audio
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 240)
        assert stream.average_rate == CLIP_FPS
        assert container.duration is not None
        assert abs(container.duration / 1_000_000 - CLIP_SECONDS) < 1.0

        keyframes = [packet.is_keyframe for packet in islice(container.demux(stream), 3 * CLIP_GOP)]
        assert [i for i, key in enumerate(keyframes) if key] == [0, CLIP_GOP, 2 * CLIP_GOP]

        container.seek(0)
        frames = list(islice(container.decode(stream), 5))
    assert [decode_frame_number(frame) for frame in frames] == [0, 1, 2, 3, 4]
    bodies = [luma_rows(frame, frame.height) for frame in frames]
    assert all(a != b for a, b in pairwise(bodies)), "consecutive frames must differ"


def test_audio_only_clip_has_audio_and_no_video(tmp_path: Path) -> None:
    for name in ("tone.m4a", "tone.wav"):
        path = make_audio_only_clip(tmp_path / name, duration_s=1.5)
        with av.open(str(path)) as container:
            assert not container.streams.video
            assert len(container.streams.audio) == 1
            assert container.duration is not None
            assert abs(container.duration / 1_000_000 - 1.5) < 0.2


# -- transports -------------------------------------------------------------------------


def test_tcp_interleaved_delivers_video(camera: RtspServer) -> None:
    assert camera.running
    assert read_video_packets(camera.url, "tcp") >= 10


def test_udp_delivers_video(camera: RtspServer) -> None:
    assert read_video_packets(camera.url, "udp") >= 10


def test_each_connection_plays_the_clip_from_its_start(camera: RtspServer) -> None:
    options = {"rtsp_transport": "tcp"}
    with av.open(camera.url, options=options, timeout=(OPEN_TIMEOUT_S, READ_TIMEOUT_S)) as first:
        first_frames = first.decode(video=0)
        assert decode_frame_number(next(first_frames)) < CLIP_FPS
        # Let the first client get well into the clip while it stays connected.
        number = 0
        for frame in islice(first_frames, 20 * CLIP_FPS):
            number = decode_frame_number(frame)
            if number >= 2 * CLIP_FPS:
                break
        assert number >= 2 * CLIP_FPS
        with av.open(camera.url, options=options, timeout=(OPEN_TIMEOUT_S, READ_TIMEOUT_S)) as second:
            assert decode_frame_number(next(second.decode(video=0))) < CLIP_FPS
        # The second client's PLAY must not have rewound the first client's stream.
        later = [decode_frame_number(frame) for frame in islice(first_frames, 2 * CLIP_FPS)]
        assert later == list(range(number + 1, number + 1 + len(later)))
        assert len(later) == 2 * CLIP_FPS


# -- authentication ---------------------------------------------------------------------


def test_url_carries_escaped_credentials(locked_camera: RtspServer) -> None:
    port = locked_camera.port
    assert locked_camera.url_without_credentials == f"rtsp://127.0.0.1:{port}/cam"
    assert locked_camera.url == f"rtsp://alice:s3cr%3Aet%401@127.0.0.1:{port}/cam"


def test_missing_or_wrong_credentials_get_401(locked_camera: RtspServer) -> None:
    wrong = locked_camera.url.replace("s3cr%3Aet%401", "nope")
    for url in (locked_camera.url_without_credentials, wrong):
        with pytest.raises(av.error.HTTPUnauthorizedError, match="401"):
            read_video_packets(url, "tcp")


def test_right_credentials_get_video(locked_camera: RtspServer) -> None:
    assert read_video_packets(locked_camera.url, "tcp") >= 10


def test_server_challenges_with_digest(locked_camera: RtspServer) -> None:
    request = (
        f"DESCRIBE {locked_camera.url_without_credentials} RTSP/1.0\r\n"
        "CSeq: 1\r\nAccept: application/sdp\r\n"
        "Authorization: Basic YWxpY2U6czNjcjpldEAx\r\n\r\n"  # alice:s3cr:et@1, but Basic
    )
    with socket.create_connection(("127.0.0.1", locked_camera.port), timeout=5.0) as sock:
        sock.sendall(request.encode())
        reply = b""
        deadline = time.monotonic() + 5.0
        while b"\r\n\r\n" not in reply and time.monotonic() < deadline:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    head = reply.decode(errors="replace")
    assert head.startswith("RTSP/1.0 401"), head
    assert "WWW-Authenticate: Digest" in head, head


# -- lifecycle --------------------------------------------------------------------------


def test_restart_keeps_the_port_and_serves_again(camera: RtspServer) -> None:
    port, url = camera.port, camera.url
    # Keep a client connected across the restart so the old socket lingers in TIME_WAIT.
    with av.open(url, options={"rtsp_transport": "tcp"}, timeout=(OPEN_TIMEOUT_S, 2.0)) as container:
        packets = container.demux(video=0)
        next(packets)
        old_pid = camera.pid
        camera.restart()
        assert camera.running
        assert camera.pid != old_pid
        assert camera.port == port
        assert camera.url == url
        with pytest.raises((StopIteration, av.error.FFmpegError)):
            drain(packets, limit=1000)
    assert read_video_packets(url, "tcp") >= 10


def test_stop_refuses_connections_and_start_recovers(camera: RtspServer) -> None:
    camera.stop()
    assert not camera.running
    camera.stop()  # idempotent
    with pytest.raises(av.error.ConnectionRefusedError):
        read_video_packets(camera.url, "tcp")
    camera.start()
    assert read_video_packets(camera.url, "tcp") >= 10


def test_pause_stalls_reads_until_the_read_timeout_and_resume_recovers(camera: RtspServer) -> None:
    read_timeout_s = 2.0
    with av.open(camera.url, options={"rtsp_transport": "tcp"}, timeout=(OPEN_TIMEOUT_S, read_timeout_s)) as container:
        packets = container.demux(video=0)
        for _ in range(10):
            next(packets)
        camera.pause()
        assert camera.paused
        assert camera.running
        # Whatever was already in flight may still come out; then reads must stall.
        last_packet_at = [time.monotonic()]
        with pytest.raises(av.error.ExitError):
            drain(packets, limit=10_000, max_s=30.0, last_at=last_packet_at)
        stalled_for = time.monotonic() - last_packet_at[0]
    assert read_timeout_s - 0.5 <= stalled_for <= read_timeout_s + 3.0
    camera.resume()
    assert not camera.paused
    assert read_video_packets(camera.url, "tcp") >= 10


def test_client_count_increments_per_connection(camera: RtspServer) -> None:
    assert camera.client_count == 0
    read_video_packets(camera.url, "tcp", count=1)
    assert camera.wait_for_clients(1)
    read_video_packets(camera.url, "udp", count=1)
    assert camera.wait_for_clients(2)
    time.sleep(0.3)
    assert camera.client_count == 2


def test_start_failure_reports_stderr(tmp_path: Path, require_rtsp: None) -> None:
    clip = tmp_path / "camera.mp4"
    clip.write_bytes(b"not read before the port check")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        server = RtspServer(clip, port=blocker.getsockname()[1], bind_retry_s=1.0)
        started = time.monotonic()
        with pytest.raises(RtspServerError, match="cannot listen on the RTSP port"):
            server.start()
        assert time.monotonic() - started < 10.0
    assert not server.running
