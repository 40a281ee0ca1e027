"""Users as admins create and list them."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class UserIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "username": "zhang.wei",
                    "password": "a-long-password",
                    "role": "investigator",
                    "scope_areas": ["340202"],
                    "scope_cameras": [],
                    "scope_sites": [],
                }
            ]
        },
    )

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    password: str = Field(min_length=10, max_length=256)
    role: str = Field(description="admin, supervisor, investigator, operator, auditor or owner.")
    scope_areas: list[str] = Field(default_factory=list, max_length=10_000, description="Areas, subtrees included.")
    scope_cameras: list[str] = Field(default_factory=list, max_length=100_000)
    scope_sites: list[int] = Field(
        default_factory=list, max_length=100_000, description="Sites (ids from GET /api/v1/sites): their cameras."
    )


class UserPatch(BaseModel):
    """Only the fields given change."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"role": "operator", "scope_areas": ["340203"]}, {"disabled": True}]},
    )

    role: str | None = Field(None, description="admin, supervisor, investigator, operator, auditor or owner.")
    scope_areas: list[str] | None = Field(None, max_length=10_000)
    scope_cameras: list[str] | None = Field(None, max_length=100_000)
    scope_sites: list[int] | None = Field(None, max_length=100_000)
    disabled: bool | None = Field(None, description="Disabled: refused at sign-in, its tokens revoked; kept.")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    role: str
    scope_areas: list[str]
    scope_cameras: list[str]
    scope_sites: list[int]
    disabled: bool
    permissions: list[str]


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, description="What uses it, e.g. the city bureau's report job.")
    role: str = Field(description="Any role but admin.")
    scope_areas: list[str] = Field(default_factory=list, max_length=10_000)
    scope_cameras: list[str] = Field(default_factory=list, max_length=100_000)
    scope_sites: list[int] = Field(
        default_factory=list, max_length=100_000, description="Sites (ids from GET /api/v1/sites): their cameras."
    )


class ApiKeyOut(BaseModel):
    id: int
    name: str
    role: str
    scope_areas: list[str]
    scope_cameras: list[str]
    scope_sites: list[int]
    created_by: str
    created_at: datetime
    revoked: bool
    key: str | None = Field(None, description="The key itself: given once, when it is made; keep it secret.")
