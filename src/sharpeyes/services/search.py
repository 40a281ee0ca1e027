"""Search over the kept tracks: one text box (Chinese or English) plus structured filters, bound to a purpose and
written to the audit log whether it is answered or refused."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy.orm import Session, sessionmaker

from sharpeyes.core.audit import AuditEntry
from sharpeyes.core.clock import check_range, utcnow
from sharpeyes.core.errors import InvalidInputError, SharpEyesError
from sharpeyes.core.tracks import CARRIED_CLASSES, TrackFilter, TrackRecord
from sharpeyes.search.query import parse
from sharpeyes.services.audit_log import AuditTrail
from sharpeyes.services.tracks import TrackService
from sharpeyes.store.places import Place, PlaceRepository

DEFAULT_PERIOD = timedelta(days=7)
LONGEST_PERIOD = timedelta(days=366)
"""A search reads at most a year of tracks (bounded work); narrower periods answer faster."""
MAX_RESULTS = 200
MAX_IMAGE_BYTES = 10_000_000
MAX_IMAGE_PIXELS = 40_000_000


@dataclass(frozen=True, slots=True)
class SearchRequest:
    text: str = ""
    area: str | None = None
    camera_ids: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    classes: tuple[str, ...] = ()
    case_id: str | None = None
    reason: str | None = None
    limit: int = 50
    image: bytes | None = None
    """An example picture (JPEG, PNG…): tracks that look like it come first."""
    track_id: int | None = None
    """Or a track whose picture is the example."""


@dataclass(frozen=True, slots=True)
class Hit:
    record: TrackRecord
    score: float
    """How alike it looks to the example (cosine), or the detector's confidence for a search by words alone."""


@dataclass(frozen=True, slots=True)
class SearchAnswer:
    results: list[Hit]
    understood: dict[str, Any]
    ignored_terms: list[str]


