"""Coverage and networking-rate accounting over the area tree (覆盖率、联网率).

A camera counts for its own area and every area above it. Figures come from two grouped queries and a roll-up
over the tree in memory, so a city-wide report costs the same whatever the number of cameras per area.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.areas import Area, AreaLevel, SiteType
from sharpeyes.core.clock import utcnow
from sharpeyes.core.settings import CoverageSettings
from sharpeyes.services.areas import area_not_found
from sharpeyes.store.areas import AreaRepository, Site, SiteRepository
from sharpeyes.store.cameras import CameraRepository
from sharpeyes.store.coverage import CoverageRepository, DailyFigures
from sharpeyes.store.recordings import RecordingRepository

OnlineCameras = Callable[[], set[str]]


@dataclass(frozen=True, slots=True)
class Figures:
    cameras: int = 0
    networked: int = 0
    online: int = 0
    planned_s: float = 0.0
    """Seconds the recording plans of the cameras asked for in the period."""
    recorded_s: float = 0.0

    @property
    def recording_completeness(self) -> float:
        """Recorded seconds ÷ planned seconds (0 when nothing was planned)."""
        return min(1.0, _rate(self.recorded_s, self.planned_s))

    @property
    def networking_rate(self) -> float:
        return _rate(self.networked, self.cameras)

    @property
    def online_rate(self) -> float:
        return _rate(self.online, self.networked)


@dataclass(frozen=True, slots=True)
class Gap:
    code: str
    name: str
    cameras: int
    missing: int


@dataclass(frozen=True, slots=True)
class RuleResult:
    target: str
    min_cameras: int
    total: int
    compliant: int
    gaps: list[Gap]


@dataclass(frozen=True, slots=True)
class AreaFigures:
    area: Area
    figures: Figures


@dataclass(frozen=True, slots=True)
class CoverageReport:
    area: Area
    figures: Figures
    online_known: bool
    rules: list[RuleResult]
    children: list[AreaFigures]


@dataclass(frozen=True, slots=True)
class HistoryDay:
    day: date
    figures: Figures


class _Tree:
    """The area tree with every area's subtree figures (kept as plain int lists: 30,000 areas add up fast)."""

    def __init__(self, areas: list[Area], own: dict[str | None, list[float]]) -> None:
        self.areas = {area.code: area for area in areas}
        self.children: dict[str | None, list[Area]] = defaultdict(list)
        for area in areas:
            self.children[area.parent_code].append(area)
        self._totals = {code: list(own.get(code, _ZERO)) for code in self.areas}
        for area in sorted(areas, key=lambda a: a.level.rank, reverse=True):
            parent = self._totals.get(area.parent_code) if area.parent_code else None
            if parent is not None:
                mine = self._totals[area.code]
                for index, value in enumerate(mine):
                    parent[index] += value

    def cameras(self, code: str) -> int:
        return int(self._totals[code][0])

    def figures(self, code: str) -> Figures:
        return _figures(self._totals[code])

    def all_figures(self) -> dict[str, Figures]:
        return {code: _figures(totals) for code, totals in self._totals.items()}

    def subtree(self, code: str) -> Iterable[Area]:
        stack = [self.areas[code]]
        while stack:
            area = stack.pop()
            yield area
            stack.extend(self.children.get(area.code, ()))


_ZERO = (0, 0, 0, 0.0, 0.0)


def _figures(totals: list[float]) -> Figures:
    cameras, networked, online, planned_s, recorded_s = totals
    return Figures(int(cameras), int(networked), int(online), planned_s, recorded_s)


