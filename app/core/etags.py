"""Versioned resources (reports, jobs): the ETag each answer carries and the If-Match check an
action makes against it, written once.

A resource's tag is its id and its version column, so two people acting on the same case are
told apart: the second one, sending the tag of what they read, gets 412 instead of overwriting
what they did not see."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Header

from app.core.errors import PreconditionFailed

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag last read; a stale one is refused with 412",
    ),
]


def version_tag(resource_id: uuid.UUID | str, version: int) -> str:
    """The strong ETag of one version of a resource."""
    return f'"{resource_id}-v{version}"'


def matches(if_match: str | None, resource_id: uuid.UUID | str, version: int) -> bool:
    """Whether an If-Match header (absent, ``*``, or a list of tags, weak or strong) names this
    version. Weak tags compare like strong ones: the tag names a version, not a byte string."""
    if if_match is None or if_match.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    return version_tag(resource_id, version) in tags


def require_match(
    if_match: str | None, resource_id: uuid.UUID | str, version: int, *, what: str
) -> None:
    """412 unless the caller acts on the version they read; ``what``: "report", "job"."""
    if not matches(if_match, resource_id, version):
        raise PreconditionFailed(
            f"The {what} changed (it is now version {version}); reload it and try again"
        )
