"""Counters for monitoring, in the Prometheus text format (``GET /api/v1/metrics``, signed in like the rest)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from sharpeyes.services.analysis import AnalysisService

PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
ANALYSIS_COUNTERS = {
    "frames": "Frames analysed.",
    "moving_frames": "Frames analysed in which something moved.",
    "detector_calls": "Regions the detector looked at.",
    "detector_seconds": "Seconds spent waiting for the detector.",
    "events": "Events raised by the camera's rules.",
    "dropped_packets": "Packets dropped because analysis fell behind the camera.",
    "decode_errors": "Packets that could not be decoded.",
    "size_changes": "Times the picture size changed mid-stream.",
}


def metrics_router(analysis: AnalysisService) -> APIRouter:
    router = APIRouter(tags=["metrics"])

    @router.get("/metrics", response_class=PlainTextResponse, responses={200: {"content": {PROMETHEUS_TYPE: {}}}})
    def metrics() -> PlainTextResponse:
        """Analysis workers running, and each one's counters (reset when its worker restarts)."""
        running = sorted(analysis.running())
        stats = {camera_id: analysis.stats(camera_id) for camera_id in running}
        lines = [
            "# HELP sharpeyes_analysis_workers Cameras being analysed now.",
            "# TYPE sharpeyes_analysis_workers gauge",
            f"sharpeyes_analysis_workers {len(running)}",
        ]
        for name, help_text in ANALYSIS_COUNTERS.items():
            metric = f"sharpeyes_analysis_{name}_total"
            lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} counter"]
            lines += [
                f'{metric}{{camera="{_label(camera_id)}"}} {_number(counters[name])}'
                for camera_id, counters in stats.items()
                if name in counters
            ]
        return PlainTextResponse("\n".join(lines) + "\n", media_type=PROMETHEUS_TYPE)

    return router


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
