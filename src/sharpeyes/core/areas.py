"""Administrative areas (GB/T 2260-style codes), sites and where on Earth things are."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class AreaLevel(enum.StrEnum):
    CITY = "city"
    DISTRICT = "district"
    TOWNSHIP = "township"
    VILLAGE = "village"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @property
    def parent_level(self) -> AreaLevel | None:
        return _LEVELS[self.rank - 1] if self.rank > 0 else None

    @property
    def code_length(self) -> int:
        return CODE_LENGTHS[self]


_LEVELS = (AreaLevel.CITY, AreaLevel.DISTRICT, AreaLevel.TOWNSHIP, AreaLevel.VILLAGE)
_RANKS = {level: rank for rank, level in enumerate(_LEVELS)}
CODE_LENGTHS = {AreaLevel.CITY: 6, AreaLevel.DISTRICT: 6, AreaLevel.TOWNSHIP: 9, AreaLevel.VILLAGE: 12}
LEVEL_NAMES_ZH = {
    AreaLevel.CITY: "市",
    AreaLevel.DISTRICT: "区县",
    AreaLevel.TOWNSHIP: "乡镇/街道",
    AreaLevel.VILLAGE: "村/社区",
}


class SiteType(enum.StrEnum):
    SCHOOL = "school"
    KINDERGARTEN = "kindergarten"
    VILLAGE_SQUARE = "village_square"
    ROAD = "road"
    MARKET = "market"
    OTHER = "other"


SITE_TYPE_NAMES_ZH = {
    SiteType.SCHOOL: "学校",
    SiteType.KINDERGARTEN: "幼儿园",
    SiteType.VILLAGE_SQUARE: "村口广场",
    SiteType.ROAD: "道路",
    SiteType.MARKET: "集市",
    SiteType.OTHER: "其他",
}


@dataclass(frozen=True, slots=True)
class Area:
    code: str
    name: str
    level: AreaLevel
    parent_code: str | None
    boundary: str | None = None
    """GeoJSON Polygon or MultiPolygon, as text."""


_DIGITS = re.compile(r"^[0-9]+$")


def area_code_problem(code: str, level: AreaLevel) -> str | None:
    """Why ``code`` cannot be an area of ``level``, or None."""
    if not _DIGITS.fullmatch(code):
        return f"area code {code!r} must be digits only"
    if len(code) != level.code_length:
        return f"a {level.value} code has {level.code_length} digits, {code!r} has {len(code)}"
    return None


def parent_problem(code: str, level: AreaLevel, parent: Area | None) -> str | None:
    """Why ``parent`` cannot hold an area ``code`` of ``level``, or None."""
    expected = level.parent_level
    if expected is None:
        return "a city has no parent" if parent is not None else None
    if parent is None:
        return f"a {level.value} needs a parent {expected.value}"
    if parent.level is not expected:
        return f"the parent of a {level.value} must be a {expected.value}, {parent.code} is a {parent.level.value}"
    prefix = {AreaLevel.DISTRICT: 2, AreaLevel.TOWNSHIP: 6, AreaLevel.VILLAGE: 9}[level]
    if code[:prefix] != parent.code[:prefix]:
        return f"code {code} does not lie under {parent.code} (first {prefix} digits differ)"
    return None


# Mainland China with its islands, generously rounded (WGS-84 degrees).
CHINA_LONGITUDE = (73.4, 135.1)
CHINA_LATITUDE = (3.8, 53.6)


def position_problem(longitude: float, latitude: float) -> tuple[str, str] | None:
    """(column, reason) when a WGS-84 position cannot be in China, or None."""
    if _in_china(longitude, latitude):
        return None
    if _in_china(latitude, longitude):
        return "longitude", f"longitude {longitude} and latitude {latitude} look swapped"
    if not CHINA_LONGITUDE[0] <= longitude <= CHINA_LONGITUDE[1]:
        return "longitude", f"longitude {longitude} is outside China ({CHINA_LONGITUDE[0]}–{CHINA_LONGITUDE[1]})"
    return "latitude", f"latitude {latitude} is outside China ({CHINA_LATITUDE[0]}–{CHINA_LATITUDE[1]})"


def _in_china(longitude: float, latitude: float) -> bool:
    return CHINA_LONGITUDE[0] <= longitude <= CHINA_LONGITUDE[1] and CHINA_LATITUDE[0] <= latitude <= CHINA_LATITUDE[1]
