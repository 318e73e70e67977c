"""Errors of personal-information handling."""

from __future__ import annotations

from app.core.errors import Conflict


class AccountCancelled(Conflict):
    code, title = "account_cancelled", "The account has been cancelled"

    def __init__(self) -> None:
        super().__init__(
            "The account was cancelled (账号注销) and its personal data erased; it cannot be "
            "changed or given roles. Create a new account instead."
        )


class LastAdministrator(Conflict):
    code, title = "last_administrator", "The last administrator"

    def __init__(self) -> None:
        super().__init__(
            "This is the only active administrator: make another one before cancelling, "
            "deactivating or demoting it, or nobody could manage the service."
        )
