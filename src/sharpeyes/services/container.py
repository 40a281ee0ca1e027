"""The set of services one process runs, handed to the API and the workers."""

from __future__ import annotations

from dataclasses import dataclass

from sharpeyes.services.access import AccessService
from sharpeyes.services.accounts import AccountService
from sharpeyes.services.analysis import AnalysisService
from sharpeyes.services.areas import AreaService
from sharpeyes.services.audit_log import AuditTrail
from sharpeyes.services.cameras import CameraService
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
from sharpeyes.services.oidc import OidcService
from sharpeyes.services.privacy import PrivacyService
from sharpeyes.services.quality import QualityService
from sharpeyes.services.recordings import RecordingService
from sharpeyes.services.search import SearchService
from sharpeyes.services.sites import SiteService
from sharpeyes.services.tracks import TrackService


@dataclass(frozen=True, slots=True)
class Services:
    accounts: AccountService
    oidc: OidcService
    cameras: CameraService
    areas: AreaService
    sites: SiteService
    inventory: InventoryService
    coverage: CoverageService
    map: MapService
    recordings: RecordingService
    live: LiveService
    health: HealthService
    quality: QualityService
    events: EventService
    analysis: AnalysisService
    tracks: TrackService
    search: SearchService
    gb: GbService
    device_playback: DevicePlaybackService
    cascade: CascadeService
    audit: AuditTrail
    access: AccessService
    exports: ExportService
    privacy: PrivacyService
    tickets: MediaTickets
