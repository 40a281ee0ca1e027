"""Coverage figures, their history, and cameras on the map."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from sharpeyes.api.schemas.areas import CoverageOut, FeatureCollectionOut, FeatureOut, HistoryDayOut
from sharpeyes.api.schemas.common import PROBLEM_RESPONSES
from sharpeyes.services.access import AccessService
from sharpeyes.services.accounts import User
from sharpeyes.services.coverage import CoverageService
from sharpeyes.services.map import MapService, parse_bbox


def coverage_router(
    coverage: CoverageService, map_layer: MapService, current_user: Callable[..., User], access: AccessService
) -> APIRouter:
    router = APIRouter(tags=["coverage"], responses=PROBLEM_RESPONSES)

    @router.get("/coverage")
    def coverage_report(
        user: Annotated[User, Depends(current_user)],
        area: Annotated[str, Query(description="Area code.")],
        gaps_limit: Annotated[int, Query(ge=0, le=100_000, description="Most gaps listed per rule.")] = 1000,
        hours: Annotated[float, Query(gt=0, le=24 * 366, description="Period of the recording figures.")] = 24,
    ) -> CoverageOut:
        """The area's coverage figures (a scoped role: its own areas and those under them only)."""
        access.require_area(user, area)
        return CoverageOut.from_report(coverage.report(area, gaps_limit=gaps_limit, hours=hours))

    @router.get("/coverage/history")
    def coverage_history(
        user: Annotated[User, Depends(current_user)],
        area: Annotated[str, Query(description="Area code.")],
        days: Annotated[int, Query(ge=1, le=3660)] = 30,
    ) -> list[HistoryDayOut]:
        access.require_area(user, area)
        return [HistoryDayOut.from_day(day) for day in coverage.history(area, days)]

    @router.get("/map/cameras")
    def map_cameras(
        user: Annotated[User, Depends(current_user)],
        bbox: Annotated[str, Query(description="west,south,east,north in WGS-84 degrees.")],
        limit: Annotated[int, Query(ge=1, le=20_000, description="More cameras than this come as clusters.")] = 2000,
    ) -> FeatureCollectionOut:
        layer = map_layer.cameras(parse_bbox(bbox), limit=limit, only=access.all_visible(user))
        features = [FeatureOut.model_validate(feature) for feature in layer.features]
        return FeatureCollectionOut(features=features, clustered=layer.clustered, total=layer.total)

    return router
