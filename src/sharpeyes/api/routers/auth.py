"""Sign in."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from sharpeyes.api.deps import presented_token
from sharpeyes.api.schemas.auth import LoginRequest, Me, TokenResponse
from sharpeyes.api.schemas.common import Problem
from sharpeyes.services.accounts import AccountService, User


def auth_router(accounts: AccountService, current_user: Callable[..., User]) -> APIRouter:
    router = APIRouter(prefix="/auth", tags=["auth"])

    @router.post("/login", responses={401: {"model": Problem}, 429: {"model": Problem}})
    def login(body: LoginRequest, request: Request) -> TokenResponse:
        """A token for the user; every attempt, right or wrong, is audited with the address it came from."""
        address = request.client.host if request.client is not None else ""
        issued = accounts.login(body.username, body.password, address)
        return TokenResponse(access_token=issued.access_token, expires_at=issued.expires_at)

    @router.post("/logout", status_code=204, response_class=Response, responses={401: {"model": Problem}})
    def logout(token: Annotated[str, Depends(presented_token)]) -> None:
        """Revoke the token this request carries: it is refused from now on."""
        accounts.logout(token)

    @router.get("/me", responses={401: {"model": Problem}})
    def me(user: Annotated[User, Depends(current_user)]) -> Me:
        return Me(username=user.username, role=user.role)

    return router
