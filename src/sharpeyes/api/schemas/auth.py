"""Login request and token."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme name, not a secret
    expires_at: datetime


class Me(BaseModel):
    username: str
    role: str
    permissions: list[str] = Field(description="What the role may do (the console shows only what it may).")


class OidcStatus(BaseModel):
    """Whether the console offers single sign-on, and the name on its button (null: SSO)."""

    enabled: bool
    display_name: str | None = None
