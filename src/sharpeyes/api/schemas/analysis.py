"""A camera's analysis plan: on/off, rate, zones and rules (see docs/analytics.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sharpeyes.core.analysis_plan import AnalysisPlan


class AnalysisPlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    fps: float = Field(5.0, ge=0.2, le=25, description="Frames analysed per second, from the sub-stream.")
    min_height_px: int = Field(0, ge=0, le=4000, description="Objects shorter than this are ignored.")
    zones: list[dict[str, Any]] = Field(default_factory=list, description='[{"id", "polygon": [[x, y], …]}], 0–1.')
    rules: list[dict[str, Any]] = Field(
        default_factory=list,
        description="[{id, type: intrusion|loitering|crowd|left_object|line_crossing, zone?, line?, classes?, "
        "seconds?, min_count?, direction?, window?}]",
    )

    def to_plan(self) -> AnalysisPlan:
        return AnalysisPlan(self.enabled, self.fps, self.min_height_px, self.zones, self.rules)


class AnalysisPlanOut(AnalysisPlanIn):
    running: bool = Field(False, description="A worker analyses the camera now.")
    stats: dict[str, float] = Field(
        default_factory=dict,
        description="The running worker's counters: frames, moving_frames, detector_calls, detector_seconds, events, "
        "dropped_packets (analysis fell behind), decode_errors, size_changes.",
    )

    @classmethod
    def from_plan(cls, plan: AnalysisPlan, running: bool, stats: dict[str, float] | None = None) -> AnalysisPlanOut:
        return cls(
            enabled=plan.enabled,
            fps=plan.fps,
            min_height_px=plan.min_height_px,
            zones=plan.zones,
            rules=plan.rules,
            running=running,
            stats=stats or {},
        )
