"""Search across cameras: tracks structured from real footage, found by Chinese and English descriptions, bound
to a purpose and written to the audit log."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sharpeyes.analytics.offline import analyze_file
from sharpeyes.analytics.pipeline import Analyzer, AnalyzerConfig
from sharpeyes.analytics.structuring import describe
from sharpeyes.cli.wiring import Runtime
from sharpeyes.core.areas import SiteType
from sharpeyes.core.settings import AnalyticsSettings
from sharpeyes.core.tracks import TrackRecord
from sharpeyes.services.cameras import CameraDraft
from sharpeyes.services.models import ModelService
from sharpeyes.store.database import session_factory
from sharpeyes.store.models import AreaRow
from tests.conftest import DATA

REASON = {"reason": "寻找走失人员 missing person report 2026-118"}


def _camera(client: TestClient, auth: dict[str, str], name: str, clip: Path) -> str:
    answer = client.post("/api/v1/cameras", json={"name": name, "source_url": clip.as_uri()}, headers=auth)
    assert answer.status_code == 201, answer.text
    camera_id: str = answer.json()["id"]
    return camera_id


def _search(client: TestClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/search", json=body, headers=auth)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_people_structured_from_pets09_are_found_by_what_they_wear(
    client: TestClient, auth: dict[str, str], runtime: Runtime, nanodet_model: Path
) -> None:
    clip = DATA / "pets09-s2l1" / "pets09-s2l1.mp4"
    if not clip.exists():
        pytest.skip(f"{clip} not found: set SHARPEYES_TEST_DATA to the shared data folder")
    camera_id = _camera(client, auth, "campus road", clip)
    detector = ModelService(nanodet_model.parent).detector(AnalyticsSettings(detector_threads=1), score_threshold=0.15)
    analyzer = Analyzer(detector, AnalyzerConfig(fps=5, min_height_px=50, classes=frozenset({0})))
    result = analyze_file(clip, analyzer, 5.0, max_frames=650)
    origin = datetime.now(UTC) - timedelta(hours=1)
    for track in result.tracks:
        runtime.services.tracks.keep(*describe(track, camera_id, origin))
    assert len(result.tracks) >= 10

    # In the first 65 s, two people wear red tops (watched; see tests/analytics/test_attributes.py).
    red = _search(client, auth, text="穿红衣服的人", **REASON)
    assert red["understood"]["classes"] == ["person"]
    assert red["understood"]["upper_colours"] == ["red"]
    assert red["ignored_terms"] == []
    assert 1 <= len(red["results"]) <= 4
    first = red["results"][0]
    assert first["class"] == "person"
    assert first["attributes"]["upper_colour"] == "red"
    assert first["camera_id"] == camera_id
    assert "playback.m3u8?start=" in first["playback_url"]
    picture = client.get(first["thumbnail_url"], headers=auth)
    assert picture.status_code == 200
    assert picture.content[:2] == b"\xff\xd8"
    assert client.get(first["thumbnail_url"]).status_code == 401

    everyone = _search(client, auth, text="people", **REASON)
    assert len(everyone["results"]) == len(result.tracks)
    english = _search(client, auth, text="person in a red top", **REASON)
    assert {r["track_id"] for r in english["results"]} == {r["track_id"] for r in red["results"]}
    dark = _search(client, auth, text="黑衣服", **REASON)
    assert dark["results"], "most people on the campus road wear dark coats"
    assert all(r["attributes"]["upper_colour"] == "black" for r in dark["results"])
    elsewhere = _search(client, auth, text="red top", camera_ids=["no-such-camera"], **REASON)
    assert elsewhere["results"] == []

    # By example: the picture of the first red-top track, uploaded, finds that track first; so does its id.
    example = base64.b64encode(picture.content).decode()
    alike = _search(client, auth, image_base64=example, **REASON)
    assert alike["results"][0]["track_id"] == first["track_id"]
    assert alike["results"][0]["score"] > 0.9
    assert alike["results"][0]["score"] >= alike["results"][-1]["score"]
    assert alike["understood"]["example"] == "image"
    by_track = _search(client, auth, track_id=first["track_id"], text="人", **REASON)
    assert by_track["results"][0]["track_id"] == first["track_id"]
    red_alike = _search(client, auth, track_id=first["track_id"], text="红衣服", **REASON)
    assert red_alike["results"], "the index finds neighbours; colours are checked on them"
    assert all(r["attributes"]["upper_colour"] == "red" for r in red_alike["results"])
    assert len(red_alike["results"]) == len(red["results"])
    nowhere = _search(client, auth, image_base64=example, camera_ids=["no-such-camera"], **REASON)
    assert nowhere["results"] == []
    not_a_picture = base64.b64encode(b"%PDF-1.4 not a picture").decode()
    refused = client.post("/api/v1/search", json={"image_base64": not_a_picture, **REASON}, headers=auth)
    assert refused.status_code == 422
    assert refused.json()["code"] == "bad_image"
    garbled = client.post("/api/v1/search", json={"image_base64": "@@@", **REASON}, headers=auth)
    assert garbled.json()["code"] == "bad_image"
    unpurposed = client.post("/api/v1/search", json={"image_base64": example}, headers=auth)
    assert unpurposed.json()["code"] == "purpose_required", "a picture may show a person: a purpose is needed"


def test_searches_need_a_purpose_and_are_all_audited(
    client: TestClient, auth: dict[str, str], runtime: Runtime
) -> None:
    refused = client.post("/api/v1/search", json={"text": "white van"}, headers=auth)
    assert refused.status_code == 422
    assert refused.json()["code"] == "purpose_required"
    blank = client.post("/api/v1/search", json={"text": "white van", "case_id": "   ", "reason": " "}, headers=auth)
    assert blank.json()["code"] == "purpose_required", "blanks are no purpose"
    assert "案件编号" in refused.json()["detail"]
    bags = client.post("/api/v1/search", json={"text": "行李箱"}, headers=auth)
    assert bags.status_code == 200, "a lost suitcase is not a person: no purpose needed"
    assert bags.json()["understood"]["classes"] == ["suitcase"]
    nothing = client.post("/api/v1/search", json={"text": "   ", **REASON}, headers=auth)
    assert nothing.status_code == 422
    assert nothing.json()["code"] == "empty_query"
    unknown = client.post("/api/v1/search", json={"text": "zebra crossing", **REASON}, headers=auth)
    assert unknown.status_code == 422
    assert "zebra" in unknown.json()["detail"]
    decade = {"start": "2016-01-01T00:00:00+08:00", "end": "2026-01-01T00:00:00+08:00"}
    too_long = client.post("/api/v1/search", json={"text": "white car", **REASON, **decade}, headers=auth)
    assert too_long.status_code == 422
    assert too_long.json()["code"] == "bad_range"
    backwards = {"start": "2026-01-02T00:00:00+08:00", "end": "2026-01-01T00:00:00+08:00"}
    reversed_range = client.post("/api/v1/search", json={"text": "white car", **REASON, **backwards}, headers=auth)
    assert reversed_range.status_code == 422
    injected = client.post("/api/v1/search", json={"text": "car'; DROP TABLE tracks; --", **REASON}, headers=auth)
    assert injected.status_code == 200
    assert "drop" in injected.json()["ignored_terms"]
    assert client.post("/api/v1/search", json={"text": "car", **REASON}).status_code == 401

    audit = runtime.services.search.audit()
    assert [entry.outcome for entry in reversed(audit)] == [
        "refused",
        "refused",
        "ok",
        "refused",
        "refused",
        "refused",
        "refused",
        "ok",
    ]
    assert all(entry.username == "admin" for entry in audit)
    assert audit[0].data["reason"] == REASON["reason"]
    assert audit[0].data["text"] == "car'; DROP TABLE tracks; --"
    assert client.post("/api/v1/search", json={"text": "car", **REASON}, headers=auth).status_code == 200, (
        "tables intact"
    )


def test_area_and_time_filters_narrow_the_tracks(client: TestClient, auth: dict[str, str], runtime: Runtime) -> None:
    clip = Path(__file__)  # any file: the cameras are not streamed here
    north, south = _camera(client, auth, "north gate", clip), _camera(client, auth, "south gate", clip)
    now = datetime.now(UTC)
    for camera_id, hours_ago in ((north, 1), (south, 1), (south, 30)):
        start = now - timedelta(hours=hours_ago)
        record = TrackRecord(camera_id, "car", start, start + timedelta(seconds=12), upper_colour="white")
        runtime.services.tracks.keep(record, None)
    everywhere = _search(client, auth, text="白色汽车", **REASON)
    assert len(everywhere["results"]) == 3
    assert everywhere["results"][0]["thumbnail_url"] is None, "no picture: none promised"
    beijing = timezone(timedelta(hours=8))
    two_hours_ago = (now - timedelta(hours=2)).astimezone(beijing).isoformat()  # offsets other than UTC compare right
    today = _search(client, auth, text="白色汽车", camera_ids=[south], start=two_hours_ago, **REASON)
    assert [r["camera_id"] for r in today["results"]] == [south]
    assert today["results"][0]["attributes"]["dwell_s"] == 12.0


def test_place_names_in_the_text_narrow_to_areas_and_sites(
    client: TestClient, auth: dict[str, str], runtime: Runtime
) -> None:
    with session_factory(runtime.engine).begin() as db:
        db.add(AreaRow(code="320114", name="雨花台区", level="district", parent_code=None))
        db.add(AreaRow(code="320115", name="江宁区", level="district", parent_code=None))
    cameras = runtime.services.cameras
    school = cameras.add(
        CameraDraft("gate", "rtsp://127.0.0.1:1/a", area_code="320114", site_name="实验小学", site_type=SiteType.SCHOOL)
    )
    road = cameras.add(CameraDraft("road", "rtsp://127.0.0.1:1/b", area_code="320115"))
    start = datetime.now(UTC) - timedelta(hours=1)
    for camera in (school, road):
        runtime.services.tracks.keep(TrackRecord(camera.id, "car", start, start + timedelta(seconds=5), "white"), None)

    def cameras_found(text: str) -> list[str]:
        answer = _search(client, auth, text=text, **REASON)
        assert answer["ignored_terms"] == [], answer
        return [r["camera_id"] for r in answer["results"]]

    assert cameras_found("雨花台区 白色汽车") == [school.id]
    assert cameras_found("江宁 白色汽车") == [road.id], "an area by the start of its name"
    assert cameras_found("实验小学 白色汽车") == [school.id], "a site by name"
    assert cameras_found("校门口的白色汽车") == [school.id], "school gates: cameras at schools"
    places = _search(client, auth, text="雨花台区 白色汽车", **REASON)["understood"]["places"]
    assert places == ["雨花台区"]


def test_a_rule_zone_named_in_the_text_finds_the_tracks_that_entered_it(
    client: TestClient, auth: dict[str, str], runtime: Runtime
) -> None:
    gate = runtime.services.cameras.add(CameraDraft("school gate", "rtsp://127.0.0.1:1/a"))
    plan = {
        "enabled": False,
        "zones": [{"id": "东门", "polygon": [[0.5, 0.5], [1, 0.5], [1, 1], [0.5, 1]]}],
        "rules": [{"id": "gate", "type": "intrusion", "zone": "东门", "classes": ["car"]}],
    }
    assert client.patch(f"/api/v1/cameras/{gate.id}", json={"analytics": plan}, headers=auth).status_code == 200
    start = datetime.now(UTC) - timedelta(hours=1)
    for zones in ((), ("东门",)):
        record = TrackRecord(gate.id, "car", start, start + timedelta(seconds=5), "white", zones=zones)
        runtime.services.tracks.keep(record, None)
    answer = _search(client, auth, text="东门 白色汽车", **REASON)
    assert answer["ignored_terms"] == []
    assert answer["understood"]["places"] == ["东门"]
    assert [r["attributes"]["zones"] for r in answer["results"]] == [["东门"]]
    assert len(_search(client, auth, text="白色汽车", **REASON)["results"]) == 2
    bad = {**plan, "zones": [{"id": "east,west", "polygon": [[0, 0], [1, 0], [1, 1]]}], "rules": []}
    refused = client.patch(f"/api/v1/cameras/{gate.id}", json={"analytics": bad}, headers=auth)
    assert refused.status_code == 422
    assert "without commas" in refused.text


def test_an_example_picture_with_characters_outside_base64_is_refused(client: TestClient, auth: dict[str, str]) -> None:
    """Regression: ``image_base64`` holding a character outside ASCII ("\\x80") made the server answer 500, since
    base64 decoding raises a plain ValueError for it, not binascii.Error."""
    for garbled in ("\x80", "图片", "aGVsbG8=\u00e9"):
        answer = client.post("/api/v1/search", json={"image_base64": garbled, **REASON}, headers=auth)
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "bad_image"


def test_times_beyond_the_calendar_are_refused(client: TestClient, auth: dict[str, str]) -> None:
    """Regression: a start or end in year 1 or 9999 answered 500 (the default period or the change to UTC left the
    calendar); times outside 1970–8999 are now refused as invalid."""
    for period in (
        {"end": "0001-01-01T01:00:00+05:00"},
        {"start": "0001-01-01T00:30:00+05:00", "end": "0001-01-01T01:00:00+05:00"},
        {"start": "9999-12-31T20:00:00-12:00", "end": "9999-12-31T23:00:00-12:00"},
    ):
        answer = client.post("/api/v1/search", json={"text": "person", **period, **REASON}, headers=auth)
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] in ("start", "end")
