"""What the URIs of a playlist carry, for players that cannot send headers: a media ticket (not the viewer's token)
and the viewing's choices."""

from urllib.parse import urlencode


def uri_query(ticket: str | None, *, profile: str = "main", lift_masks: bool = False) -> str:
    """The query a playlist's URIs carry: the viewer's media ticket, a sub-stream profile, lifted masks."""
    carried = {"ticket": ticket, "profile": None if profile == "main" else profile}
    carried["lift_masks"] = "true" if lift_masks else None
    present = {name: value for name, value in carried.items() if value}
    return "?" + urlencode(present) if present else ""
