from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str


class KeyToken(BaseModel):
    access_token: str = Field(description="Sent as `Authorization: Bearer …` instead of the key")
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until it expires; renew it before then")


class KeyExchange(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"key": "ssp_demowall_DemoWallScreenKey2026"}]}
    )

    key: str = Field(min_length=1, max_length=200, description="A dashboard key (ssp_…)")


class PasswordLogin(BaseModel):
    """The OAuth2 password grant (RFC 6749 §4.3): sent as a form, as OAuth2 clients and the
    API documentation's *Authorize* do, or as JSON."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"username": "courier1", "password": "suishoupai-demo"}]}
    )

    grant_type: str | None = Field(
        None, description="`password` (optional); refresh tokens go to `POST /auth/refresh`"
    )
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)
    scope: str = Field("", description="Ignored: what a user may do comes from their roles")

    @field_validator("grant_type")
    @classmethod
    def _password_grant_only(cls, value: str | None) -> str | None:
        if value not in (None, "", "password"):
            raise ValueError(
                "only the password grant is taken here; "
                "exchange a refresh token at POST /api/v1/auth/refresh"
            )
        return value


class RefreshRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"refresh_token": "hU3bQ7xK0pZ9wV2mR5tY8cN1aF4gJ6dS"}]}
    )

    refresh_token: str = Field(min_length=1, max_length=200)


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "数据大屏 - 杭锦后旗",
                    "region_id": "9b2f6c1e-4a57-4d2b-8f0e-3c6a1d7e5b42",
                },
                {
                    "name": "12345 市民热线",
                    "region_id": "9b2f6c1e-4a57-4d2b-8f0e-3c6a1d7e5b42",
                    "may_file": True,
                },
            ]
        }
    )

    name: str = Field(min_length=1, max_length=100, examples=["数据大屏 - 杭锦后旗"])
    region_id: uuid.UUID
    may_file: bool = Field(
        False,
        description="Also file reports in the region through Open311 (an integration's key), "
        "under an account of its own named after the key. Otherwise the key only reads.",
    )


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    region_id: uuid.UUID
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    may_file: bool
    reporter_id: uuid.UUID | None = Field(
        description="A filing key's account: the reporter of the cases it files"
    )


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret key. Shown once; store it now.")
