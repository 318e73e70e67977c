"""Signed photo links: one image, at one size, until its expiry, with no bearer token — for an
``<img>``, a mini-program's ``<image>`` or a client that cannot send ``Authorization`` (an
Open311 ``media_url``). Every photo URL in an answer is one; the bearer form keeps working. An
altered or expired link is 403."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI

from app.core.clock import Clock, FrozenClock
from app.core.config import Settings
from app.photos.links import PhotoSigner
from tests.conftest import LoginFn
from tests.reports.conftest import SubmitFn


async def _photos(client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn) -> list[str]:
    first = (await submit("courier1")).json()
    second = (await submit("courier1")).json()
    return [first["photos"][0]["id"], second["photos"][0]["id"]]


def signed_photo_path(secret_key: str, photo_id: uuid.UUID, size: str, now: datetime) -> str:
    """The link the service gives, made as it makes it (the default lifetime, an hour)."""
    assert size in ("display", "thumbnail")
    return PhotoSigner.of(secret_key, 60).path(
        photo_id, "display" if size == "display" else "thumbnail", now
    )


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
    # The same link for calls close together: one copy in an image cache.
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
        assert response.status_code == 403, (url, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    # Without a link or a token: sign in first.
    assert (await client.get(f"/api/v1/photos/{photo}")).status_code == 401


async def test_a_link_expires(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn, settings: Settings
) -> None:
    photo, _ = await _photos(client, login, submit)
    now = Clock().now()
    path = signed_photo_path(settings.secret_key, uuid.UUID(photo), "display", now)
    app.state.clock = FrozenClock(now + timedelta(minutes=30))
    assert (await client.get(path)).status_code == 200  # within its hour
    app.state.clock = FrozenClock(now + timedelta(hours=2))
    expired = await client.get(path)
    assert expired.status_code == 403, expired.text
    assert "expired" in expired.json()["detail"]


async def test_every_photo_url_in_an_answer_is_signed_and_the_bearer_form_still_works(
    client: httpx.AsyncClient, login: LoginFn, submit: SubmitFn
) -> None:
    report = (await submit("courier1")).json()
    shown = (
        await client.get(f"/api/v1/reports/{report['id']}", headers=await login("staff1"))
    ).json()
    for photo in report["photos"] + shown["photos"]:
        for key in ("url", "thumbnail_url"):
            assert "signature=" in photo[key], photo
            opened = await client.get(photo[key])  # no Authorization header
            assert opened.status_code == 200, (photo[key], opened.text)
            assert opened.headers["content-type"].startswith("image/")
    bearer = await client.get(
        f"/api/v1/photos/{report['photos'][0]['id']}", headers=await login("staff1")
    )
    assert bearer.status_code == 200