class CoverageService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: CoverageSettings,
        online: OnlineCameras | None,
        recording_zone: ZoneInfo,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._online = online
        self._zone = recording_zone

    def report(self, area_code: str, *, gaps_limit: int = 1000, hours: float = 24.0) -> CoverageReport:
        """Figures now; recording completeness over the last ``hours``."""
        with self._sessions() as db:
            tree = self._tree(db, timedelta(hours=hours))
            if area_code not in tree.areas:
                raise area_not_found(area_code)
            subtree = list(tree.subtree(area_code))
            rules = [
                self._area_rule(level, minimum, subtree, tree, gaps_limit) for level, minimum in self._area_rules()
            ]
            if self._settings.site_minimums:
                site_counts = CoverageRepository(db).counts_by_site()
                in_subtree = {area.code for area in subtree}
                sites = [site for site in SiteRepository(db).all() if site.area_code in in_subtree]
                rules += [
                    _site_rule(site_type, minimum, sites, site_counts, gaps_limit)
                    for site_type, minimum in self._settings.site_minimums.items()
                ]
        children = sorted(tree.children.get(area_code, []), key=lambda a: a.code)
        return CoverageReport(
            area=tree.areas[area_code],
            figures=tree.figures(area_code),
            online_known=self._online is not None,
            rules=rules,
            children=[AreaFigures(child, tree.figures(child.code)) for child in children],
        )

    def snapshot_day(self, day: date | None = None) -> int:
        """Store today's (or ``day``'s) figures of every area; returns how many areas were written."""
        day = day or utcnow().date()
        with self._sessions.begin() as db:
            tree = self._tree(db)
            figures = [
                DailyFigures(code, day, f.cameras, f.networked, f.online) for code, f in tree.all_figures().items()
            ]
            CoverageRepository(db).replace_day(day, figures)
        return len(figures)

    def has_snapshot(self, day: date) -> bool:
        with self._sessions() as db:
            return CoverageRepository(db).has_day(day)

    def history(self, area_code: str, days: int) -> list[HistoryDay]:
        since = utcnow().date() - timedelta(days=days - 1)
        with self._sessions() as db:
            if AreaRepository(db).get(area_code) is None:
                raise area_not_found(area_code)
            rows = CoverageRepository(db).history(area_code, since)
        return [HistoryDay(row.day, Figures(row.cameras, row.networked, row.online)) for row in rows]

    def _area_rules(self) -> list[tuple[AreaLevel, int]]:
        return sorted(self._settings.area_minimums.items(), key=lambda item: item[0].rank)

    def _tree(self, db: Session, period: timedelta = timedelta(hours=24)) -> _Tree:
        counts = CoverageRepository(db).counts_by_area()
        cameras = CameraRepository(db)
        online: Counter[str | None] = Counter()
        if self._online is not None:
            online.update(cameras.areas_of(self._online()).values())
        own: dict[str | None, list[float]] = {
            code: [c.cameras, c.networked, online.get(code, 0), 0.0, 0.0] for code, c in counts.items()
        }
        self._add_recording(db, cameras, own, period)
        return _Tree(AreaRepository(db).all(with_boundaries=False), own)

    def _add_recording(
        self, db: Session, cameras: CameraRepository, own: dict[str | None, list[float]], period: timedelta
    ) -> None:
        """Planned and recorded seconds of every camera with a plan, added to its area."""
        recordings = RecordingRepository(db)
        plans = recordings.plans()
        if not plans:
            return
        until = utcnow()
        since = until - period
        recorded = recordings.recorded_seconds(since, until)
        areas = cameras.areas_of(plans)
        for camera_id, plan in plans.items():
            totals = own.setdefault(areas.get(camera_id), [0, 0, 0, 0.0, 0.0])
            totals[3] += plan.planned_seconds(since, until, self._zone)
            totals[4] += recorded.get(camera_id, 0.0)

    @staticmethod
    def _area_rule(level: AreaLevel, minimum: int, subtree: list[Area], tree: _Tree, limit: int) -> RuleResult:
        targets = [area for area in subtree if area.level is level]
        gaps = [
            Gap(area.code, area.name, tree.cameras(area.code), minimum - tree.cameras(area.code))
            for area in targets
            if tree.cameras(area.code) < minimum
        ]
        gaps.sort(key=lambda gap: (-gap.missing, gap.code))
        return RuleResult(level.value, minimum, len(targets), len(targets) - len(gaps), gaps[:limit])


def _site_rule(site_type: SiteType, minimum: int, sites: list[Site], counts: dict[int, int], limit: int) -> RuleResult:
    targets = [site for site in sites if site.type is site_type]
    gaps = [
        Gap(str(site.id), site.name, counts.get(site.id, 0), minimum - counts.get(site.id, 0))
        for site in targets
        if counts.get(site.id, 0) < minimum
    ]
    gaps.sort(key=lambda gap: (-gap.missing, gap.name))
    return RuleResult(site_type.value, minimum, len(targets), len(targets) - len(gaps), gaps[:limit])


def _rate(part: float, whole: float) -> float:
    return part / whole if whole else 0.0
