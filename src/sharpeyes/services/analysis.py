"""Live video analysis: per camera, a plan (on/off, rate, zones, rules) and, while it is on, a worker that takes the
camera's sub-stream at that rate, runs the shared analysis path, and records each rule broken as an event with a
snapshot (boxes drawn) and a link to the recording around it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.analytics.detections import COCO_CLASSES, PERSON
from sharpeyes.analytics.detector import Detector
from sharpeyes.analytics.pipeline import Analyzer, AnalyzerConfig
from sharpeyes.analytics.rules import RuleEngine, RuleHit, parse_rules
from sharpeyes.analytics.structuring import describe
from sharpeyes.analytics.tracker import Track, TrackedObject
from sharpeyes.core.analysis_plan import AnalysisPlan
from sharpeyes.core.clock import utcnow
from sharpeyes.core.errors import InvalidInputError, NotFoundError, SharpEyesError
from sharpeyes.core.events import Event, EventType
from sharpeyes.core.masks import MaskPolygon
from sharpeyes.core.tracks import STRUCTURED_CLASSES
from sharpeyes.media.frames import FrameSampler
from sharpeyes.media.manager import StreamManager
from sharpeyes.media.overlay import paint_jpeg
from sharpeyes.services.audit_log import AuditTrail
from sharpeyes.services.camera_rules import require_camera
from sharpeyes.services.events import EventService
from sharpeyes.services.tracks import TrackService
from sharpeyes.store.analysis import AnalysisRepository

logger = logging.getLogger(__name__)

EVENT_TYPES = {
    "intrusion": EventType.INTRUSION,
    "loitering": EventType.LOITERING,
    "crowd": EventType.CROWD,
    "left_object": EventType.LEFT_OBJECT,
    "line_crossing": EventType.LINE_CROSSING,
}
CLIP_BEFORE_S = 10.0
CLIP_AFTER_S = 10.0


STRUCTURED = frozenset(COCO_CLASSES.index(name) for name in STRUCTURED_CLASSES)
"""Classes whose tracks are kept for search."""


class AnalysisService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        streams: StreamManager | None,
        detector: Callable[[], Detector | None],
        events: EventService,
        snapshots_dir: Path,
        tracks: TrackService | None = None,
        audit: AuditTrail | None = None,
    ) -> None:
        """``detector`` opens the detector when analysis first runs; None from it: no model here (plans can still
        be set). With ``tracks``, every ended track is kept for search; ``audit`` records plan changes."""
        self._sessions = sessions
        self._audit = audit
        self._tracks = tracks
        self._streams = streams
        self._open_detector = detector
        self._detector: Detector | None = None
        self._events = events
        self._snapshots_dir = snapshots_dir
        self._lock = threading.Lock()
        self._workers: dict[str, _Worker] = {}

    def plan(self, camera_id: str) -> AnalysisPlan:
        with self._sessions() as db:
            require_camera(db, camera_id)
            return AnalysisRepository(db).plan(camera_id) or AnalysisPlan()

    def set_plan(self, camera_id: str, plan: AnalysisPlan, by: str = "") -> AnalysisPlan:
        """Set the camera's analysis plan (workers follow it at once); audited as ``by``'s doing."""
        if not 0.2 <= plan.fps <= 25:
            raise InvalidInputError("analytics.fps: give 0.2 to 25 frames a second", code="bad_fps", field="fps")
        parse_rules(plan.document)  # refuse bad zones and rules now, naming them
        with self._sessions.begin() as db:
            require_camera(db, camera_id)
            AnalysisRepository(db).set_plan(camera_id, plan)
        if self._audit is not None:
            shape = {"enabled": plan.enabled, "fps": plan.fps, "min_height_px": plan.min_height_px}
            changed = {"camera_id": camera_id, **shape, "zones": plan.zones, "rules": plan.rules}
            self._audit.write(by or "platform", "analysis.plan", "ok", changed)
        self.reconcile()
        return plan

    def snapshot(self, event_id: int, masks: tuple[MaskPolygon, ...] = ()) -> bytes:
        """The JPEG kept with an analytics event (boxes drawn), ``masks`` painted over."""
        event = self._events.get(event_id)
        name = event.data.get("snapshot")
        path = (self._snapshots_dir / str(name)).resolve() if name else None
        if path is None or self._snapshots_dir.resolve() not in path.parents or not path.is_file():
            raise NotFoundError(f"event {event_id} has no snapshot", code="no_snapshot")
        return paint_jpeg(path.read_bytes(), masks) if masks else path.read_bytes()

    def stats(self, camera_id: str) -> dict[str, float]:
        """Counters of the camera's running worker (empty when none runs)."""
        with self._lock:
            worker = self._workers.get(camera_id)
        return worker.stats() if worker is not None and worker.alive else {}

    def running(self) -> set[str]:
        with self._lock:
            return {camera_id for camera_id, worker in self._workers.items() if worker.alive}

    def reconcile(self) -> int:
        """Run a worker for every enabled plan (restarting changed or failed ones) and none for others."""
        if self._streams is None:
            return 0
        with self._sessions() as db:
            plans = AnalysisRepository(db).enabled()
        if plans and self._detector is None:
            self._detector = self._open_detector()
        if self._detector is None:
            return 0
        started = 0
        with self._lock:
            for camera_id in list(self._workers):
                worker = self._workers[camera_id]
                if camera_id not in plans or worker.plan != plans[camera_id] or not worker.alive:
                    worker.stop()
                    del self._workers[camera_id]
            for camera_id, plan in plans.items():
                if camera_id in self._workers:
                    continue
                worker = _Worker(
                    camera_id, plan, self._streams, self._detector, self._events, self._snapshots_dir, self._tracks
                )
                if worker.start():
                    self._workers[camera_id] = worker
                    started += 1
        return started

    def shutdown(self) -> None:
        with self._lock:
            workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.join(5.0)


