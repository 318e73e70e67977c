"""Pages the app serves from files a build made (the big screen, the courier page): the page,
with a policy of its own and always revalidated so that a new build reaches every screen, and
its assets. Before a build, the page explains how to make it (503) and every asset is simply
not found."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

import anyio
from fastapi import HTTPException
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

from app.core.security_headers import CONTENT_SECURITY_POLICY, secured_html

# An asset whose name carries its content's hash (app-3f9a1c2b.js) never changes.
HASHED_NAME: Final = re.compile(r"-[0-9A-Za-z]{8,}\.(?:js|css|svg|png|woff2)$")
IMMUTABLE: Final = "public, max-age=31536000, immutable"


async def built_page(static_dir: Path, policy: str, not_built: str) -> FileResponse | HTMLResponse:
    """The page's ``index.html`` under its policy, or the instructions to build it."""
    index = static_dir / "index.html"
    if not await anyio.Path(index).is_file():
        return secured_html(HTMLResponse(not_built, status_code=503))
    return FileResponse(
        index,
        media_type="text/html; charset=utf-8",
        headers={CONTENT_SECURITY_POLICY: policy, "cache-control": "no-cache"},
    )


class BuiltAssets(StaticFiles):
    """A page's files; before a build, every one is not found (not a server error). Names that
    carry their content's hash are cached for good; any other file is revalidated."""

    async def check_config(self) -> None:
        if self.directory is None or not await anyio.Path(self.directory).is_dir():
            raise HTTPException(status_code=404)
        await super().check_config()

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            hashed = HASHED_NAME.search(path) is not None
            response.headers["cache-control"] = IMMUTABLE if hashed else "no-cache"
        return response
