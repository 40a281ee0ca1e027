"""Users, their roles and scopes (admins)."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from sharpeyes.api.schemas.common import PROBLEM_RESPONSES, RowIdPath
from sharpeyes.api.schemas.users import ApiKeyIn, ApiKeyOut, UserIn, UserOut, UserPatch
from sharpeyes.core import roles
from sharpeyes.services.accounts import AccountService, ApiKey, User


def users_router(accounts: AccountService, current_user: Callable[..., User]) -> APIRouter:
    router = APIRouter(tags=["users"], responses=PROBLEM_RESPONSES)

    @router.get("/users")
    def users() -> list[UserOut]:
        return [_out(user) for user in accounts.users()]

    @router.post("/users", status_code=201)
    def create(body: UserIn, user: Annotated[User, Depends(current_user)]) -> UserOut:
        """A user with a role and a scope: areas (their subtrees included), sites and cameras whose video the
        role applies to (admin and auditor are not limited by a scope). Audited."""
        scope = (tuple(body.scope_areas), tuple(body.scope_cameras), tuple(body.scope_sites))
        made = accounts.create_user(user.username, body.username, body.password, body.role, *scope)
        return _out(made)

    @router.patch("/users/{username}")
    def update(username: str, body: UserPatch, user: Annotated[User, Depends(current_user)]) -> UserOut:
        """Change a user's role, scope or whether it is disabled (only the fields given). A new role or scope
        applies from the user's next request; disabling revokes its tokens at once. Nobody disables or demotes
        their own account. Audited with what changed."""
        changed = accounts.update_user(
            user.username,
            username,
            role=body.role,
            scope_areas=None if body.scope_areas is None else tuple(body.scope_areas),
            scope_cameras=None if body.scope_cameras is None else tuple(body.scope_cameras),
            scope_sites=None if body.scope_sites is None else tuple(body.scope_sites),
            disabled=body.disabled,
        )
        return _out(changed)

    @router.get("/api-keys")
    def api_keys() -> list[ApiKeyOut]:
        return [_key(key) for key in accounts.api_keys()]

    @router.post("/api-keys", status_code=201)
    def create_api_key(body: ApiKeyIn, user: Annotated[User, Depends(current_user)]) -> ApiKeyOut:
        """A key for automation (send it as ``Authorization: Bearer sek_…``) with a role (not admin) and a scope
        of its own; the key is in this answer only. Audited."""
        stored, secret = accounts.create_api_key(user.username, body.name, body.role, tuple(body.scope_areas),
                                                 tuple(body.scope_cameras), tuple(body.scope_sites))  # fmt: skip
        return _key(stored, secret)

    @router.delete("/api-keys/{key_id}", status_code=204, response_class=Response)
    def revoke_api_key(key_id: RowIdPath, user: Annotated[User, Depends(current_user)]) -> None:
        """The key is refused from now on. Audited."""
        accounts.revoke_api_key(user.username, key_id)

    return router


def _key(key: ApiKey, secret: str | None = None) -> ApiKeyOut:
    return ApiKeyOut(id=key.id, name=key.name, role=key.role, scope_areas=list(key.scope_areas),
                     scope_cameras=list(key.scope_cameras), scope_sites=list(key.scope_sites),
                     created_by=key.created_by, created_at=key.created_at, revoked=key.revoked, key=secret)  # fmt: skip


def _out(user: User) -> UserOut:
    return UserOut(
        username=user.username,
        role=user.role,
        scope_areas=list(user.scope_areas),
        scope_cameras=list(user.scope_cameras),
        scope_sites=list(user.scope_sites),
        disabled=user.disabled,
        permissions=sorted(roles.ROLES.get(user.role, frozenset())),
    )
