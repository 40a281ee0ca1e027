"""Builds the parts of one process from its settings: the only place that knows every layer."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from sharpeyes.analytics.detector import Detector
from sharpeyes.analytics.embedder import Embedder
from sharpeyes.core.errors import SharpEyesError
from sharpeyes.core.settings import Settings
from sharpeyes.core.urls import redact_text
from sharpeyes.media.manager import StreamManager
from sharpeyes.protocols.gb28181 import source as gb_source
from sharpeyes.protocols.gb28181.server import SipServer
from sharpeyes.services.access import AccessService
from sharpeyes.services.accounts import AccountService
from sharpeyes.services.analysis import AnalysisService
from sharpeyes.services.areas import AreaService
from sharpeyes.services.audit_log import AUDIT_HEAD, AuditTrail
from sharpeyes.services.cameras import CameraService
from sharpeyes.services.container import Services
from sharpeyes.services.coverage import CoverageService
from sharpeyes.services.events import EventService
from sharpeyes.services.exports import ExportService
from sharpeyes.services.gb import GbService
from sharpeyes.services.gb_cascade import CascadeService
from sharpeyes.services.gb_playback import DevicePlaybackService
from sharpeyes.services.health import HealthService
from sharpeyes.services.inventory import InventoryService
from sharpeyes.services.live import LiveService
from sharpeyes.services.map import MapService
from sharpeyes.services.media_tickets import MediaTickets
from sharpeyes.services.models import ModelService
from sharpeyes.services.oidc import OidcService
from sharpeyes.services.privacy import PrivacyService
from sharpeyes.services.quality import QualityService
from sharpeyes.services.recordings import RecordingService
from sharpeyes.services.search import SearchService
from sharpeyes.services.sites import SiteService
from sharpeyes.services.tracks import TrackService
from sharpeyes.store.appearance import LocalAppearanceIndex
from sharpeyes.store.database import create_db_engine, migrate, session_factory
from sharpeyes.store.keys import PlatformKey

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    engine: Engine
    services: Services
    streams: StreamManager | None


def build_runtime(settings: Settings, *, with_streams: bool) -> Runtime:
    """Open (and migrate) the store; with ``with_streams`` also the stream manager that serving needs."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(settings.resolved_database_url)
    migrate(engine)
    sessions = session_factory(engine)
    key = PlatformKey.load_or_create(settings.data_dir / "keys")
    audit = AuditTrail(sessions, key, settings.data_dir / AUDIT_HEAD)
    gb = settings.gb28181
    sip = SipServer(gb) if gb.enabled else None
    opener = gb_source.opener(sip, gb.invite_timeout_s, gb.media_timeout_s)
    probe = gb_source.prober(sip)
    streams = StreamManager(settings.streams, settings.snapshots, opener, probe) if with_streams else None
    cameras = CameraService(sessions, streams, audit)
    events = EventService(sessions)
    recordings = RecordingService(
        sessions, settings.recordings, settings.recordings_dir, streams, events, settings.streams.open_timeout_s, audit
    )
    tracks = TrackService(
        sessions,
        settings.data_dir / "tracks",
        lambda: _embedder(settings),
        lambda size: LocalAppearanceIndex(settings.data_dir / "vectors", size),
    )
    accounts = AccountService(sessions, settings.auth, audit)
    services = Services(
        accounts=accounts,
        oidc=OidcService(settings.oidc, accounts, audit),
        cameras=cameras,
        quality=QualityService(cameras, streams, settings.quality, events),
        areas=AreaService(sessions, audit),
        sites=SiteService(sessions, audit),
        inventory=InventoryService(sessions, audit),
        coverage=CoverageService(
            sessions,
            settings.coverage,
            streams.online_camera_ids if streams else None,
            ZoneInfo(settings.recordings.timezone),
        ),
        map=MapService(sessions, streams),
        live=LiveService(sessions, streams, settings.live, audit, ready_wait_s=settings.streams.open_timeout_s + 10),
        health=HealthService(sessions, settings.health, streams, events),
        recordings=recordings,
        events=events,
        analysis=AnalysisService(
            sessions, streams, lambda: _detector(settings), events, settings.data_dir / "events", tracks, audit
        ),
        tracks=tracks,
        search=SearchService(sessions, tracks, audit, ZoneInfo(settings.recordings.timezone)),
        gb=GbService(gb, sessions, cameras, events, sip, ZoneInfo(settings.recordings.timezone), audit),
        device_playback=DevicePlaybackService(sessions, opener, gb, settings.streams, settings.live, audit),
        cascade=CascadeService(gb, sessions, streams, sip, audit),
        audit=audit,
        access=AccessService(sessions),
        exports=ExportService(sessions, recordings, audit, key, settings.data_dir / "exports", gb.server_id),
        privacy=PrivacyService(sessions, audit),
        tickets=MediaTickets(key, accounts),
    )
    return Runtime(settings, engine, services, streams)


def _embedder(settings: Settings) -> Embedder | None:
    """The appearance embedder, or None (logged) when it is not installed: tracks are kept without embeddings."""
    try:
        return ModelService(settings.models_dir).embedder(settings.analytics)
    except SharpEyesError as err:
        logger.warning("search by example is off: %s", err.message)
        return None


def _detector(settings: Settings) -> Detector | None:
    """The configured detector, or None (logged) when it is not installed: the platform runs without analysis."""
    try:
        return ModelService(settings.models_dir).detector(settings.analytics)
    except SharpEyesError as err:
        logger.warning("video analysis is off: %s", err.message)
        return None


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
