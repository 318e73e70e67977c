"""The demo's keys for the banner, known like the demo password so that the README's links and
examples work: the big screen's read-only key, and the 12345 hotline's Open311 filing key with
the account its reports are filed under (nobody signs in as it: app/auth/keys.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Final

from app.auth.keys import INTEGRATION_USERNAME_PREFIX
from app.core.security import API_KEY_PREFIX, NO_PASSWORD, sha256_hex
from app.models import ApiKey, Region, RoleAssignment, User
from app.models.base import utcnow
from app.models.enums import Role

DEMO_DASHBOARD_KEY_PREFIX: Final = "demowall"
DEMO_DASHBOARD_KEY: Final = f"{API_KEY_PREFIX}{DEMO_DASHBOARD_KEY_PREFIX}_DemoWallScreenKey2026"
DEMO_FILING_KEY_PREFIX: Final = "demofile"
DEMO_FILING_KEY: Final = f"{API_KEY_PREFIX}{DEMO_FILING_KEY_PREFIX}_DemoOpen311FilingKey2026"
# What `seed-demo` prints after the accounts.
DEMO_KEYS_NOTE: Final = (
    f"The big screen: /dashboard#key={DEMO_DASHBOARD_KEY}\n"
    f"Open311 filing key (api_key): {DEMO_FILING_KEY}"
)


def demo_keys(banner: Region, demo_id: Callable[..., uuid.UUID]) -> list[Any]:
    """The rows of both keys, in the order they are written."""
    now = utcnow()
    wall = ApiKey(
        id=demo_id("api_key", DEMO_DASHBOARD_KEY_PREFIX),
        name=f"数据大屏 - {banner.name}",
        prefix=DEMO_DASHBOARD_KEY_PREFIX,
        key_hash=sha256_hex(DEMO_DASHBOARD_KEY),
        region_id=banner.id,
        created_at=now,
    )
    hotline = f"12345 市民热线 - {banner.name}"
    account = User(
        id=demo_id("user", "integration", DEMO_FILING_KEY_PREFIX),
        username=f"{INTEGRATION_USERNAME_PREFIX}{DEMO_FILING_KEY_PREFIX}",
        display_name=hotline,
        password_hash=NO_PASSWORD,
    )
    reporter = RoleAssignment(
        id=demo_id("role_assignment", account.username, Role.reporter.value),
        user_id=account.id,
        role=Role.reporter,
    )
    filing = ApiKey(
        id=demo_id("api_key", DEMO_FILING_KEY_PREFIX),
        name=hotline,
        prefix=DEMO_FILING_KEY_PREFIX,
        key_hash=sha256_hex(DEMO_FILING_KEY),
        region_id=banner.id,
        created_at=now,
        may_file=True,
        reporter_id=account.id,
    )
    return [wall, account, reporter, filing]
