"""Liveness, without authentication."""

from fastapi import APIRouter
from pydantic import BaseModel


class Health(BaseModel):
    status: str


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    def healthz() -> Health:
        return Health(status="ok")

    return router
