from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.categories.schemas import CategoryCreate, CategoryUpdate
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.models import Category


async def list_categories(session: AsyncSession, include_inactive: bool = False) -> list[Category]:
    stmt = select(Category).order_by(Category.sort_order, Category.code)
    if not include_inactive:
        stmt = stmt.where(Category.is_active.is_(True))
    return list((await session.scalars(stmt)).all())


async def get_category(session: AsyncSession, code: str) -> Category:
    category = await session.get(Category, code)
    if category is None:
        raise NotFound(f"No category {code!r}")
    return category


async def create_category(session: AsyncSession, body: CategoryCreate) -> Category:
    if await session.get(Category, body.code) is not None:
        raise Conflict(f"The category code {body.code!r} is taken")
    if body.parent_code is not None:
        parent = await session.get(Category, body.parent_code)
        if parent is None:
            raise ValidationFailed.at(["body", "parent_code"], "no such category")
        if parent.is_leaf:
            raise ValidationFailed.at(
                ["body", "parent_code"], "the parent is a leaf category; reports are filed there"
            )
    category = Category(**body.model_dump())
    session.add(category)
    await session.flush()
    return category


async def update_category(session: AsyncSession, code: str, body: CategoryUpdate) -> Category:
    category = await get_category(session, code)
    for field, value in body.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(category, field, value)
    await session.flush()
    return category
