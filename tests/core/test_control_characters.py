"""Control characters in any text a request carries are a 422 naming the field, on every kind
of input (form, JSON, multipart, query, path), and the service goes on answering."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.text import control_character_problem
from app.models import Report
from tests.conftest import DEMO_PASSWORD, LoginFn

PHOTO = Path(__file__).resolve().parents[1] / "fixtures" / "photos" / "Canon_40D.jpg"
REPORT_FIELDS = {
    "category_code": "chaotic_parking",
    "description": "巷口乱停车，消防车进不去",
    "lat": "40.8436",
    "lng": "107.1499",
}
REFUSED = ["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x7f", "\x85", "\x9b"]


def assert_refused(response: httpx.Response, *loc: str | int) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert [error["loc"] for error in problem["errors"]] == [list(loc)]
    assert "control characters" in problem["errors"][0]["msg"]


async def sign_in(client: httpx.AsyncClient, username: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}
    )


async def submit(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/reports",
        data={**REPORT_FIELDS, **fields},
        files=[("photos", ("p.jpg", PHOTO.read_bytes(), "image/jpeg"))],
        headers=headers,
    )


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


@pytest.mark.parametrize("character", REFUSED)
async def test_a_control_character_in_the_login_form_is_a_422_and_the_next_login_works(
    client: httpx.AsyncClient, character: str
) -> None:
    assert_refused(await sign_in(client, f"staff1{character}"), "body", "username")
    assert (await sign_in(client, "staff1")).status_code == 200


async def test_nul_in_the_password_is_refused_before_it_counts_as_a_failure(
    client: httpx.AsyncClient,
) -> None:
    for _ in range(6):  # more than the account's lockout threshold
        response = await client.post(
            "/api/v1/auth/token", data={"username": "staff1", "password": "x\x00"}
        )
        assert_refused(response, "body", "password")
    assert (await sign_in(client, "staff1")).status_code == 200


async def test_register_json_names_the_field(client: httpx.AsyncClient) -> None:
    body = {"username": "resident9", "display_name": "王\u0000五", "password": "a-good-password"}
    assert_refused(await client.post("/api/v1/auth/register", json=body), "body", "display_name")
    body["display_name"] = "王五"
    created = await client.post("/api/v1/auth/register", json=body)
    assert created.status_code == 201, created.text


async def test_a_lone_surrogate_and_a_control_character_in_a_json_key_are_refused(
    client: httpx.AsyncClient,
) -> None:
    raw = '{"username": "resident9", "display_name": "\\ud800", "password": "a-good-password"}'
    response = await client.post(
        "/api/v1/auth/register", content=raw, headers={"content-type": "application/json"}
    )
    assert_refused(response, "body", "display_name")
    body: dict[str, Any] = {
        "username": "resident9",
        "display_name": "王五",
        "password": "a-good-password",
        "x\u0000": 1,
    }
    assert_refused(await client.post("/api/v1/auth/register", json=body), "body", "x\u0000")


async def test_a_report_description_with_nul_is_refused_and_nothing_is_filed(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession, app: FastAPI
) -> None:
    courier = await login("courier1")
    before = await session.scalar(select(func.count()).select_from(Report))
    assert_refused(await submit(client, courier, description="乱停车\x00"), "body", "description")
    assert await session.scalar(select(func.count()).select_from(Report)) == before
    assert stored_files(app.state.settings.photo_dir) == []
    # Lines and tabs are text: kept as sent.
    filed = await submit(client, courier, description="巷口乱停车\r\n第二行\t完")
    assert filed.status_code == 201, filed.text
    assert filed.json()["description"] == "巷口乱停车\r\n第二行\t完"


async def test_a_comment_with_a_control_character_is_refused(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    courier = await login("courier1")
    report = (await submit(client, courier)).json()
    url = f"/api/v1/reports/{report['id']}/comments"
    staff = await login("staff1")
    assert_refused(
        await client.post(url, json={"body": "已到场\x1b[2J"}, headers=staff), "body", "body"
    )
    ok = await client.post(url, json={"body": "已到场"}, headers=staff)
    assert ok.status_code in (200, 201), ok.text


@pytest.mark.parametrize(
    ("url", "username", "loc"),
    [
        ("/api/v1/reports?q=%00", "staff1", ["query", "q"]),
        ("/api/v1/users?q=a%C2%9Bb", "admin", ["query", "q"]),
        ("/api/v1/communities?q=%7F", "admin", ["query", "q"]),
        ("/api/v1/categories/chaotic%00parking", "staff1", ["path", "code"]),
        ("/api/v1/me?unused=%00", "staff1", ["query", "unused"]),
    ],
)
async def test_query_and_path_parameters_are_checked(
    client: httpx.AsyncClient, login: LoginFn, url: str, username: str, loc: list[str]
) -> None:
    headers = await login(username)
    assert_refused(await client.get(url, headers=headers), *loc)
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200


async def test_patch_me_with_a_control_character_changes_nothing(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    headers = await login("courier1")
    before = (await client.get("/api/v1/me", headers=headers)).json()
    response = await client.patch("/api/v1/me", json={"display_name": "\x00"}, headers=headers)
    assert_refused(response, "body", "display_name")
    assert (await client.get("/api/v1/me", headers=headers)).json() == before


async def test_every_field_with_a_control_character_is_named(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        params={"source": "\x01"},
        json={"username": "a\x00", "display_name": "b\x7f", "password": "a-good-password"},
    )
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["errors"]] == [
        ["query", "source"],
        ["body", "username"],
        ["body", "display_name"],
    ]


@pytest.mark.parametrize(
    "text", ["", "巷口\t乱停车\r\n", "emoji 🚧", "\u00a0\u200b\u2028", "\ufffd"]
)
def test_ordinary_text_passes(text: str) -> None:
    assert control_character_problem(text) is None


@pytest.mark.parametrize("character", [*REFUSED, "\x9f", chr(0xD800), chr(0xDFFF)])
def test_control_characters_and_lone_surrogates_are_refused(character: str) -> None:
    problem = control_character_problem(f"ab{character}")
    assert problem is not None
    assert f"U+{ord(character):04X} at position 2" in problem
