"""The demo's points stores and micro-wishes: a few items on 东街社区's shelf and on 顺丰速运's,
and wishes of 东街社区 waiting for review and for a volunteer — enough to walk each loop
(README, "Beyond reporting")."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Community, CourierCompany, Reward, User, Wish
from app.models.base import utcnow
from app.models.enums import WishStatus

COMMUNITY_ONE = "东街社区"

# (name, description, price, stock, monthly limit)
COMMUNITY_SHELF = (
    ("环保购物袋", "可折叠，社区定制", 20, 50, 2),
    ("洗衣液 2kg", "家庭装", 120, 20, 1),
    ("理发券", "社区便民理发点使用", 80, 10, None),
)
COMPANY_SHELF = (("电动车充电卡 50 元", "全旗充电桩通用", 200, 15, 2),)


# The seed's stable ids (app/demo/seed.py ``demo_id``), handed in by the seed.
IdOf = Callable[..., uuid.UUID]


def add_programmes(
    session: AsyncSession,
    communities: dict[str, Community],
    companies: dict[str, CourierCompany],
    staff: dict[str, User],
    id_of: IdOf,
) -> None:
    now = utcnow()
    community = communities[COMMUNITY_ONE]
    shelves = [
        (spec, {"community_id": community.id}, COMMUNITY_ONE) for spec in COMMUNITY_SHELF
    ] + [(spec, {"company_id": companies["顺丰速运"].id}, "顺丰速运") for spec in COMPANY_SHELF]
    for (name, description, price, stock, limit), shop, shop_name in shelves:
        session.add(
            Reward(
                id=id_of("reward", shop_name, name),
                name=name,
                description=description,
                points_price=price,
                stock=stock,
                monthly_limit=limit,
                created_at=now,
                updated_at=now,
                **shop,
            )
        )
    _add_wishes(session, community, staff[COMMUNITY_ONE], id_of)


def _add_wishes(session: AsyncSession, community: Community, staff: User, id_of: IdOf) -> None:
    resident = id_of("user", "resident1")
    moment = utcnow()
    wishes = (
        # A resident's own wish, waiting for the community's review.
        ("帮忙更换楼道灯泡", "三楼楼道灯坏了，够不着", resident, None, None, WishStatus.submitted),
        # Taken by staff for an elderly resident without a phone of her own, and published.
        (
            "陪同去医院复查",
            "独居老人，周四上午旗医院复查",
            None,
            "王秀英",
            "04784611234",
            WishStatus.published,
        ),
        (
            "想要一台收音机",
            "眼睛不好，想听广播",
            None,
            "刘福山",
            "04784615678",
            WishStatus.published,
        ),
    )
    for index, (title, description, resident_id, name, phone, status) in enumerate(wishes):
        created_at = moment - timedelta(days=3 - index)
        session.add(
            Wish(
                id=id_of("wish", community.name, title),
                community_id=community.id,
                title=title,
                description=description,
                needed_by=(created_at + timedelta(days=10)).date(),
                status=status,
                resident_id=resident_id,
                posted_by_id=resident_id or staff.id,
                # The resident's own wish shows the name of her account and no phone.
                resident_name=name or "吴桂兰",
                resident_phone=phone,
                address=f"{community.name}{index + 3}号楼{index + 1}单元",
                reviewed_at=created_at + timedelta(hours=2)
                if status is WishStatus.published
                else None,
                reviewed_by_id=staff.id if status is WishStatus.published else None,
                created_at=created_at,
                updated_at=created_at,
            )
        )
