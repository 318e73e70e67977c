from __future__ import annotations

from app.core.errors import Conflict


class OutOfStock(Conflict):
    code, title = "out_of_stock", "Out of stock"


class NotEnoughPoints(Conflict):
    code, title = "not_enough_points", "Not enough points"


class MonthlyLimitReached(Conflict):
    code, title = "monthly_limit_reached", "Monthly limit reached"


class RewardUnavailable(Conflict):
    code, title = "reward_unavailable", "Not on the shelf"
