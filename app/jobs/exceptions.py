"""Errors of the jobs domain that the shared ones do not say precisely enough: a console tells
"decide the pending request first" from "there is nothing to decide" by ``code``."""

from __future__ import annotations

from app.core.errors import Conflict


class ExtensionAlreadyPending(Conflict):
    code, title = "extension_pending", "An extension request is already waiting for a decision"


class NoPendingExtension(Conflict):
    code, title = "no_pending_extension", "The job has no extension request to decide"
