"""The events timeline over HTTP and as a live WebSocket stream."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from sharpeyes.cli.wiring import Runtime
from sharpeyes.core.events import Event, EventType


def _event(kind: EventType, camera_id: str | None, detail: str) -> Event:
    return Event(kind, datetime.now(UTC), detail, camera_id, {"n": 1})


def test_new_events_are_streamed_to_listeners_with_their_filters(
    client: TestClient, auth: dict[str, str], runtime: Runtime
) -> None:
    token = auth["Authorization"].removeprefix("Bearer ")
    events = runtime.services.events
    with client.websocket_connect("/api/v1/events/live") as socket:
        socket.send_text(json.dumps({"token": token, "camera_id": "cam-a", "types": ["analytics.intrusion"]}))
        assert socket.receive_json() == {"type": "ready"}
        events.record(_event(EventType.INTRUSION, "cam-b", "another camera"))
        events.record(_event(EventType.CROWD, "cam-a", "another type"))
        events.record(_event(EventType.INTRUSION, "cam-a", "wanted"))
        message = json.loads(socket.receive_text())
    assert (message["type"], message["camera_id"], message["detail"]) == ("analytics.intrusion", "cam-a", "wanted")
    assert message["id"] > 0
    assert message["data"] == {"n": 1}
    listed = client.get("/api/v1/events", headers=auth).json()
    assert [e["detail"] for e in listed] == ["wanted", "another type", "another camera"]


def test_the_stream_needs_a_valid_token(client: TestClient) -> None:
    with client.websocket_connect("/api/v1/events/live") as socket:
        socket.send_text(json.dumps({"token": "forged"}))
        answer = socket.receive_json()
    assert answer["type"] == "error"
    assert answer["code"] == "bad_token"


def test_times_beyond_the_calendar_are_refused(client: TestClient, auth: dict[str, str]) -> None:
    """Regression: ``end=0001-01-01T00:00:00Z`` answered 500 (the default start, a day earlier, left the
    calendar); times outside 1970–8999 are now refused as invalid."""
    for params in (
        {"end": "0001-01-01T00:00:00Z"},
        {"start": "0001-01-01T00:30:00+05:00", "end": "0001-01-01T01:00:00+05:00"},
        {"start": "9999-12-31T20:00:00-12:00"},
    ):
        answer = client.get("/api/v1/events", params=params, headers=auth)
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "invalid_request"
    assert client.get("/api/v1/events", params={"end": "1970-01-02T00:00:00Z"}, headers=auth).json() == []
