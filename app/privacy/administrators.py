"""The service always keeps one active administrator: nobody else could manage it, or make
another one. Cancelling, deactivating or demoting the last one is refused."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import RoleAssignment, User
from app.models.enums import Role
from app.privacy.exceptions import LastAdministrator


async def refuse_last_administrator(session: AsyncSession, user: User) -> None:
    """Nobody could manage the service (or make another administrator) without one."""
    is_admin = await session.scalar(
        select(RoleAssignment.id).where(
            RoleAssignment.user_id == user.id, RoleAssignment.role == Role.admin
        )
    )
    if is_admin is None:
        return
    others = await session.scalar(
        select(func.count(func.distinct(RoleAssignment.user_id)))
        .join(User, RoleAssignment.user_id == User.id)
        .where(
            RoleAssignment.role == Role.admin,
            RoleAssignment.user_id != user.id,
            User.is_active.is_(True),
            User.cancelled_at.is_(None),
        )
    )
    if not others:
        raise LastAdministrator()
