"""The Chinese of the error details of the programmes beyond reporting: the points store
(积分超市) and micro-wishes (微心愿). Part of ``DETAILS`` (app/core/messages_zh_details.py)."""

from __future__ import annotations

from typing import Final

PROGRAMME_DETAILS: Final[dict[str, str]] = {
    # The points store
    "{} is not on sale now": "{0} 目前不在兑换期内",
    "one person may buy {} of {} a month": "每人每月最多兑换 {0} 件 {1}",
    "{} costs {} points; you have {}": "{0} 需要 {1} 积分；您有 {2} 积分",
    "{} is sold out": "{0} 已兑完",
    "No such redemption": "未找到该兑换记录",
    "This shelf is for the people of its community or company: you may read it, not buy": (
        "该积分超市只面向本社区或本公司人员：您可以查看，但不能兑换"
    ),
    "cannot {} a redemption that is {}": "兑换记录为 {1} 状态时不能执行 {0}",
    "only the {} may {} this redemption": "只有 {0} 可以对此兑换执行 {1}",
    "the redemption was changed meanwhile; read it again": "该兑换记录已被修改，请重新读取",
    "No redemption of your shop has this code": "本店没有使用此兑换码的兑换记录",
    "No such reward": "未找到该商品",
    "Only the community's staff or the company's managers stock its shelf": (
        "只有该社区的工作人员或该公司的管理员可以上架商品"
    ),
    "no such shop": "没有这个社区或公司",
    "Only the shop that offers a reward changes it": "只有上架该商品的一方可以修改它",
    "a reward needs a name": "商品需要名称",
    "a reward needs a price": "商品需要积分价格",
    "give true or false": "请填写 true 或 false",
    "the stock cannot go below zero": "库存不能小于零",
    "available_until must be after available_from": "available_until 必须晚于 available_from",
    # Micro-wishes
    "Only the community's staff post a wish for someone else": (
        "只有该社区的工作人员可以替他人发布心愿"
    ),
    "give the resident's phone": "请填写居民的电话",
    "needed_by is already past": "needed_by 已经过去",
    "No such wish": "未找到该心愿",
    "cannot {} a wish that is {}": "心愿为 {1} 状态时不能执行 {0}",
    "only the {} may {} this wish": "只有 {0} 可以对此心愿执行 {1}",
    "The resident has already thanked the volunteer": "居民已经感谢过志愿者",
    "You posted or reviewed this wish: another volunteer takes it": (
        "这个心愿由您发布或审核，请由其他志愿者认领"
    ),
    "A volunteer does not confirm their own work": "志愿者不能确认自己完成的心愿",
    "Another member of staff confirms a wish you posted for a resident": (
        "您代居民发布的心愿，须由其他工作人员确认"
    ),
    "the resident has until {} to confirm; staff may after that": (
        "居民可在 {0} 之前确认；此后社区工作人员方可代为确认"
    ),
}
