"""Request dependencies: who is asking."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sharpeyes.core.errors import AuthenticationError
from sharpeyes.services.accounts import AccountService, User

_bearer = HTTPBearer(auto_error=False, description="The access_token from POST /api/v1/auth/login.")


def current_user_dependency(accounts: AccountService) -> Callable[..., User]:
    """A dependency that answers 401 unless the request carries a valid bearer token."""

    def current_user(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> User:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise AuthenticationError("sign in first: send Authorization: Bearer <token> / 请先登录", code="no_token")
        return accounts.authenticate(credentials.credentials)

    return current_user
