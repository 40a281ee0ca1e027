"""One search box, in Chinese or English: "穿红衣服背蓝书包的小孩", "white van", "红色电动车 昨天", "person in a red
jacket last night" → what to look for in the tracks, what was understood, and the words that were not.

The text is read left to right, taking at each place the longest word of the vocabulary that starts there (Chinese
has no spaces; English words must stand alone). A colour belongs to the garment, vehicle or bag named right after
it ("红衣服" upper body red, "white van" a white car); a colour on its own may be upper or lower. Bags are carried
(their colour is not kept, and saying so is reported). Times are relative to ``now`` in local time. Words outside
the vocabulary are returned, never dropped silently: the caller may still know them (place names)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Literal

from sharpeyes.core.tracks import COLOURS_ZH

Kind = Literal["class", "colour", "upper", "lower", "carried", "day", "part", "site_type", "filler"]

_WORDS: dict[str, tuple[Kind, str]] = {}


def _add(kind: Kind, value: str, *words: str) -> None:
    for word in words:
        _WORDS[word.lower()] = (kind, value)


_add("class", "person", "人", "行人", "人员", "男子", "女子", "男人", "女人", "男", "女", "小孩", "孩子", "儿童",
     "学生", "老人", "person", "people", "pedestrian", "man", "men", "woman", "women", "child", "children", "kid",
     "boy", "girl", "student")  # fmt: skip
_add("class", "car", "车", "汽车", "轿车", "小车", "面包车", "car", "cars", "van", "sedan", "suv", "taxi")
_add("class", "truck", "货车", "卡车", "大车", "truck", "lorry", "pickup")
_add("class", "bus", "公交", "公交车", "大巴", "客车", "bus", "coach")
_add("class", "motorcycle", "电动车", "电瓶车", "摩托车", "摩托", "助力车", "motorcycle", "motorbike", "scooter",
     "e-bike", "ebike", "moped")  # fmt: skip
_add("class", "bicycle", "自行车", "单车", "脚踏车", "bicycle", "bike", "cyclist")
_add("upper", "upper", "衣服", "上衣", "外套", "夹克", "衬衫", "t恤", "卫衣", "毛衣", "大衣", "羽绒服", "校服",
     "jacket", "coat", "shirt", "t-shirt", "top", "hoodie", "sweater", "jumper", "uniform")  # fmt: skip
_add("lower", "lower", "裤子", "裤", "长裤", "短裤", "裙子", "裙", "牛仔裤", "trousers", "pants", "jeans", "shorts",
     "skirt")  # fmt: skip
_add("carried", "backpack", "背包", "书包", "双肩包", "backpack", "rucksack", "schoolbag")
_add("carried", "handbag", "手提包", "挎包", "包", "handbag", "bag", "purse")
_add("carried", "suitcase", "行李箱", "拉杆箱", "箱子", "suitcase", "luggage")
_add("carried", "umbrella", "雨伞", "伞", "umbrella")
for _name, _zh in COLOURS_ZH.items():
    _add("colour", _name, _name, _zh, _zh + "色")
_add("colour", "grey", "gray", "银", "银色", "silver")
_add("colour", "black", "深色", "dark")
_add("colour", "white", "浅色")
_add("day", "0", "今天", "今日", "today")
_add("day", "1", "昨天", "昨日", "yesterday")
_add("day", "2", "前天")
_add("part", "morning", "上午", "早上", "morning")
_add("part", "afternoon", "下午", "afternoon")
_add("part", "evening", "晚上", "傍晚", "evening", "tonight")
_add("part", "night", "夜里", "深夜", "凌晨", "半夜", "night")
_add("part", "last night", "昨晚", "昨夜", "last night")
_add("site_type", "school", "学校", "校门", "校门口", "小学", "中学", "school", "schools", "school gate")
_add("site_type", "kindergarten", "幼儿园", "kindergarten", "nursery")
_add("filler", "", "的", "穿", "穿着", "戴", "背", "背着", "拿", "拿着", "拉", "拉着", "提", "提着", "骑", "骑着",
     "开", "开着", "在", "和", "与", "有", "一个", "个", "a", "an", "the", "in", "with", "wearing", "carrying",
     "and", "on", "at", "of", "riding", "driving", "who", "is", "was", "near", "by")  # fmt: skip

_PARTS = {
    "morning": (time(6), time(12)),
    "afternoon": (time(12), time(18)),
    "evening": (time(18), time(23, 59, 59)),
    "night": (time(0), time(6)),
}
_LONGEST = max(len(word) for word in _WORDS)
_LATIN = re.compile(r"[a-z0-9\-]")
MAX_TEXT = 200
"""Characters of query text read (the rest is reported as ignored)."""


@dataclass(slots=True)
class Query:
    classes: set[str] = field(default_factory=set)
    upper_colours: set[str] = field(default_factory=set)
    lower_colours: set[str] = field(default_factory=set)
    any_colours: set[str] = field(default_factory=set)
    carried: set[str] = field(default_factory=set)
    site_types: set[str] = field(default_factory=set)
    start: datetime | None = None
    end: datetime | None = None
    ignored: list[str] = field(default_factory=list)
    """Words not understood (or understood but not searchable), in the order given."""

    def understood(self) -> dict[str, object]:
        said: dict[str, object] = {}
        for key in ("classes", "upper_colours", "lower_colours", "any_colours", "carried", "site_types"):
            values = getattr(self, key)
            if values:
                said[key] = sorted(values)
        if self.start is not None and self.end is not None:
            said["start"], said["end"] = self.start.isoformat(), self.end.isoformat()
        return said


def parse(text: str, now: datetime, zone: tzinfo | None = None) -> Query:
    """What ``text`` asks for; ``now`` (aware) anchors relative times, read in ``zone`` (the platform's local
    time; the server's own when None)."""
    query = Query()
    words = _read(text[:MAX_TEXT].lower())
    day: int | None = None
    part: str | None = None
    for index, (word, meaning) in enumerate(words):
        if meaning is None:
            query.ignored.append(word)
            continue
        kind, value = meaning
        following = words[index + 1][1] if index + 1 < len(words) else None
        following = following if following is None or following[0] != "filler" else _next_meaning(words, index)
        if kind == "class":
            query.classes.add(value)
        elif kind == "carried":
            query.carried.add(value)
        elif kind == "site_type":
            query.site_types.add(value)
        elif kind == "colour":
            _colour(query, word, value, following)
        elif kind == "day":
            day = int(value)
        elif kind == "part":
            part = value
    query.start, query.end = _times(now.astimezone(zone), day, part)
    if len(text) > MAX_TEXT:
        query.ignored.append(f"… ({len(text) - MAX_TEXT} more characters not read)")
    return query


def _colour(query: Query, word: str, colour: str, following: tuple[Kind, str] | None) -> None:
    if following is None:
        query.any_colours.add(colour)
    elif following[0] == "upper":
        query.upper_colours.add(colour)
    elif following[0] == "lower":
        query.lower_colours.add(colour)
    elif following[0] == "class" and following[1] != "person":
        query.upper_colours.add(colour)  # a vehicle's body colour is kept as its upper colour
    elif following[0] == "carried":
        query.ignored.append(f"{word} ({following[1]} colour is not kept)")
    else:
        query.any_colours.add(colour)


def _next_meaning(words: list[tuple[str, tuple[Kind, str] | None]], index: int) -> tuple[Kind, str] | None:
    for _word, meaning in words[index + 1 :]:
        if meaning is None or meaning[0] != "filler":
            return meaning
    return None


def _read(text: str) -> list[tuple[str, tuple[Kind, str] | None]]:
    """The text as vocabulary words (with their meaning) and runs of unknown characters (meaning None)."""
    found: list[tuple[str, tuple[Kind, str] | None]] = []
    unknown = ""
    at = 0
    while at < len(text):
        match = _longest_word(text, at)
        if match is None:
            character = text[at]
            if character.isspace() or character in ",，。.;；、!！?？":
                if unknown:
                    found.append((unknown, None))
                    unknown = ""
            else:
                unknown += character
            at += 1
            continue
        if unknown:
            found.append((unknown, None))
            unknown = ""
        found.append((match, _WORDS[match]))
        at += len(match)
    if unknown:
        found.append((unknown, None))
    return found


def _longest_word(text: str, at: int) -> str | None:
    for length in range(min(_LONGEST, len(text) - at), 0, -1):
        word = text[at : at + length]
        if word not in _WORDS:
            continue
        latin = bool(_LATIN.match(word[0]))
        before = text[at - 1] if at > 0 else " "
        after = text[at + length] if at + length < len(text) else " "
        if latin and (_LATIN.match(before) or _LATIN.match(after)):
            continue  # an English word must stand alone ("car" is not in "scarf")
        return word
    return None


def _times(local: datetime, day: int | None, part: str | None) -> tuple[datetime | None, datetime | None]:
    if part == "last night":
        today = datetime.combine(local.date(), time(0), local.tzinfo)
        return today - timedelta(hours=6), today + timedelta(hours=6)
    if day is None and part is None:
        return None, None
    date = local.date() - timedelta(days=day or 0)
    if part is None:
        start = datetime.combine(date, time(0), local.tzinfo)
        return start, start + timedelta(days=1)
    first, last = _PARTS[part]
    return datetime.combine(date, first, local.tzinfo), datetime.combine(date, last, local.tzinfo)
