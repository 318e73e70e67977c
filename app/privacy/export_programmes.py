"""The parts of a personal-data export that come from the programmes beyond reporting: the
micro-wishes a person posted or claimed, and what they bought with points."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Community, Redemption, Reward, Wish
from app.privacy.schemas import ExportRedemption, ExportWish


async def wishes_of(session: AsyncSession, user_id: uuid.UUID) -> list[ExportWish]:
    rows = await session.execute(
        select(Wish, Community.name)
        .join(Community, Community.id == Wish.community_id)
        .where(or_(Wish.resident_id == user_id, Wish.claimant_id == user_id))
        .order_by(Wish.created_at.desc(), Wish.id)
    )
    exported = []
    for wish, community in rows.all():
        own = wish.resident_id == user_id
        exported.append(
            ExportWish(
                id=wish.id,
                part="resident" if own else "volunteer",
                community=community,
                title=wish.title,
                description=wish.description,
                status=wish.status,
                # A volunteer's export is theirs, not the resident's: no contact.
                contact_name=wish.resident_name if own else None,
                contact_phone=wish.resident_phone if own else None,
                address=wish.address if own else None,
                fulfilment_note=wish.fulfilment_note,
                thanks_note=wish.thanks_note,
                created_at=wish.created_at,
            )
        )
    return exported


async def redemptions_of(session: AsyncSession, user_id: uuid.UUID) -> list[ExportRedemption]:
    rows = await session.execute(
        select(Redemption, Reward.name)
        .join(Reward, Reward.id == Redemption.reward_id)
        .where(Redemption.user_id == user_id)
        .order_by(Redemption.created_at.desc(), Redemption.id)
    )
    return [
        ExportRedemption(
            id=redemption.id,
            reward=reward,
            points=redemption.points,
            code=redemption.code,
            status=redemption.status,
            created_at=redemption.created_at,
            handed_over_at=redemption.handed_over_at,
            cancelled_at=redemption.cancelled_at,
        )
        for redemption, reward in rows.all()
    ]
