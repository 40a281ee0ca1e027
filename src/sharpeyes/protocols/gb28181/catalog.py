"""A device's catalog (目录): the ``DeviceList`` items of its Catalog answers, which arrive spread over several
MESSAGEs that each carry ``SumNum`` (the whole count), gathered back into one list."""

from __future__ import annotations

import math

from sharpeyes.core.gb_devices import GbChannel
from sharpeyes.core.gb_ids import ascii_digits
from sharpeyes.protocols.gb28181.manscdp import Manscdp, texts


def items(body: Manscdp) -> list[GbChannel]:
    """The ``DeviceList`` items of one Catalog answer (an item without a 1–20-digit id is skipped)."""
    root = body.root
    found = root.find("DeviceList") if root is not None else None
    if found is None:
        return []
    out = []
    for item in found.findall("Item"):
        value = texts(item)
        channel_id = value.get("DeviceID", "")
        if not ascii_digits(channel_id) or len(channel_id) > 20:
            continue
        out.append(
            GbChannel(
                device_id=body.device_id,
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
                ptz_type=_small_int(texts(item.find("Info")).get("PTZType", "")),
            )
        )
    return out


def _coordinate(text: str, limit: float) -> float | None:
    """A longitude or latitude; 0 (what devices send when they do not know) and nonsense are None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value != 0.0 and abs(value) <= limit else None


def _small_int(text: str) -> int | None:
    return int(text) if ascii_digits(text) and len(text) < 4 else None
