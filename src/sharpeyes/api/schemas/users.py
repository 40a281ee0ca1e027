"""Users as admins create and list them."""

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
                }
            ]
        },
    )

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    password: str = Field(min_length=10, max_length=256)
    role: str = Field(description="admin, supervisor, investigator, operator, auditor or owner.")
    scope_areas: list[str] = Field(default_factory=list, max_length=10_000, description="Areas, subtrees included.")
    scope_cameras: list[str] = Field(default_factory=list, max_length=100_000)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    role: str
    scope_areas: list[str]
    scope_cameras: list[str]
    permissions: list[str]
