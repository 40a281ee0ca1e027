"""Live view latency: from the moment a frame is made at the camera to the moment Chromium shows it.

The simulated camera is an HTTP MPEG-TS encoder (H.264, 640x360, 25 fps, a keyframe every second, no B-frames)
that writes the wall-clock millisecond of each frame into the frame's top row as 32 black or white blocks. The
platform serves it; headless Chromium plays it and reads the blocks back from every presented frame
(``requestVideoFrameCallback`` + a canvas), so latency = clock when shown − clock written. Two paths:

- low latency: the console's live player (fMP4 over a WebSocket into Media Source Extensions);
- HLS: ``live.m3u8`` in Chromium's own ``<video>`` player.

Baseline in the same run: the same source decoded directly with PyAV (no platform, no browser), the floor set by
the encoder, the transport and a decoder. Targets: < 1 s low latency, < 4 s HLS.

    .venv/bin/python bench/live_latency.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import uvicorn
from playwright.sync_api import Page, sync_playwright

from sharpeyes.api.app import BackgroundWorker, create_app
from sharpeyes.cli.wiring import build_runtime
from sharpeyes.core.config_file import load_settings
from sharpeyes.services.camera_rules import CameraDraft
from sharpeyes.workers.periodic import Job, PeriodicJobs
from sharpeyes.workers.streams import StreamSupervisor

PASSWORD = "bench-latency-password"  # noqa: S105 - a throwaway account in a temporary data directory
WIDTH, HEIGHT, FPS, BLOCK = 640, 360, 25, 20
BITS = WIDTH // BLOCK  # 32
CHROMIUM = "/usr/bin/chromium"


def clock_code() -> int:
    return int(time.time() * 1000) % (1 << BITS)


def stamped_frame(index: int, code: int) -> av.VideoFrame:
    """A moving gradient with ``code`` in the top row, one bit per block (white = 1), least significant first."""
    luma = bytearray(((x + index * 4) % 200 + 28) for x in range(WIDTH)) * HEIGHT
    for bit in range(BITS):
        value = 235 if code >> bit & 1 else 16
        for row in range(BLOCK):
            start = row * WIDTH + bit * BLOCK
            luma[start : start + BLOCK] = bytes([value]) * BLOCK
    frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
    frame.planes[0].update(bytes(luma))
    frame.planes[1].update(bytes([128]) * (WIDTH * HEIGHT // 4))
    frame.planes[2].update(bytes([128]) * (WIDTH * HEIGHT // 4))
    return frame


def read_code(luma: bytes, line_size: int) -> int:
    row = (BLOCK // 2) * line_size
    code = 0
    for bit in range(BITS):
        if luma[row + bit * BLOCK + BLOCK // 2] > 128:
            code |= 1 << bit
    return code


class _Camera(BaseHTTPRequestHandler):
    """Each GET gets its own real-time encoder, as an encoder's HTTP output would."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "video/mp2t")
        self.end_headers()
        options = {"preset": "ultrafast", "tune": "zerolatency", "g": str(FPS), "bf": "0", "b": "2M"}
        with contextlib.suppress(OSError, av.FFmpegError), av.open(self.wfile, "w", format="mpegts") as output:
            stream = output.add_stream("libx264", rate=FPS, options=options)
            stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
            stream.codec_context.time_base = Fraction(1, FPS)
            started = time.monotonic()
            for index in range(FPS * 600):
                time.sleep(max(0.0, started + index / FPS - time.monotonic()))
                frame = stamped_frame(index, clock_code())
                frame.pts = index
                for packet in stream.encode(frame):
                    output.mux(packet)
                self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(server: ThreadingHTTPServer | uvicorn.Server) -> Iterator[None]:
    if isinstance(server, ThreadingHTTPServer):
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield
        finally:
            server.shutdown()
        return
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(10)


def direct_latencies(url: str, seconds: float) -> list[float]:
    """The baseline: decode the source here and read each frame's code as soon as it is decoded."""
    found: list[float] = []
    with av.open(url, options={"fflags": "nobuffer", "flags": "low_delay"}) as source:
        deadline = time.monotonic() + seconds
        for frame in source.decode(video=0):
            plane = frame.planes[0]
            found.append(_age_ms(read_code(bytes(plane), plane.line_size)))
            if time.monotonic() > deadline:
                break
    return found[FPS:]  # the first second is start-up, not steady state


