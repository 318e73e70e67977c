"""Dependencies of the operations routes."""

from __future__ import annotations

from fastapi import Request

from app.core.deps import SettingsDep
from app.core.errors import Forbidden
from app.core.metrics_access import REFUSAL, MetricsAccess
from app.core.proxies import UNTRUSTED_FORWARDING


async def require_metrics_access(request: Request, settings: SettingsDep) -> None:
    """403 unless the scrape comes from an allowed address or carries the metrics token."""
    access = MetricsAccess.of(settings)
    if not access.allows(
        request.client.host if request.client else None,
        request.headers.get("authorization"),
        proxied=bool(request.scope.get(UNTRUSTED_FORWARDING)),
    ):
        raise Forbidden(REFUSAL)
