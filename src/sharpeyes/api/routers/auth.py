"""Sign in: with a password, or through the identity provider (single sign-on)."""

from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Cookie, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse

from sharpeyes.api.deps import presented_token
from sharpeyes.api.schemas.auth import LoginRequest, Me, OidcStatus, TokenResponse
from sharpeyes.api.schemas.common import Problem
from sharpeyes.core import roles
from sharpeyes.core.errors import AuthenticationError, TooManyAttemptsError, UnavailableError
from sharpeyes.services.accounts import AccountService, User
from sharpeyes.services.oidc import STATE_TTL_S, OidcAnswer, OidcService

OIDC_BINDING_COOKIE = "sharpeyes_oidc"
"""Ties a sign-in to the browser that started it; sent back to the callback only, for ten minutes."""
_REFUSALS = (AuthenticationError, TooManyAttemptsError, UnavailableError)


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
        return Me(username=user.username, role=user.role, permissions=sorted(roles.ROLES.get(user.role, ())))

    return router


def oidc_router(oidc: OidcService) -> APIRouter:
    """Single sign-on. Public (like login) and browser navigations rather than API calls, so kept out of the API
    document; with single sign-on off, login and callback answer 404."""
    router = APIRouter(prefix="/auth/oidc", tags=["auth"], include_in_schema=False)

    @router.get("")
    def oidc_status() -> OidcStatus:
        return OidcStatus(enabled=oidc.enabled, display_name=oidc.display_name)

    @router.get("/login")
    def oidc_login() -> RedirectResponse:
        """Off to the identity provider; the browser keeps a binding cookie for the callback meanwhile."""
        try:
            started = oidc.start()
        except _REFUSALS as err:
            return _to_console("oidc_error", err.code)
        answer = RedirectResponse(started.url, status_code=302, headers={"Cache-Control": "no-store"})
        answer.set_cookie(OIDC_BINDING_COOKIE, started.binding, max_age=int(STATE_TTL_S), path=oidc.callback_path,
                          secure=oidc.callback_https, httponly=True, samesite="lax")  # fmt: skip
        return answer

    @router.get("/callback")
    def oidc_callback(
        request: Request,
        code: Annotated[str | None, Query(max_length=4096)] = None,
        state: Annotated[str | None, Query(max_length=256)] = None,
        error: Annotated[str | None, Query(max_length=256)] = None,
        error_description: Annotated[str | None, Query(max_length=1024)] = None,
        binding: Annotated[str | None, Cookie(alias=OIDC_BINDING_COOKIE, max_length=256)] = None,
    ) -> RedirectResponse:
        """Back from the provider: on to the console with a token in the address's fragment (which browsers never
        send to a server), or with the code of the refusal (audited)."""
        address = request.client.host if request.client is not None else ""
        try:
            issued = oidc.finish(OidcAnswer(code, state, error, error_description, binding), address)
        except _REFUSALS as err:
            answer = _to_console("oidc_error", err.code)
        else:
            answer = _to_console("oidc_token", issued.access_token)
        answer.delete_cookie(OIDC_BINDING_COOKIE, path=oidc.callback_path, secure=oidc.callback_https, httponly=True,
                             samesite="lax")  # fmt: skip
        return answer

    return router


def _to_console(name: str, value: str) -> RedirectResponse:
    return RedirectResponse(f"/#{name}={quote(value, safe='')}", status_code=303, headers={"Cache-Control": "no-store"})
