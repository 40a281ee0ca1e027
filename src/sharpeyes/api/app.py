"""The FastAPI application: thin routers over the services, problem documents, the first web page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from sharpeyes import __version__
from sharpeyes.api.access import authorized
from sharpeyes.api.deps import current_user_dependency, media_user_dependency
from sharpeyes.api.limits import BodyLimitMiddleware, BodyLimits
from sharpeyes.api.problems import install_problem_handlers
from sharpeyes.api.routers.areas import areas_router, sites_router
from sharpeyes.api.routers.audit import audit_router
from sharpeyes.api.routers.auth import auth_router, oidc_router
from sharpeyes.api.routers.cameras import cameras_router
from sharpeyes.api.routers.coverage import coverage_router
from sharpeyes.api.routers.events import events_router, events_stream_router
from sharpeyes.api.routers.exports import exports_router
from sharpeyes.api.routers.gb import gb_router
from sharpeyes.api.routers.health import health_router
from sharpeyes.api.routers.live import live_hls_router, live_router
from sharpeyes.api.routers.media import camera_media_router
from sharpeyes.api.routers.metrics import metrics_router
from sharpeyes.api.routers.privacy import privacy_router
from sharpeyes.api.routers.search import search_router
from sharpeyes.api.routers.users import users_router
from sharpeyes.core.settings import Settings
from sharpeyes.services.container import Services

API_PREFIX = "/api/v1"
STATIC_DIR = Path(__file__).with_name("static")


class BackgroundWorker(Protocol):
    """A long-lived loop that runs while the app serves."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def create_app(settings: Settings, services: Services, workers: Sequence[BackgroundWorker] = ()) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for worker in workers:
            await worker.start()
        try:
            yield
        finally:
            for worker in reversed(workers):
                await worker.stop()
            services.tracks.close()  # the appearance index is saved as it stands

    app = FastAPI(
        title="Sharp Eyes",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limits=BodyLimits.from_upload_limit(settings.imports.max_upload_mb))
    app.middleware("http")(_security_headers)  # added after: its headers go on refusals of the limits too
    if settings.server.https:
        app.middleware("http")(_strict_transport)
    current_user = current_user_dependency(services.accounts)

    api = APIRouter(prefix=API_PREFIX)
    api.include_router(auth_router(services.accounts, current_user))
    api.include_router(oidc_router(services.oidc))  # public, like login
    guarded = [Depends(authorized(current_user, services.access))]
    max_mb = settings.imports.max_upload_mb
    api.include_router(
        cameras_router(
            services.cameras,
            services.inventory,
            services.recordings,
            services.analysis,
            max_mb,
            current_user,
            services.access,
            services.privacy,
        ),
        dependencies=guarded,
    )
    media_user = media_user_dependency(services.accounts, services.tickets)
    media_guarded = [Depends(authorized(media_user, services.access))]
    api.include_router(
        camera_media_router(
            services.recordings,
            services.health,
            services.quality,
            services.gb,
            services.device_playback,
            services.privacy,
            services.tickets,
            media_user,
        ),
        dependencies=media_guarded,
    )
    api.include_router(
        live_hls_router(services.live, services.privacy, services.tickets, media_user), dependencies=media_guarded
    )
    api.include_router(
        live_router(services.accounts, services.live, services.access, services.privacy)
    )  # authenticates in its first message
    api.include_router(privacy_router(services.privacy, current_user), dependencies=guarded)
    api.include_router(areas_router(services.areas, max_mb, current_user), dependencies=guarded)
    api.include_router(sites_router(services.sites, max_mb, current_user), dependencies=guarded)
    api.include_router(
        coverage_router(services.coverage, services.map, current_user, services.access), dependencies=guarded
    )
    api.include_router(
        events_router(services.events, services.analysis, current_user, services.access, services.privacy),
        dependencies=guarded,
    )
    api.include_router(events_stream_router(services.accounts, services.events, services.access))  # ditto
    api.include_router(metrics_router(services.analysis), dependencies=guarded)
    api.include_router(search_router(services.search, current_user, services.access), dependencies=guarded)
    api.include_router(audit_router(services.audit, current_user), dependencies=guarded)
    api.include_router(users_router(services.accounts, current_user), dependencies=guarded)
    api.include_router(
        exports_router(services.exports, services.privacy, current_user, services.access), dependencies=guarded
    )
    api.include_router(gb_router(services.gb, services.cascade, current_user), dependencies=guarded)
    app.include_router(api)
    app.include_router(health_router())

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    return app


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
"""On every answer: no content sniffing, no framing of the console (click-jacking), no addresses leaked in
Referer. No CORS headers are sent: other sites' pages cannot read the API."""


async def _security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    answer = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        answer.headers.setdefault(name, value)
    return answer


async def _strict_transport(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Served over HTTPS: browsers are told to keep to it (a year)."""
    answer = await call_next(request)
    answer.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return answer
