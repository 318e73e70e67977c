from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import MISSING, BaseModel, ConfigDict, Field

from app.models.enums import Role, ScopeType

USERNAME_PATTERN = r"^[A-Za-z0-9_.\-]{3,64}$"
PHONE_PATTERN = r"^\+?[0-9\-]{5,20}$"
# What the column holds: the pattern alone let a "+" and 20 digits through, which PostgreSQL
# refused with a 500 (SQLite stored it).
PHONE_MAX_LENGTH = 20


class RoleRead(BaseModel):
    id: uuid.UUID | None = Field(None, description="The assignment's id (null for API keys)")
    role: Role
    scope_type: ScopeType | None
    scope_id: uuid.UUID | None
    scope_name: str | None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    display_name: str
    phone: str | None = Field(
        None,
        description=(
            "Masked to at most a third of its digits (1********34) except to its owner and admins"
        ),
    )
    is_active: bool
    created_at: datetime
    cancelled_at: datetime | None = Field(
        None,
        description="When the account was cancelled (账号注销): its personal fields are erased",
    )
    roles: list[RoleRead] = Field(default_factory=list)


class MeRead(UserRead):
    last_login_at: datetime | None = None


class ApiKeyMe(BaseModel):
    """What `/me` returns for a dashboard API key."""

    api_key_id: uuid.UUID
    roles: list[RoleRead]


# Partial updates: a field left out keeps its value. Fields that cannot be empty are typed
# ``X | MISSING``, so that an explicit null is refused (422 naming the field) instead of reaching
# the database, and the OpenAPI document shows them as non-nullable. ``null`` clears a phone.


class MeUpdate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"display_name": "刘芳", "phone": "13804781234"}]}
    )

    display_name: str | MISSING = Field(MISSING, min_length=1, max_length=100)
    phone: str | None = Field(None, pattern=PHONE_PATTERN, max_length=PHONE_MAX_LENGTH)


class PasswordChange(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"current_password": "my-current-password", "new_password": "a-new-long-password"}
            ]
        }
    )

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=8, max_length=128)


class RoleAssign(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"role": "community_staff", "scope_id": "f873ebaf-0c6d-4b8e-9a53-2e1d7c4b6a90"}
            ]
        }
    )

    role: Role
    scope_id: uuid.UUID | None = Field(
        None, description="The region, community, unit or branch the role is held in"
    )


class UserCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "staff3",
                    "display_name": "王芳",
                    "password": "a-first-password",
                    "phone": "13804781234",
                    "roles": [
                        {
                            "role": "community_staff",
                            "scope_id": "f873ebaf-0c6d-4b8e-9a53-2e1d7c4b6a90",
                        }
                    ],
                }
            ]
        }
    )

    username: str = Field(pattern=USERNAME_PATTERN, examples=["staff3"])
    display_name: str = Field(min_length=1, max_length=100, examples=["王芳"])
    password: str = Field(min_length=8, max_length=128)
    phone: str | None = Field(
        None, pattern=PHONE_PATTERN, max_length=PHONE_MAX_LENGTH, examples=["13804781234"]
    )
    roles: list[RoleAssign] = Field(default_factory=list)


class UserUpdate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"display_name": "王芳", "phone": "13804785678"}]}
    )

    display_name: str | MISSING = Field(MISSING, min_length=1, max_length=100)
    phone: str | None = Field(None, pattern=PHONE_PATTERN, max_length=PHONE_MAX_LENGTH)
    is_active: bool | MISSING = MISSING
    password: str | MISSING = Field(MISSING, min_length=8, max_length=128)


class ReporterRegister(BaseModel):
    """A resident or volunteer signing up to report hazards."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "zhang_wei",
                    "display_name": "张伟",
                    "password": "a-long-password",
                    "phone": "13904781234",
                }
            ]
        }
    )

    username: str = Field(pattern=USERNAME_PATTERN)
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=8, max_length=128)
    phone: str | None = Field(None, pattern=PHONE_PATTERN, max_length=PHONE_MAX_LENGTH)
