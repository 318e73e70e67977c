"""Errors of the organisation domain. Each has its own stable ``code`` so that a console can
tell "pick another name" from "delete the children first" without parsing the message."""

from __future__ import annotations

from app.core.errors import Conflict


class NameTaken(Conflict):
    code, title = "name_taken", "The name is already taken"


class StillInUse(Conflict):
    code, title = "in_use", "Still in use"


class AlreadyPaired(Conflict):
    code, title = "already_paired", "The unit is already paired with this community"


class AlreadyCheckedIn(Conflict):
    code, title = "already_checked_in", "A check-in with this community is pending or approved"