def _age_ms(code: int) -> float:
    return float((clock_code() - code) % 2**BITS)


READ_IN_PAGE = """
([selector, width, block, bits]) => {
  window.latencies = [];
  const video = document.querySelector(selector);
  const canvas = document.createElement("canvas");
  canvas.width = width; canvas.height = block;
  const g = canvas.getContext("2d", { willReadFrequently: true });
  const onFrame = () => {
    if (video.videoWidth) {
      g.drawImage(video, 0, 0, video.videoWidth, block * video.videoWidth / width, 0, 0, width, block);
      const row = g.getImageData(0, 0, width, block).data;
      let code = 0;
      for (let bit = 0; bit < bits; bit++) {
        const at = ((block >> 1) * width + bit * block + (block >> 1)) * 4;
        if (row[at] > 128) code += 2 ** bit;
      }
      window.latencies.push((Date.now() % 2 ** bits - code + 2 ** bits) % 2 ** bits);
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}
"""


def browser_latencies(page: Page, selector: str, seconds: float) -> list[float]:
    page.wait_for_function(f"() => document.querySelector('{selector}')?.readyState >= 2", timeout=60_000)
    page.evaluate(READ_IN_PAGE, [selector, WIDTH, BLOCK, BITS])
    time.sleep(2.0)  # settle past start-up
    page.evaluate("() => { window.latencies = []; }")
    time.sleep(seconds)
    found: list[float] = page.evaluate("() => window.latencies")
    return found


def report(name: str, values: list[float]) -> float:
    if not values:
        print(f"{name:48s} no frames read")
        return math.inf
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    median = statistics.median(values)
    print(f"{name:48s} median {median:7.0f} ms  p95 {p95:7.0f} ms  ({len(values)} frames)")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="measuring time per path")
    args = parser.parse_args()
    camera_server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Camera)
    source_url = f"http://127.0.0.1:{camera_server.server_port}/live.ts"
    with tempfile.TemporaryDirectory(prefix="sharpeyes-bench-latency-") as tmp, serving(camera_server):
        direct = direct_latencies(source_url, args.seconds)
        settings = load_settings(None, data_dir=Path(tmp) / "data")
        runtime = build_runtime(settings, with_streams=True)
        services = runtime.services
        assert runtime.streams is not None
        services.accounts.create_admin(PASSWORD)
        camera = services.cameras.add(CameraDraft(name="latency", source_url=source_url))
        workers: list[BackgroundWorker] = [
            StreamSupervisor(services.cameras, runtime.streams),
            PeriodicJobs([Job("live", 5, services.live.tend)]),
        ]
        port = free_port()
        app = create_app(settings, services, workers=workers)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        base = f"http://127.0.0.1:{port}"
        with serving(server), sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
            )
            page = browser.new_page()
            page.goto(base, wait_until="networkidle")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("form#login button[type=submit]")
            tile = page.locator(f'article.camera[data-camera-id="{camera.id}"]')
            tile.wait_for(timeout=60_000)
            tile.click()
            low = browser_latencies(page, "#live video", args.seconds)
            page.click("#live-close")
            token = page.request.post(
                f"{base}/api/v1/auth/login", data={"username": "admin", "password": PASSWORD}
            ).json()["access_token"]
            page.evaluate(
                "(url) => { const v = document.createElement('video'); v.id = 'hls'; v.muted = true;"
                " v.autoplay = true; v.src = url; document.body.appendChild(v); v.play().catch(() => {}); }",
                f"{base}/api/v1/cameras/{camera.id}/live.m3u8?access_token={token}",
            )
            hls = browser_latencies(page, "#hls", args.seconds)
            browser.close()
    print(f"source: {WIDTH}x{HEIGHT} H.264 at {FPS} fps over HTTP MPEG-TS, keyframe every second")
    floor = report("baseline: PyAV decoding the source directly", direct)
    low_ms = report("sharpeyes low latency (WebSocket + MSE)", low)
    hls_ms = report("sharpeyes live HLS (Chromium's player)", hls)
    if floor > 0 and math.isfinite(floor):
        print(f"ratio low latency / baseline (median): {low_ms / floor:.1f}x; HLS / baseline: {hls_ms / floor:.1f}x")
    print(f"target low latency < 1000 ms: {'met' if low_ms < 1000 else 'MISSED'}")
    print(f"target HLS < 4000 ms: {'met' if hls_ms < 4000 else 'MISSED'}")


if __name__ == "__main__":
    main()
