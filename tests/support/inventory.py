"""A realistic, seeded city inventory — areas, schools, cameras, and rows wrong on purpose — with the figures
each coverage report must show, computed here independently of the platform's code."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

AREA_HEADER = ("code", "name", "level", "parent_code")
CAMERA_HEADER = ("id", "name", "area_code", "site_name", "site_type", "longitude", "latitude", "source_url")
CAMERA_HEADER_ZH = ("编号", "名称", "区划编码", "点位名称", "点位类型", "经度", "纬度", "取流地址")
SITE_HEADER = ("name", "site_type", "area_code", "longitude", "latitude")
CITY = "320100"


@dataclass
class Inventory:
    areas: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(code, name, level, parent_code) rows."""
    rows: list[tuple[str, ...]] = field(default_factory=list)
    """Camera rows in CAMERA_HEADER order, good and bad mixed."""
    bad_rows: dict[int, str] = field(default_factory=dict)
    """Spreadsheet row number (header = 1) → the column that must be rejected."""
    sites: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """Area code → [(site type, site name)] of the schools and kindergartens placed there."""

    @property
    def parents(self) -> dict[str, str]:
        return {code: parent for code, _name, _level, parent in self.areas if parent}

    @property
    def levels(self) -> dict[str, str]:
        return {code: level for code, _name, level, _parent in self.areas}

    def good_rows(self) -> list[tuple[str, ...]]:
        return [row for number, row in enumerate(self.rows, start=2) if number not in self.bad_rows]

    def ancestors(self, code: str) -> list[str]:
        chain, parents = [code], self.parents
        while chain[-1] in parents:
            chain.append(parents[chain[-1]])
        return chain

    def expected_counts(self) -> tuple[Counter[str], Counter[str]]:
        """(cameras, networked) per area, each camera counted for its area and every area above it."""
        cameras: Counter[str] = Counter()
        networked: Counter[str] = Counter()
        for row in self.good_rows():
            for code in self.ancestors(row[2]):
                cameras[code] += 1
                networked[code] += 1 if row[7] else 0
        return cameras, networked

    def expected_site_counts(self, site_type: str) -> dict[tuple[str, str], int]:
        sites: dict[tuple[str, str], int] = {}
        for code, places in self.sites.items():
            for kind, site_name in places:
                if kind == site_type:
                    sites[(code, site_name)] = 0
        for row in self.good_rows():
            key = (row[2], row[3])
            if key in sites:
                sites[key] += 1
        return sites

    def sites_csv(self) -> bytes:
        rows = [(name, kind, code, "", "") for code, places in self.sites.items() for kind, name in places]
        return _csv(SITE_HEADER, rows).encode("utf-8")

    def areas_csv(self) -> bytes:
        return _csv(AREA_HEADER, self.areas).encode("utf-8")

    def cameras_csv(self, encoding: str = "utf-8", header: tuple[str, ...] = CAMERA_HEADER) -> bytes:
        return _csv(header, self.rows).encode(encoding)


def _csv(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def build_inventory(seed: int = 7, districts: int = 5, townships: int = 10, villages: int = 10) -> Inventory:
    rng = random.Random(seed)
    inv = Inventory()
    inv.areas.append((CITY, "江宁测试市", "city", ""))
    leaves: list[str] = []
    for d in range(districts):
        district = f"3201{d + 2:02d}"
        inv.areas.append((district, f"第{d + 1}区", "district", CITY))
        for t in range(townships):
            township = f"{district}{t + 1:03d}"
            inv.areas.append((township, f"{d + 1}区第{t + 1}街道", "township", district))
            leaves.append(township)
            inv.sites[township] = [("school", f"第{t + 1}小学"), ("kindergarten", f"第{t + 1}幼儿园")]
            for v in range(rng.randint(villages - 3, villages + 3)):
                village = f"{township}{v + 1:03d}"
                inv.areas.append((village, f"{t + 1}街道{v + 1}村", "village", township))
                leaves.append(village)
    serial = 0
    for leaf in leaves:
        for n in range(rng.choice([0, 1, 3, 4, 5, 6, 8, 10])):
            serial += 1
            inv.rows.append(_camera_row(rng, serial, leaf, f"村口{n + 1}号", None))
        for kind, site_name in inv.sites.get(leaf, []):
            for n in range(rng.choice([0, 1, 2])):
                serial += 1
                inv.rows.append(_camera_row(rng, serial, leaf, f"{site_name}{n + 1}号门", (kind, site_name)))
    _plant_mistakes(rng, inv)
    return inv


def _camera_row(rng: random.Random, serial: int, area: str, name: str, site: tuple[str, str] | None) -> tuple[str, ...]:
    gb_id = f"3201000000{rng.choice(['131', '132'])}{serial:07d}"
    networked = rng.random() < 0.8
    return (
        gb_id if rng.random() < 0.7 else "",
        name,
        area,
        site[1] if site else "",
        site[0] if site else "",
        f"{118.5 + rng.random() * 0.6:.6f}",
        f"{31.8 + rng.random() * 0.5:.6f}",
        f"rtsp://viewer:pw{serial}@10.{serial % 250}.0.1/main" if networked else "",
    )


def _plant_mistakes(rng: random.Random, inv: Inventory) -> None:
    good = inv.rows[0]
    mistakes: list[tuple[tuple[str, ...], str]] = [
        ((good[0], "swapped", good[2], "", "", good[6], good[5], ""), "longitude"),
        (("", "unknown area", "320199001001", "", "", "", "", ""), "area_code"),
        (("32010000001180000099", "an NVR id", good[2], "", "", "", "", ""), "id"),
        (("", "bad url", good[2], "", "", "", "", "ftp://10.0.0.1/a"), "source_url"),
        (("", "north pole", good[2], "", "", "118.8", "89.0", ""), "latitude"),
        (("", "", good[2], "", "", "", "", ""), "name"),
        (("", "bad site type", good[2], "某处", "airport", "", "", ""), "site_type"),
        (("", "bad number", good[2], "", "", "east", "31.9", ""), "longitude"),
        (("", "half position", good[2], "", "", "118.8", "", ""), "latitude"),
    ]
    duplicate_of = next(row for row in inv.rows if row[0])
    mistakes.append(((duplicate_of[0], "another name", duplicate_of[2], "", "", "", "", ""), "id"))
    for row, column in mistakes:
        position = rng.randint(len(inv.rows) // 2, len(inv.rows))  # after the row a duplicate repeats
        inv.rows.insert(position, row)
        _renumber(inv, position, column)


def _renumber(inv: Inventory, inserted_at: int, column: str) -> None:
    """Row numbers after an insertion: shift the planted rows below it, then record the new one."""
    number = inserted_at + 2
    inv.bad_rows = {(n + 1 if n >= number else n): c for n, c in inv.bad_rows.items()}
    inv.bad_rows[number] = column
