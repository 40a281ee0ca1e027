"""Areas and sites: the tree, the places in it, and their imports."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, UploadFile

from sharpeyes.api.schemas.areas import AreaOut, SiteOut
from sharpeyes.api.schemas.common import PROBLEM_RESPONSES, Problem
from sharpeyes.api.schemas.imports import ImportReportOut
from sharpeyes.api.uploads import check_upload
from sharpeyes.services.accounts import User
from sharpeyes.services.areas import AreaService
from sharpeyes.services.sites import SiteService


def areas_router(areas: AreaService, max_upload_mb: int, current_user: Callable[..., User]) -> APIRouter:
    router = APIRouter(prefix="/areas", tags=["areas"], responses=PROBLEM_RESPONSES)

    @router.get("")
    def list_areas(
        parent: Annotated[str | None, Query(description="Parent code; absent: the top-level areas.")] = None,
    ) -> list[AreaOut]:
        return [AreaOut.from_area(area) for area in areas.children(parent)]

    @router.post("/import", responses={413: {"model": Problem}})
    def import_areas(
        file: Annotated[UploadFile, File()], user: Annotated[User, Depends(current_user)], dry_run: bool = False
    ) -> ImportReportOut:
        """CSV or XLSX with columns code, name, level (city|district|township|village), parent_code[, boundary].
        Audited (not a dry run)."""
        name = check_upload(file, max_upload_mb)
        report = areas.import_table(file.file, dry_run=dry_run, source_name=name, by=user.username)
        return ImportReportOut.from_report(report)

    @router.get("/{code}")
    def get_area(code: str) -> AreaOut:
        return AreaOut.from_area(areas.get(code))

    return router


def sites_router(sites: SiteService, max_upload_mb: int, current_user: Callable[..., User]) -> APIRouter:
    router = APIRouter(prefix="/sites", tags=["areas"], responses=PROBLEM_RESPONSES)

    @router.get("")
    def list_sites(
        area: Annotated[str | None, Query(description="Only sites directly in this area.")] = None,
    ) -> list[SiteOut]:
        return [SiteOut.model_validate(site) for site in sites.list(area)]

    @router.post("/import", responses={413: {"model": Problem}})
    def import_sites(
        file: Annotated[UploadFile, File()], user: Annotated[User, Depends(current_user)], dry_run: bool = False
    ) -> ImportReportOut:
        """CSV or XLSX with columns name, site_type, area_code[, longitude, latitude]
        (点位名称, 点位类型, 区划编码, 经度, 纬度). Audited (not a dry run)."""
        name = check_upload(file, max_upload_mb)
        report = sites.import_table(file.file, dry_run=dry_run, source_name=name, by=user.username)
        return ImportReportOut.from_report(report)

    return router
