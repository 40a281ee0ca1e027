"""Carrying the access token into the URIs of a playlist, for players that cannot send headers."""

from urllib.parse import quote


def token_query(access_token: str | None) -> str:
    """``?access_token=…`` to add to every URI of a playlist fetched with one, else ""."""
    return f"?access_token={quote(access_token, safe='')}" if access_token else ""
