"""Sign in."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends

from sharpeyes.api.schemas.auth import LoginRequest, Me, TokenResponse
from sharpeyes.api.schemas.common import Problem
from sharpeyes.services.accounts import AccountService, User


def auth_router(accounts: AccountService, current_user: Callable[..., User]) -> APIRouter:
    router = APIRouter(prefix="/auth", tags=["auth"])

    @router.post("/login", responses={401: {"model": Problem}})
    def login(body: LoginRequest) -> TokenResponse:
        issued = accounts.login(body.username, body.password)
        return TokenResponse(access_token=issued.access_token, expires_at=issued.expires_at)

    @router.get("/me", responses={401: {"model": Problem}})
    def me(user: Annotated[User, Depends(current_user)]) -> Me:
        return Me(username=user.username, role=user.role)

    return router
