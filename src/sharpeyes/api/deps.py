"""Request dependencies: who is asking."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sharpeyes.core.errors import AuthenticationError
from sharpeyes.services.accounts import AccountService, User

_bearer = HTTPBearer(auto_error=False, description="The access_token from POST /api/v1/auth/login.")


def current_user_dependency(accounts: AccountService) -> Callable[..., User]:
    """A dependency that answers 401 unless the request carries a valid bearer token."""

    def current_user(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> User:
        return _signed_in(accounts, _bearer_token(credentials))

    return current_user


def media_user_dependency(accounts: AccountService) -> Callable[..., User]:
    """Like ``current_user``, but the token may also come as ``?access_token=`` (RFC 6750, section 2.3), for video
    players (a browser's ``<video>``, VLC) that cannot send headers. Only media routes take it; the server does
    not log request lines."""

    def media_user(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        access_token: Annotated[str | None, Query(description="The access token, for players without headers.")] = None,
    ) -> User:
        return _signed_in(accounts, _bearer_token(credentials) or access_token)

    return media_user


def presented_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    """The bearer token the request carries (401 without one)."""
    token = _bearer_token(credentials)
    if not token:
        raise AuthenticationError("sign in first: send Authorization: Bearer <token> / 请先登录", code="no_token")
    return token


def _bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return credentials.credentials if credentials is not None and credentials.scheme.lower() == "bearer" else None


def _signed_in(accounts: AccountService, token: str | None) -> User:
    if not token:
        raise AuthenticationError("sign in first: send Authorization: Bearer <token> / 请先登录", code="no_token")
    return accounts.authenticate(token)
