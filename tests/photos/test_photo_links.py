"""Signed photo links: one image, at one size, until its expiry, with no bearer token — for an
``<img>`` or a client that cannot send ``Authorization`` (an Open311 ``media_url``)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI

from app.core.clock import Clock, FrozenClock
from app.core.config import Settings
from app.photos.links import signed_photo_path
from tests.conftest import LoginFn
from tests.reports.conftest import SubmitFn


async def _photos(client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn) -> list[str]:
    first = (await submit("courier1")).json()
    second = (await submit("courier1")).json()
    return [first["photos"][0]["id"], second["photos"][0]["id"]]


def _with(path: str, **changes: str) -> str:
    url = urlsplit(path)
    query = {k: v[0] for k, v in parse_qs(url.query).items()} | changes
    return url.path + "?" + "&".join(f"{k}={v}" for k, v in query.items())


async def test_a_signed_link_opens_its_photo_without_signing_in(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn, settings: Settings
) -> None:
    photo, _ = await _photos(client, login, submit)
    now = Clock().now()
    path = signed_photo_path(settings.secret_key, uuid.UUID(photo), "display", now)
    opened = await client.get(path)
    assert opened.status_code == 200, opened.text
    assert opened.headers["content-type"] == "image/jpeg"
    signed = await client.get(f"/api/v1/photos/{photo}", headers=await login("courier1"))
    assert opened.content == signed.content
    # The same link for every call within the hour: one copy in an image cache.
    assert path == signed_photo_path(settings.secret_key, uuid.UUID(photo), "display", now)


async def test_a_link_opens_nothing_else(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn, settings: Settings
) -> None:
    photo, other = await _photos(client, login, submit)
    path = signed_photo_path(settings.secret_key, uuid.UUID(photo), "display", Clock().now())
    signature = parse_qs(urlsplit(path).query)["signature"][0]
    refused = [
        path.replace(photo, other),  # another photo
        _with(path, size="thumbnail"),  # another size
        _with(path, signature=("0" if signature[0] != "0" else "1") + signature[1:]),
        _with(path, expires=str(int(parse_qs(urlsplit(path).query)["expires"][0]) + 3600)),
        f"/api/v1/photos/{photo}?signature={signature}",  # no expiry
        f"/api/v1/photos/{photo}?expires=4102444800",  # no signature
        _with(path, signature="%C3%A9" * 16),  # not even hexadecimal
    ]
    for url in refused:
        response = await client.get(url)
        assert response.status_code == 401, (url, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    # Without a link or a token: sign in first.
    assert (await client.get(f"/api/v1/photos/{photo}")).status_code == 401


async def test_a_link_expires(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn, settings: Settings
) -> None:
    photo, _ = await _photos(client, login, submit)
    now = Clock().now()
    path = signed_photo_path(settings.secret_key, uuid.UUID(photo), "display", now)
    app.state.clock = FrozenClock(now + timedelta(hours=26))
    expired = await client.get(path)
    assert expired.status_code == 401, expired.text
    assert "expired" in expired.json()["detail"]