class SearchService:
    def __init__(
        self, sessions: sessionmaker[Session], tracks: TrackService, audit: AuditTrail, zone: tzinfo | None = None
    ) -> None:
        """``zone``: the platform's local time, in which "yesterday afternoon" is meant."""
        self._sessions = sessions
        self._trail = audit
        self._tracks = tracks
        self._zone = zone

    def search(self, username: str, request: SearchRequest) -> SearchAnswer:
        """Tracks matching ``request``, newest first; refused (and logged as refused) without a purpose when it
        looks for people or vehicles."""
        try:
            answer = self._answer(request)
        except SharpEyesError as err:
            self._audit(username, request, "refused", {"reason_refused": err.code})
            raise
        except Exception as err:  # a fault of ours: the attempt is on the record all the same
            self._audit(username, request, "error", {"error": type(err).__name__})
            raise
        self._audit(username, request, "ok", {"understood": answer.understood, "results": len(answer.results)})
        return answer

    def _answer(self, request: SearchRequest) -> SearchAnswer:
        now = utcnow()
        query = parse(request.text, now, self._zone)
        classes = set(query.classes) | set(request.classes)
        carried = set(query.carried)
        if not classes and carried:  # "行李箱" alone: the lost suitcase itself, not someone carrying one
            classes, carried = carried, set()
        example_track = self._tracks.get(request.track_id) if request.track_id is not None else None
        example = self._example(request, example_track)
        words = self._tracks.words(request.text) if example is None and request.text.strip() else None
        if example_track is not None and not classes:
            classes = {example_track.class_name}
        places = self._places(query.ignored)
        described = any((query.upper_colours, query.lower_colours, query.any_colours, carried, classes))
        if not described and example is None and words is None:
            detail = "nothing to look for / 没有可搜索的内容"
            if query.ignored:
                detail = f"no word was understood: {', '.join(query.ignored)} / 无法理解的词"
            raise InvalidInputError(detail, code="empty_query", field="text")
        looks_for_people_or_vehicles = not classes or not classes <= set(CARRIED_CLASSES)
        if looks_for_people_or_vehicles and not ((request.case_id or "").strip() or (request.reason or "").strip()):
            raise InvalidInputError(
                "searching for people or vehicles needs a case_id or a written reason"
                " / 搜索人员或车辆须填写案件编号或事由",
                code="purpose_required",
                field="reason",
            )
        end = request.end or query.end or now
        start = request.start or query.start or end - DEFAULT_PERIOD
        check_range(start, end)
        if end - start > LONGEST_PERIOD:
            raise InvalidInputError("search at most a year at a time / 单次最多搜索一年", code="bad_range")
        wanted = TrackFilter(
            start=start,
            end=end,
            classes=frozenset(classes),
            upper_colours=frozenset(query.upper_colours),
            lower_colours=frozenset(query.lower_colours),
            any_colours=frozenset(query.any_colours),
            carried=frozenset(carried),
            camera_ids=frozenset(request.camera_ids) if request.camera_ids else None,
            area_code=request.area or next((p.area_code for p in places if p.area_code), None),
            site_ids=frozenset().union(*(p.site_ids for p in places if p.site_ids)) or None,
            site_types=frozenset(query.site_types),
            zones=frozenset(p.zone for p in places if p.zone),
            limit=max(1, min(request.limit, MAX_RESULTS)),
        )
        understood = query.understood() | {"start": start.isoformat(), "end": end.isoformat()}
        understood["classes"] = sorted(classes)
        if places:
            understood["places"] = [place.name for place in places]
        if carried:
            understood["carried"] = sorted(carried)
        else:
            understood.pop("carried", None)
        ignored = query.ignored
        if example is not None:
            understood["example"] = "image" if request.image is not None else f"track {request.track_id}"
            hits = [Hit(record, score) for record, score in self._tracks.most_alike(example, wanted)]
        elif words is not None:  # the appearance model read every word, the ones the parser did not know too
            understood["ranked_by_model"] = True
            hits = [Hit(record, score) for record, score in self._tracks.most_alike(words, wanted)]
            ignored = []
        else:
            hits = [Hit(record, record.score) for record in self._tracks.find(wanted)]
        return SearchAnswer(hits, understood, ignored)

    def _places(self, ignored: list[str]) -> list[Place]:
        """The words not otherwise understood that name an area or a site (taken out of ``ignored``)."""
        found: list[Place] = []
        with self._sessions() as db:
            places = PlaceRepository(db)
            for word in list(ignored):
                place = places.find(word)
                if place is not None:
                    found.append(place)
                    ignored.remove(word)
        return found

    def _example(self, request: SearchRequest, track: TrackRecord | None) -> np.ndarray | None:
        """The appearance to search by: of the uploaded picture, or of the track given."""
        if request.image is not None:
            return self._tracks.appearance(_picture(request.image))
        if track is None:
            return None
        embedding = track.embedding
        if embedding is None:
            raise InvalidInputError(
                f"track {request.track_id} has no appearance kept (the model was not installed when it was seen)",
                code="no_appearance",
                field="track_id",
            )
        return embedding

    def _audit(self, username: str, request: SearchRequest, outcome: str, extra: dict[str, Any]) -> None:
        data: dict[str, Any] = {
            "text": request.text[:500],
            "image_sha256": hashlib.sha256(request.image).hexdigest() if request.image is not None else None,
            "track_id": request.track_id,
            "area": request.area,
            "camera_ids": list(request.camera_ids),
            "start": request.start.isoformat() if request.start else None,
            "end": request.end.isoformat() if request.end else None,
            "classes": list(request.classes),
            "case_id": request.case_id,
            "reason": request.reason,
            **extra,
        }
        self._trail.write(username, "search", outcome, data)

    def camera_of(self, track_id: int) -> str:
        """The camera a track was seen by (``NotFoundError`` for no such track)."""
        return self._tracks.get(track_id).camera_id

    def thumbnail(self, username: str, track_id: int) -> bytes:
        """A track's picture: a view of a person or vehicle, on the record like a search."""
        picture = self._tracks.thumbnail(track_id)
        self._trail.write(username, "track.view", "ok", {"track_id": track_id})
        return picture

    def audit(self, limit: int = 100) -> list[AuditEntry]:
        """The latest searches, for auditors."""
        return self._trail.find(action="search", limit=limit)


def _picture(data: bytes) -> np.ndarray:
    """An uploaded example as a BGR array; ``InvalidInputError`` for anything that is not a picture."""
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidInputError(
            f"the example picture is {len(data) / 1e6:.0f} MB; at most {MAX_IMAGE_BYTES / 1e6:.0f} MB",
            code="image_too_large",
            field="image_base64",
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise InvalidInputError("the example picture has too many pixels", code="image_too_large")
            rgb = np.asarray(image.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        raise InvalidInputError(
            "the example is not a picture (JPEG, PNG, WebP…) / 示例不是图片", code="bad_image", field="image_base64"
        ) from err
    return np.ascontiguousarray(rgb[:, :, ::-1])
