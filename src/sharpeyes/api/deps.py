"""Request dependencies: who is asking."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sharpeyes.core.errors import AuthenticationError
from sharpeyes.services.accounts import AccountService, User
from sharpeyes.services.media_tickets import MediaTickets

_bearer = HTTPBearer(auto_error=False, description="The access_token from POST /api/v1/auth/login.")


def current_user_dependency(accounts: AccountService) -> Callable[..., User]:
    """A dependency that answers 401 unless the request carries a valid bearer token."""

    def current_user(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> User:
        return _signed_in(accounts, _bearer_token(credentials), client_address(request))

    return current_user


def media_user_dependency(accounts: AccountService, tickets: MediaTickets) -> Callable[..., User]:
    """Like ``current_user``, but for video players (a browser's ``<video>``, VLC) that cannot send headers the
    token may also come as ``?access_token=`` (RFC 6750, section 2.3) — for a playlist — and the URIs inside a
    playlist carry a ``?ticket=`` for that camera and viewer instead (``MediaTickets``). Only media routes take
    them; the server does not log request lines."""

    def media_user(
        request: Request,
        token: Annotated[str | None, Depends(_media_token_or_none)],
        ticket: Annotated[
            str | None, Query(description="A media ticket from a playlist's URIs (this camera and viewer only).")
        ] = None,
    ) -> User:
        address = client_address(request)
        if token:
            return _signed_in(accounts, token, address)
        if ticket:
            try:
                return tickets.redeem(ticket, str(request.path_params.get("camera_id", "")), address)
            except AuthenticationError as err:
                accounts.refused(address, err.code)
                raise
        return _signed_in(accounts, None, address)

    return media_user


def _media_token_or_none(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    access_token: Annotated[str | None, Query(description="The access token, for players without headers.")] = None,
) -> str | None:
    return _bearer_token(credentials) or access_token


def media_token(token: Annotated[str | None, Depends(_media_token_or_none)]) -> str:
    """The token a media request carries in its header or ``access_token`` (401 without one)."""
    if not token:
        raise AuthenticationError("sign in first: send Authorization: Bearer <token> / 请先登录", code="no_token")
    return token


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else ""


def presented_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    """The bearer token the request carries (401 without one)."""
    token = _bearer_token(credentials)
    if not token:
        raise AuthenticationError("sign in first: send Authorization: Bearer <token> / 请先登录", code="no_token")
    return token


def _bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return credentials.credentials if credentials is not None and credentials.scheme.lower() == "bearer" else None


def _signed_in(accounts: AccountService, token: str | None, address: str) -> User:
    """The user ``token`` stands for; a refused token is audited with the ``address`` it came from."""
    if not token:
        raise AuthenticationError("sign in first: send Authorization: Bearer <token> / 请先登录", code="no_token")
    return accounts.authenticate(token, address)
