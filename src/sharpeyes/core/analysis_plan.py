"""What a camera's video analysis should do: on or off, how many frames a second, and its zones and rules (kept as
the document people wrote; ``analytics.rules.parse_rules`` reads it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class AnalysisPlan:
    enabled: bool = False
    fps: float = 5.0
    min_height_px: int = 0
    zones: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)

    @property
    def document(self) -> dict[str, Any]:
        return {"zones": self.zones, "rules": self.rules}
