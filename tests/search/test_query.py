"""The search box in Chinese and English."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sharpeyes.search.query import parse

NOW = datetime(2026, 11, 29, 10, 30).astimezone()


def test_a_child_in_red_with_a_blue_schoolbag() -> None:
    query = parse("穿红衣服背蓝书包的小孩", NOW)
    assert query.classes == {"person"}
    assert query.upper_colours == {"red"}
    assert query.carried == {"backpack"}
    assert query.ignored == ["蓝 (backpack colour is not kept)"], "the bag's colour is said to be unused"
    assert query.start is None


def test_vehicles_take_the_colour_before_them() -> None:
    van = parse("white van", NOW)
    assert (van.classes, van.upper_colours, van.ignored) == ({"car"}, {"white"}, [])
    ebike = parse("红色电动车 昨天", NOW)
    assert (ebike.classes, ebike.upper_colours) == ({"motorcycle"}, {"red"})
    yesterday = (NOW - timedelta(days=1)).date()
    assert ebike.start is not None
    assert ebike.end is not None
    assert (ebike.start.date(), ebike.end - ebike.start) == (yesterday, timedelta(days=1))


def test_english_garments_times_and_unknown_words() -> None:
    query = parse("man in a red jacket and blue jeans with a suitcase yesterday afternoon near the zebra", NOW)
    assert query.classes == {"person"}
    assert (query.upper_colours, query.lower_colours, query.carried) == ({"red"}, {"blue"}, {"suitcase"})
    assert query.start is not None
    assert query.end is not None
    assert (query.start.hour, query.end.hour, query.start.day) == (12, 18, 28)
    assert query.ignored == ["zebra"], "unknown words are reported, not dropped"
    assert parse("scarf", NOW).classes == set(), "English words stand alone: no car in scarf"
    assert parse("scarf", NOW).ignored == ["scarf"]


def test_last_night_spans_midnight_and_a_colour_alone_may_be_anywhere() -> None:
    query = parse("昨晚 黑色", NOW)
    assert query.start is not None
    assert query.end is not None
    assert query.end - query.start == timedelta(hours=12)
    assert query.start.hour == 18
    assert query.any_colours == {"black"}
    assert query.understood()["any_colours"] == ["black"]


def test_place_names_and_metacharacters_come_back_as_unknown() -> None:
    query = parse("雨花区 校门口 白色汽车 '; DROP TABLE tracks; --", NOW)
    assert (query.classes, query.upper_colours) == ({"car"}, {"white"})
    assert "雨花区" in query.ignored
    assert query.site_types == {"school"}, "school gates are a kind of site"
    assert "drop" in query.ignored
    assert parse("x" * 5000, NOW).ignored[-1] == "… (4800 more characters not read)", "long text is cut, and said"


def test_times_are_read_in_the_platforms_zone() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    now_utc = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    query = parse("昨天下午", now_utc, shanghai)
    assert query.start == datetime(2026, 11, 28, 12, 0, tzinfo=shanghai)
    assert query.end == datetime(2026, 11, 28, 18, 0, tzinfo=shanghai)
