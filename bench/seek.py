"""Playback seek: from asking for a moment of recorded video to its first decoded frame, through the API.

Records ~20 s of a simulated camera (1080p H.264, a keyframe every 2 s, as cameras send; generated once),
then for random moments: find the segment (GET recordings), fetch its init and media parts, decode the first
frame (the keyframe the moment falls after, as players show first). Baseline in the same run: ``ffmpeg
-noaccurate_seek -ss`` decoding one frame from the same segment file.

Target: < 300 ms to the first decoded frame.

    .venv/bin/python bench/seek.py [--seeks 20]
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import av
from fastapi.testclient import TestClient
from footage import make_camera_clip

from sharpeyes.api.app import create_app
from sharpeyes.cli.wiring import build_runtime
from sharpeyes.core.config_file import load_settings
from sharpeyes.core.recording import RecordingMode, RecordingPlan
from sharpeyes.services.camera_rules import CameraDraft
from sharpeyes.services.container import Services

PASSWORD = "bench-seek-password"  # noqa: S105 - a throwaway account in a temporary data directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeks", type=int, default=20)
    parser.add_argument("--record-s", type=float, default=20.0)
    args = parser.parse_args()
    rng = random.Random(5)  # noqa: S311 - reproducible seek targets
    with tempfile.TemporaryDirectory(prefix="sharpeyes-bench-seek-") as tmp:
        settings = load_settings(None, data_dir=Path(tmp) / "data")
        runtime = build_runtime(settings, with_streams=True)
        services = runtime.services
        services.accounts.create_admin(PASSWORD)
        clip = make_camera_clip(Path(tempfile.gettempdir()) / "sharpeyes-bench-1080p.mp4", seconds=10)
        camera = services.cameras.add(CameraDraft(name="seek", source_url=clip.resolve().as_uri()))
        services.recordings.set_plan(camera.id, RecordingPlan(RecordingMode.CONTINUOUS))
        print(f"recording {args.record_s:g} s of {clip.name} …")
        time.sleep(args.record_s)
        with TestClient(create_app(settings, services)) as client:
            token = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            segments = services.recordings.recordings(
                camera.id, camera.created_at - timedelta(minutes=1), camera.created_at + timedelta(hours=1)
            ).segments
            if len(segments) < 2:
                raise SystemExit("too little was recorded to seek in")
            start, end = segments[0].start, segments[-1].end
            ours, theirs = [], []
            for _ in range(args.seeks):
                moment = start + (end - start) * rng.random()
                ours.append(_seek_via_api(client, headers, camera.id, moment))
                theirs.append(_seek_with_ffmpeg(settings.recordings_dir, services, camera.id, moment))
        assert runtime.streams is not None
        runtime.streams.shutdown()
    print(f"{len(segments)} segments recorded; {args.seeks} seeks")
    _report("sharpeyes API seek to first frame", ours)
    if theirs and all(t > 0 for t in theirs):
        _report("baseline ffmpeg -ss on the segment file", theirs)
        print(f"ratio sharpeyes / ffmpeg (median): {statistics.median(ours) / statistics.median(theirs):.2f}x")
    print(f"target < 300 ms: {'met' if statistics.median(ours) < 300 and max(ours) < 300 else 'MISSED'}")


def _seek_via_api(client: TestClient, headers: dict[str, str], camera_id: str, moment: datetime) -> float:
    started = time.perf_counter()
    span = {"start": moment.isoformat(), "end": (moment + timedelta(seconds=1)).isoformat()}
    found = client.get(f"/api/v1/cameras/{camera_id}/recordings", params=span, headers=headers).json()
    segment_id = found["segments"][0]["id"]
    base = f"/api/v1/cameras/{camera_id}/segments/{segment_id}"
    data = (
        client.get(f"{base}/init.mp4", headers=headers).content
        + client.get(f"{base}/media.m4s", headers=headers).content
    )
    with av.open(io.BytesIO(data), "r") as container:
        next(iter(container.decode(video=0)))
    return (time.perf_counter() - started) * 1000


def _seek_with_ffmpeg(root: Path, services: Services, camera_id: str, moment: datetime) -> float:
    if shutil.which("ffmpeg") is None:
        return 0.0
    segment = services.recordings.recordings(camera_id, moment, moment + timedelta(seconds=1)).segments[0]
    offset = max(0.0, (moment - segment.start).total_seconds())
    path = str(root / segment.storage_key)
    command = ["ffmpeg", "-nostdin", "-loglevel", "error", "-noaccurate_seek", "-ss", f"{offset:.3f}", "-i", path]
    started = time.perf_counter()
    subprocess.run([*command, "-frames:v", "1", "-f", "null", "-"], check=True)  # noqa: S603 - fixed argv
    return (time.perf_counter() - started) * 1000


def _report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    print(f"{name}: median {statistics.median(samples):.0f} ms, p95 {p95:.0f} ms, max {max(samples):.0f} ms")


if __name__ == "__main__":
    main()
