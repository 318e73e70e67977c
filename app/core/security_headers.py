"""Security headers on every response.

Every answer says ``nosniff`` (a photo or a JSON body is never run as HTML or script by a
browser guessing its type), sends no referrer, may not be framed, and carries a Content Security
Policy: for JSON and images ``default-src 'none'`` (an answer opened in a browser can load and
run nothing); the HTML pages the server serves (``/``, ``/docs``, ``/redoc``) set a policy of
their own that allows only this server's files and the page's own inline script and style,
marked with a nonce fresh for each response (no ``'unsafe-inline'``)."""

from __future__ import annotations

import re
import secrets

from fastapi.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "content-security-policy"
# For everything that is not one of our HTML pages: JSON, problem+json, images, metrics.
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS: dict[str, str] = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    # frame-ancestors says the same to browsers that read CSP; older ones read only this.
    "x-frame-options": "DENY",
}

# Inline blocks and the ReDoc element (which gives the nonce to the styles it makes).
_NONCE_TAKERS = re.compile(r"<(script|style|redoc)\b", re.IGNORECASE)


def html_content_security_policy(nonce: str) -> str:
    """The policy of one of our HTML pages: this server's scripts, styles and images (and the
    ``data:`` icons of Swagger UI's stylesheet), fetches to this server (the OpenAPI document,
    *Try it out*, *Authorize*), ReDoc's search worker (a ``blob:``), and the page's own inline
    blocks, which carry the response's nonce."""
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        f"style-src 'self' 'nonce-{nonce}'; "
        "img-src 'self' data:; "
        "connect-src 'self'; "
        "worker-src 'self' blob:; "
        "object-src 'none'; "
        "base-uri 'none'; "
        "form-action 'self'; "
        "frame-ancestors 'none'"
    )


def secured_html(page: HTMLResponse) -> HTMLResponse:
    """``page`` with a fresh nonce on its inline ``<script>`` and ``<style>`` blocks and its
    policy. A nonce rather than hashes: ReDoc makes its styles as it renders, and takes a nonce
    for them (styled-components); a hash cannot be known in advance."""
    nonce = secrets.token_urlsafe(18)
    html = _NONCE_TAKERS.sub(rf'<\1 nonce="{nonce}"', bytes(page.body).decode("utf-8"))
    response = HTMLResponse(html, status_code=page.status_code)
    response.headers[CONTENT_SECURITY_POLICY] = html_content_security_policy(nonce)
    return response


class SecurityHeadersMiddleware:
    """Adds the headers above to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._defaults = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in {
                **SECURITY_HEADERS,
                CONTENT_SECURITY_POLICY: API_CONTENT_SECURITY_POLICY,
            }.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(item for item in self._defaults if item[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def security_headers_for_errors() -> dict[str, str]:
    """For the answer to an unhandled error, which is made outside every middleware."""
    return {**SECURITY_HEADERS, CONTENT_SECURITY_POLICY: API_CONTENT_SECURITY_POLICY}
