"""Recording cost: CPU seconds per stream-hour of Sharp Eyes' recorder versus ``ffmpeg -c copy``.

Both remux the same camera-like 1080p H.264 (noisy, ~3 Mbit/s, generated once) into ~4 s fragmented-MP4
segment files without decoding, the input arriving in real time as a camera sends it. Sharp Eyes runs N
recorders at once on their own threads, fed from a relay as in a running platform; ffmpeg runs N ``-re -c copy``
segmenters at once. Baseline: ffmpeg, same run, same input. ``--fast`` reads the input as fast as it goes
instead (a stress test: N busy Python threads contend for one interpreter, which cameras never make them do).

Targets: <= 1.3x ffmpeg's CPU per stream-hour, >= 150 streams per core.

    .venv/bin/python bench/record.py [--streams 8] [--seconds 60] [--fast]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import av
from footage import FPS, make_camera_clip

from sharpeyes.media.recorder import RecordedSegment, Recorder, RecorderConfig
from sharpeyes.media.relay import PacketRelay
from sharpeyes.protocols.sources import SourceOptions, open_source


class _Sink:
    def __init__(self) -> None:
        self.segments = 0

    def segment_done(self, segment: RecordedSegment) -> None:
        self.segments += 1
        segment.path.unlink()  # keep the disk out of the measurement

    def gap(self, camera_id: str, start: object, end: object, reason: str) -> None:
        pass


def sharpeyes_cpu(clip: Path, streams: int, seconds: float, root: Path, *, fast: bool = False) -> float:
    """CPU seconds of this process for ``streams`` pipelines, each as in the platform: a file source paced as a
    camera (or read as fast as it goes), a relay, and a recorder writing ``seconds`` of video into segment
    files."""
    sink = _Sink()
    config = RecorderConfig(root, segment_s=4.0, stall_s=3600.0)
    relays = [PacketRelay(gop_packets_max=1000, consumer_queue_packets=100_000) for _ in range(streams)]
    recorders = [Recorder(f"cam{n}", relay, config, sink, lambda _since_s: "") for n, relay in enumerate(relays)]
    for recorder in recorders:
        recorder.start()
    started = time.process_time()
    readers = [threading.Thread(target=_read, args=(clip, relay, seconds, fast)) for relay in relays]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    for recorder in recorders:
        recorder.stop()
    for recorder in recorders:
        recorder.join(600)
    return time.process_time() - started


def _read(clip: Path, relay: PacketRelay, seconds: float, fast: bool) -> None:
    source = open_source(clip.as_uri() + ("?realtime=0" if fast else ""), SourceOptions())
    info = source.open()
    relay.set_info(info)
    limit = int(seconds * FPS)
    for count, packet in enumerate(source.packets(), start=1):
        relay.publish(packet)
        if count >= limit:
            break
    source.close()


def ffmpeg_cpu(clip: Path, streams: int, seconds: float, root: Path, *, fast: bool = False) -> float:
    loops = int(seconds / 10) + 1
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    processes = []
    for n in range(streams):
        out = root / f"ff{n}"
        out.mkdir()
        command = [
            "ffmpeg", "-nostdin", "-loglevel", "error", *([] if fast else ["-re"]),
            "-stream_loop", str(loops - 1), "-i", str(clip),
            "-t", str(seconds), "-c", "copy", "-f", "segment", "-segment_time", "4", "-segment_format", "mp4",
            "-segment_format_options", "movflags=frag_keyframe+empty_moov+default_base_moof", str(out / "%05d.mp4"),
        ]  # fmt: skip
        processes.append(subprocess.Popen(command))  # noqa: S603 - fixed argv
    for process in processes:
        process.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0, help="video seconds recorded per stream")
    parser.add_argument("--fast", action="store_true", help="read the input as fast as it goes, not in real time")
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        raise SystemExit("ffmpeg is missing (the baseline): apt-get install ffmpeg")
    cache = Path(tempfile.gettempdir()) / "sharpeyes-bench-1080p.mp4"
    clip = make_camera_clip(cache, seconds=10)
    with av.open(str(clip)) as probe:
        megabits = (probe.size * 8 / 1e6) / float(probe.duration or 1) * 1e6
    pace = "as fast as it goes" if args.fast else "in real time"
    print(
        f"input: 1920x1080 H.264 at {FPS} fps, {megabits:.1f} Mbit/s, read {pace}; "
        f"{args.streams} streams x {args.seconds:g} s"
    )
    with tempfile.TemporaryDirectory(prefix="sharpeyes-bench-record-") as tmp:
        ours = sharpeyes_cpu(clip, args.streams, args.seconds, Path(tmp) / "ours", fast=args.fast)
        theirs = ffmpeg_cpu(clip, args.streams, args.seconds, Path(tmp), fast=args.fast)
    stream_hours = args.streams * args.seconds / 3600
    ours_h, theirs_h = ours / stream_hours, theirs / stream_hours
    print(f"sharpeyes recorder: {ours_h:7.1f} CPU s per stream-hour = {3600 / ours_h:6.0f} streams per core")
    print(f"ffmpeg -c copy:     {theirs_h:7.1f} CPU s per stream-hour = {3600 / theirs_h:6.0f} streams per core")
    print(
        f"ratio sharpeyes / ffmpeg: {ours / theirs:.2f}x (target <= 1.3x); "
        f"streams per core target >= 150: {'met' if 3600 / ours_h >= 150 else 'MISSED'}"
    )
    print(f"(cores here: {os.cpu_count()})")


if __name__ == "__main__":
    main()
