"""Sample cameras for ``sharpeyes demo``: real footage where it can be had, generated scenes otherwise; with the
detector installed, analysis rules on the cameras whose footage shows something to raise them."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sharpeyes.core.analysis_plan import AnalysisPlan
from sharpeyes.core.errors import ConflictError
from sharpeyes.media.footage import extract_opencv_doc_clip, generate_scene
from sharpeyes.services.analysis import AnalysisService
from sharpeyes.services.cameras import CameraDraft, CameraService

logger = logging.getLogger(__name__)

TEST_DATA_ENV = "SHARPEYES_TEST_DATA"
DEFAULT_TEST_DATA = Path("../shared/data")

# (file under the test data folder, camera name)
_SHARED_CLIPS = (
    ("pets09-s2l1/pets09-s2l1.mp4", "校园道路 Campus road (PETS 2009)"),
    ("clips/car-detection.mp4", "停车场 Parking lot"),
    ("clips/one-by-one-person-detection.mp4", "服务大厅 Service hall"),
    ("clips/classroom-short.mp4", "教室 Classroom"),
    ("clips/person-bicycle-car-detection-short.mp4", "路口 Road junction"),
)
_WHOLE = [[0, 0], [1, 0], [1, 1], [0, 1]]
_DEMO_PLANS = {
    "校园道路 Campus road (PETS 2009)": AnalysisPlan(
        enabled=True,
        min_height_px=50,
        zones=[{"id": "road", "polygon": _WHOLE}],
        rules=[
            {"id": "middle", "type": "line_crossing", "line": [[0.5, 0.2], [0.5, 1.0]]},
            {"id": "gathering", "type": "crowd", "zone": "road", "min_count": 5},
        ],
    ),
    "服务大厅 Service hall": AnalysisPlan(
        enabled=True,
        zones=[{"id": "kiosk", "polygon": [[0.3, 0.55], [0.75, 0.55], [0.75, 1], [0.3, 1]]}],
        rules=[{"id": "lingering", "type": "loitering", "zone": "kiosk", "seconds": 6}],
    ),
}
"""Analysis for new demo cameras (by name), drawn from watching the clips (not the 3-second ones: looped, they would
raise the same alarm every few seconds)."""
_GENERATED = ("村口广场 Village square (generated)", "学校门口 School gate (generated)", "乡道 Rural road (generated)")


@dataclass(frozen=True, slots=True)
class DemoFootage:
    origin: str
    """Which footage was used, in words for the console."""
    clips: tuple[tuple[str, Path], ...]
    """(camera name, file) pairs."""


def find_footage(data_dir: Path) -> DemoFootage:
    test_data = Path(os.environ.get(TEST_DATA_ENV) or DEFAULT_TEST_DATA)
    shared = tuple((name, test_data / rel) for rel, name in _SHARED_CLIPS if (test_data / rel).is_file())
    if len(shared) >= 3:
        return DemoFootage(f"real footage from {test_data}", shared)
    vtest = extract_opencv_doc_clip(data_dir / "demo" / "pets09-vtest.avi")
    generated = _generated(data_dir, count=2 if vtest else 3)
    if vtest is not None:
        return DemoFootage(
            "PETS 2009 from Debian's opencv-doc package, plus generated scenes",
            (("校园道路 Campus road (PETS 2009)", vtest), *generated),
        )
    return DemoFootage("generated scenes (no real footage found)", generated)


def _generated(data_dir: Path, count: int) -> tuple[tuple[str, Path], ...]:
    clips = []
    for seed, name in enumerate(_GENERATED[:count]):
        path = data_dir / "demo" / f"generated-{seed}.mp4"
        if not path.exists():
            generate_scene(path, seed=seed)
        clips.append((name, path))
    return tuple(clips)


def add_demo_cameras(cameras: CameraService, footage: DemoFootage, analysis: AnalysisService | None = None) -> int:
    """Register one simulated camera per clip (paced, looped file sources), and with ``analysis`` its sample rules;
    returns how many were new."""
    existing = {view.name for view in cameras.list()}
    added = 0
    for name, path in footage.clips:
        if name in existing:
            continue
        try:
            camera = cameras.add(CameraDraft(name=name, source_url=path.resolve().as_uri()))
        except ConflictError:
            logger.info("demo camera %s exists already", name)
            continue
        added += 1
        plan = _DEMO_PLANS.get(name)
        if analysis is not None and plan is not None:
            analysis.set_plan(camera.id, plan)
    return added
