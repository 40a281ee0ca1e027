"""Place names a person types into the search box, found among the areas, the sites and the cameras' rule zones:
"雨花区", "实验小学", "东门"."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sharpeyes.store.models import AnalysisPlanRow, AreaRow, SiteRow

SHORTEST_NAME = 2
"""A word shorter than this is not looked up as a place (one character names too much)."""


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    area_code: str | None = None
    """An area: its cameras and those below it."""
    site_ids: frozenset[int] = frozenset()
    """Or sites: their cameras."""
    zone: str | None = None
    """Or a rule zone (of any camera that has one so named): tracks that entered it."""


class PlaceRepository:
    def __init__(self, db: Session) -> None:
        self._db = db

    def find(self, word: str) -> Place | None:
        """The area named ``word`` (or whose name starts with it, the shortest such), else the sites whose names
        contain it, else the rule zone of that name; None when nothing is called that."""
        if len(word) < SHORTEST_NAME:
            return None
        exact = self._db.scalars(select(AreaRow).where(AreaRow.name == word).limit(1)).first()
        starting = self._db.scalars(
            select(AreaRow)
            .where(AreaRow.name.startswith(word, autoescape=True))
            .order_by(func.length(AreaRow.name), AreaRow.code)
            .limit(1)
        ).first()
        area = exact or starting
        if area is not None:
            return Place(area.name, area_code=area.code)
        sites = list(self._db.scalars(select(SiteRow).where(SiteRow.name.contains(word, autoescape=True)).limit(500)))
        if sites:
            names = sorted({site.name for site in sites})
            shown = "、".join(names[:3]) + ("…" if len(names) > 3 else "")
            return Place(shown, site_ids=frozenset(site.id for site in sites))
        documents = self._db.scalars(select(AnalysisPlanRow.document))
        if any(zone.get("id") == word for document in documents for zone in document.get("zones", [])):
            return Place(word, zone=word)
        return None
