"""A device's catalog (目录): the ``DeviceList`` items of its Catalog answers, which arrive spread over several
MESSAGEs that each carry ``SumNum`` (the whole count), gathered back into one list."""

from __future__ import annotations

import math
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from sharpeyes.core.gb_ids import camera_id_problem
from sharpeyes.protocols.gb28181.manscdp import Manscdp

MOST_ITEMS = 100_000
"""Items one catalog may hold (a provincial platform's); past it the rest are dropped, logged."""


@dataclass(frozen=True, slots=True)
class Channel:
    """One item of a device's catalog: a video channel, or a node of its tree (area, business group, organisation)."""

    channel_id: str
    name: str
    parent_id: str = ""
    """The item above it (a device, an organisation or a business group); several are comma-separated at times."""
    civil_code: str = ""
    """The administrative area code (GB/T 2260, 2–8 digits) the channel is in."""
    business_group_id: str = ""
    manufacturer: str = ""
    model: str = ""
    address: str = ""
    longitude: float | None = None
    latitude: float | None = None
    status: str = ""
    """ON or OFF, as the device reports it."""
    ptz_type: int | None = None
    """1 dome, 2 half-dome, 3 fixed, 4 handheld; None: not said."""

    @property
    def is_camera(self) -> bool:
        return camera_id_problem(self.channel_id) is None

    @property
    def online(self) -> bool:
        return self.status.upper() in ("ON", "ONLINE", "OK")


def sum_num(body: Manscdp) -> int | None:
    """The count of items the whole answer holds, when the body says."""
    text = body.fields.get("SumNum", "")
    return int(text) if text.isdigit() else None


def items(body: Manscdp) -> list[Channel]:
    """The ``DeviceList`` items of one Catalog answer (an item without a 1–20-digit id is skipped)."""
    root = body.root
    found = root.find("DeviceList") if root is not None else None
    if found is None:
        return []
    out = []
    for item in found.findall("Item"):
        value = _texts(item)
        channel_id = value.get("DeviceID", "")
        if not channel_id.isdigit() or len(channel_id) > 20:
            continue
        out.append(
            Channel(
                channel_id=channel_id,
                name=value.get("Name", "")[:64] or channel_id,
                parent_id=value.get("ParentID", "")[:200],
                civil_code=value.get("CivilCode", "")[:20],
                business_group_id=value.get("BusinessGroupID", "")[:20],
                manufacturer=value.get("Manufacturer", "")[:64],
                model=value.get("Model", "")[:64],
                address=value.get("Address", "")[:200],
                longitude=_coordinate(value.get("Longitude", ""), 180.0),
                latitude=_coordinate(value.get("Latitude", ""), 90.0),
                status=value.get("Status", "")[:16],
                ptz_type=_small_int(_texts(item.find("Info")).get("PTZType", "")),
            )
        )
    return out


def _texts(element: Element | None) -> dict[str, str]:
    if element is None:
        return {}
    return {child.tag: (child.text or "").strip() for child in element if len(child) == 0}


def _coordinate(text: str, limit: float) -> float | None:
    """A longitude or latitude; 0 (what devices send when they do not know) and nonsense are None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value != 0.0 and abs(value) <= limit else None


def _small_int(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 4 else None
