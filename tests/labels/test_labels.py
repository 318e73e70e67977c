"""GET /api/v1/labels: every code the API speaks, named in Chinese and in English, so that
clients do not keep their own copy of the docs."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from app.core.language import negotiate
from app.labels.catalogue import EVENT_TYPES, VOCABULARIES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(VOCABULARIES))
def test_every_code_of_every_vocabulary_has_both_labels(name: str) -> None:
    enum, labels = VOCABULARIES[name]
    assert set(labels) == {member.value for member in enum}, (
        f"{enum.__name__} and the labels of {name!r} in app/labels/catalogue.py differ"
    )
    for code, (chinese, english) in labels.items():
        assert re.search(r"[\u4e00-\u9fff]", chinese), (name, code)
        assert english.isascii(), (name, code)
        assert english.strip(), (name, code)


def test_the_event_types_are_those_the_api_documents() -> None:
    """docs/api.md lists the event types under "Events"; the labels name each, no more."""
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    documented: set[str] = set()
    for family in ("report", "job", "wish"):
        block = re.search(rf"^- {family}: (.*?);?$(?:\n  .*$)*", text, re.MULTILINE)
        assert block is not None, family
        codes = re.findall(r"`([a-z_]+)`", block.group(0))
        documented |= {f"{family}.{code}" for code in codes}
    assert documented == set(EVENT_TYPES)


async def test_labels_in_chinese_by_default_and_without_signing_in(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/labels")
    assert response.status_code == 200, response.text
    assert response.headers["content-language"] == "zh-CN"
    assert "Accept-Language" in response.headers["vary"]
    assert response.headers["cache-control"].startswith("public")
    body = response.json()
    assert body["lang"] == "zh-CN"
    vocabularies = body["vocabularies"]
    assert vocabularies["report_status"]["submitted"] == "待受理"
    assert vocabularies["job_status"]["pending"] == "待报到"
    assert vocabularies["decline_reason"]["wrong_area"] == "属地不符"
    assert vocabularies["light"]["red"].startswith("红灯")
    assert vocabularies["event_type"]["job.dispatched"] == "派单"
    assert set(vocabularies) == {*VOCABULARIES, "event_type"}


@pytest.mark.parametrize(
    ("query", "header", "language"),
    [
        ("?lang=en", None, "en"),
        ("?lang=zh-CN", "en", "zh-CN"),  # the parameter wins over the header
        ("", "en-GB,en;q=0.9", "en"),
        ("", "fr-FR, en;q=0.5, zh;q=0.8", "zh-CN"),
        ("", "zh-TW", "zh-CN"),
        ("", "fr, de;q=0.5", "zh-CN"),
        ("", "en;q=0, *;q=0.1", "zh-CN"),
    ],
)
async def test_the_language_is_chosen_by_parameter_then_header(
    client: httpx.AsyncClient, query: str, header: str | None, language: str
) -> None:
    headers = {"Accept-Language": header} if header else {}
    response = await client.get(f"/api/v1/labels{query}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["lang"] == language
    assert response.headers["content-language"] == language
    statuses = response.json()["vocabularies"]["report_status"]
    assert statuses["closed"] == ("Closed" if language == "en" else "已结案")


async def test_an_unknown_language_is_a_422_naming_the_parameter(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/labels?lang=fr")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert any(error["loc"] == ["query", "lang"] for error in response.json()["errors"])


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh-CN"),
        ("", "zh-CN"),
        ("en", "en"),
        ("EN-us", "en"),
        ("en;q=0.4, zh-CN;q=0.6", "zh-CN"),
        ("en;q=0.6, zh-CN;q=0.6", "en"),
        ("en;q=abc", "zh-CN"),
        ("en;q=2", "zh-CN"),
        (",,;;", "zh-CN"),
    ],
)
def test_accept_language_negotiation(header: str | None, language: str) -> None:
    assert negotiate(header) == language
