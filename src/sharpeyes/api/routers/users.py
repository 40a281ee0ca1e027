"""Users, their roles and scopes (admins)."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends

from sharpeyes.api.schemas.common import PROBLEM_RESPONSES
from sharpeyes.api.schemas.users import UserIn, UserOut
from sharpeyes.core import roles
from sharpeyes.services.accounts import AccountService, User


def users_router(accounts: AccountService, current_user: Callable[..., User]) -> APIRouter:
    router = APIRouter(prefix="/users", tags=["users"], responses=PROBLEM_RESPONSES)

    @router.get("")
    def users() -> list[UserOut]:
        return [_out(user) for user in accounts.users()]

    @router.post("", status_code=201)
    def create(body: UserIn, user: Annotated[User, Depends(current_user)]) -> UserOut:
        """A user with a role and a scope: areas (their subtrees included) and cameras whose video the role
        applies to (admin and auditor are not limited by a scope). Audited."""
        made = accounts.create_user(user.username, body.username, body.password, body.role,
                                    tuple(body.scope_areas), tuple(body.scope_cameras))  # fmt: skip
        return _out(made)

    return router


def _out(user: User) -> UserOut:
    return UserOut(
        username=user.username,
        role=user.role,
        scope_areas=list(user.scope_areas),
        scope_cameras=list(user.scope_cameras),
        permissions=sorted(roles.ROLES.get(user.role, frozenset())),
    )