class _Worker:
    """One camera's analysis thread."""

    def __init__(
        self,
        camera_id: str,
        plan: AnalysisPlan,
        streams: StreamManager,
        detector: Detector,
        events: EventService,
        snapshots_dir: Path,
        tracks: TrackService | None,
    ) -> None:
        self.camera_id = camera_id
        self._tracks = tracks
        self._tracks_kept = 0
        self.plan = plan
        self._streams = streams
        self._detector = detector
        self._events = events
        self._snapshots_dir = snapshots_dir
        self._rules = parse_rules(plan.document)
        self._sampler: FrameSampler | None = None
        self._analyzer: Analyzer | None = None
        self._events_raised = 0
        self._size_changes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"analysis-{camera_id}", daemon=True)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> bool:
        try:
            session = self._streams.acquire(self.camera_id, "sub")
        except SharpEyesError as err:
            logger.warning("camera %s: analysis cannot start: %s", self.camera_id, err.message)
            return False
        self._session = session
        self._sampler = FrameSampler(session.relay, self.plan.fps, f"analysis-{self.camera_id}")
        self._thread.start()
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._sampler is not None:
            self._sampler.stop()

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)

    def stats(self) -> dict[str, float]:
        analyzer, sampler = self._analyzer, self._sampler
        counters: dict[str, float] = {
            "events": self._events_raised,
            "size_changes": self._size_changes,
            "tracks_kept": self._tracks_kept,
        }
        if analyzer is not None:
            counters |= {
                "frames": analyzer.stats.frames,
                "moving_frames": analyzer.stats.moving_frames,
                "detector_calls": analyzer.stats.detector_calls,
                "detector_seconds": round(analyzer.stats.detector_s, 3),
            }
        if sampler is not None:
            counters |= {"dropped_packets": sampler.dropped_packets, "decode_errors": sampler.decode_errors}
        return counters

    def _run(self) -> None:
        assert self._sampler is not None
        # Only the classes some rule asks for are tracked (and people, when a bag's owner must be seen near it),
        # and those kept for search.
        wanted = frozenset().union(*(rule.classes for rule in self._rules)) if self._rules else None
        if wanted is not None and any(rule.kind == "left_object" for rule in self._rules):
            wanted |= {PERSON}
        if self._tracks is not None:
            wanted = (wanted or frozenset()) | STRUCTURED
        config = AnalyzerConfig(fps=self.plan.fps, min_height_px=self.plan.min_height_px, classes=wanted)
        engine: RuleEngine | None = None
        origin: datetime | None = None
        size: tuple[int, ...] = ()
        try:
            for at_s, image in self._sampler:
                if self._stop.is_set():
                    break
                if image.shape != size:  # first frame, or the camera changed resolution: tracks start afresh
                    if size:
                        self._size_changes += 1
                        logger.info("camera %s: picture size now %dx%d", self.camera_id, image.shape[1], image.shape[0])
                    size = image.shape
                    self._analyzer = Analyzer(self._detector, config)
                    engine = RuleEngine(self._rules, image.shape[1], image.shape[0])
                assert self._analyzer is not None
                assert engine is not None
                seen = self._analyzer.process(image, at_s)
                if origin is None:
                    origin = utcnow() - timedelta(seconds=at_s)
                self._keep(self._analyzer.tracker.ended, origin, engine)
                now = utcnow()
                for hit in engine.update(seen, at_s, now.astimezone().time()):
                    self._record(hit, seen, image)
        except Exception:
            logger.exception("camera %s: analysis failed; it restarts at the next check", self.camera_id)
        finally:
            try:
                if self._analyzer is not None and origin is not None:  # tracks still open end here, and are kept
                    self._keep(self._analyzer.tracker.finish(), origin, engine)
            finally:
                self._streams.release(self._session)

    def _keep(self, ended: list[Track], origin: datetime, engine: RuleEngine | None) -> None:
        """Hand the tracks that ended to the track store (searchable, with the zones they entered), and forget them
        here."""
        for track in ended:
            zones = engine.visited(track.track_id) if engine is not None else ()
            if self._tracks is None or track.class_id not in STRUCTURED:
                continue  # tracked for a rule only (a dog in a zone): not kept for search
            try:
                record, picture = describe(track, self.camera_id, origin)
                self._tracks.keep(replace(record, zones=zones), picture)
                self._tracks_kept += 1
            except Exception:  # a locked or full store loses this track, not the camera's analysis
                logger.exception("camera %s: a track was not kept", self.camera_id)
        ended.clear()

    def _record(self, hit: RuleHit, seen: list[TrackedObject], image: np.ndarray) -> None:
        at = utcnow()
        involved = [obj for obj in seen if obj.track_id in hit.track_ids]
        snapshot = self._snapshot(at.strftime("%Y%m%dT%H%M%S%f"), hit, seen, image)
        start = (at - timedelta(seconds=CLIP_BEFORE_S)).isoformat()
        end = (at + timedelta(seconds=CLIP_AFTER_S)).isoformat()
        data = {
            "rule": hit.rule_id,
            "track_ids": list(hit.track_ids),
            "boxes": [[round(float(v), 1) for v in obj.xyxy] for obj in involved],
            "classes": [COCO_CLASSES[obj.class_id] for obj in involved],
            "snapshot": snapshot,
            "clip": {"start": start, "end": end},
            **hit.data,
        }
        self._events.record(Event(EVENT_TYPES[hit.kind], at, hit.detail, self.camera_id, data))
        self._events_raised += 1

    def _snapshot(self, stamp: str, hit: RuleHit, seen: list[TrackedObject], image: np.ndarray) -> str:
        """The frame with every tracked box drawn (the rule's objects in red), kept beside the events."""
        picture = Image.fromarray(image[:, :, ::-1])
        draw = ImageDraw.Draw(picture)
        for obj in seen:
            colour = (230, 30, 30) if obj.track_id in hit.track_ids else (40, 200, 80)
            draw.rectangle([float(v) for v in obj.xyxy], outline=colour, width=3)
            draw.text((float(obj.xyxy[0]) + 3, float(obj.xyxy[1]) + 2), f"{obj.track_id}", fill=colour)
        name = f"{self.camera_id}/{stamp}-{hit.rule_id}.jpg"
        path = self._snapshots_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        picture.save(path, format="JPEG", quality=85)
        return name
