"""Who is calling, with every place they act for: the basis of all access control."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from app.models.enums import Role, ScopeType


@dataclass(frozen=True)
class RoleGrant:
    role: Role
    scope_type: ScopeType | None
    scope_id: uuid.UUID | None
    scope_name: str | None
    # For region scopes, the region's materialised path: its subtree is every path under it.
    scope_path: str | None = None
    assignment_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Principal:
    """The caller: a user with role grants, or a dashboard API key (viewer of one region)."""

    user_id: uuid.UUID | None
    username: str | None
    grants: tuple[RoleGrant, ...]
    api_key_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    _roles: frozenset[Role] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_roles", frozenset(g.role for g in self.grants))

    @property
    def roles(self) -> frozenset[Role]:
        return self._roles

    @property
    def is_admin(self) -> bool:
        return Role.admin in self._roles

    def has_any(self, *roles: Role) -> bool:
        return self.is_admin or not self._roles.isdisjoint(roles)

    def scope_ids(self, *roles: Role) -> set[uuid.UUID]:
        return {g.scope_id for g in self.grants if g.role in roles and g.scope_id is not None}

    def region_paths(self, *roles: Role) -> list[str]:
        return [g.scope_path for g in self.grants if g.role in roles and g.scope_path]

    def covers_region_path(self, path: str, *roles: Role) -> bool:
        """Whether a region (given by its path) lies in the subtree of one of the caller's
        regions held with one of ``roles``."""
        return any(path.startswith(p) for p in self.region_paths(*roles))

    @classmethod
    def for_user(cls, user_id: uuid.UUID) -> Principal:
        """A principal with no roles, for a user looking at their own record."""
        return cls(user_id=user_id, username=None, grants=())
