"""A request's ``media_url`` is what a client downloads as it is: an absolute URL of the first
photo at display size that opens with a plain GET, without any header (a JPEG), in both formats;
the same URL altered (signature, size, photo) is refused."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from tests.open311.conftest import BASE, FORMATS, file_case, json_ok, xml_ok
from tests.reports.conftest import SubmitFn, photo_bytes


def _with(url: str, **changes: str) -> str:
    """The URL with some of its query parameters changed."""
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, **changes})))


async def _media_url(server: str, number: str, fmt: str) -> str:
    async with httpx.AsyncClient() as anyone:
        response = await anyone.get(f"{server}{BASE}/requests/{number}.{fmt}")
    if fmt == "json":
        url = json_ok(response)[0]["media_url"]
    else:
        url = xml_ok(response).findtext("request/media_url")
    assert isinstance(url, str), response.text
    return url


@pytest.mark.parametrize("fmt", FORMATS)
async def test_the_media_url_opens_without_any_header(
    live_server: str, submit: SubmitFn, fmt: str
) -> None:
    report = await file_case(
        submit,
        photos=[
            ("first.jpg", photo_bytes("Canon_40D.jpg")),
            ("second.jpg", photo_bytes("DSCN0010.jpg")),
        ],
    )
    url = await _media_url(live_server, report["number"], fmt)
    assert url.startswith(f"{live_server}/"), url
    first = report["photos"][0]["id"]
    assert first in url, (url, report["photos"])

    async with httpx.AsyncClient() as anyone:  # no cookie, no Authorization
        image = await anyone.get(url)
        assert image.status_code == 200, image.text
        assert image.headers["content-type"] == "image/jpeg"
        assert image.content[:3] == b"\xff\xd8\xff"

        signature = parse_qs(urlsplit(url).query)["signature"][0]
        flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
        second = report["photos"][1]["id"]
        for altered in (
            _with(url, signature=flipped),
            _with(url, size="thumbnail"),
            _with(url, expires=str(int(parse_qs(urlsplit(url).query)["expires"][0]) + 3600)),
            url.replace(first, second),
        ):
            refused = await anyone.get(altered)
            assert refused.status_code == 403, (altered, refused.text)
