"""A masked phone number never shows more than a third of its digits (rounded down)."""

from __future__ import annotations

import random

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.phones import mask_phone, masked_phone_sql
from tests.conftest import PG_URL, LoginFn


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("12345", "****5"),
        ("123456", "1****6"),
        ("6617708", "6*****8"),
        ("13804781234", "1********34"),
        ("+86-138-0478-1234", "+86-***-****-**34"),
        ("0478-8123456", "0***-*****56"),
        ("123456789012345", "12**********345"),
        ("12", "**"),
        ("", ""),
        (None, None),
    ],
)
def test_known_numbers_are_masked_by_the_rule(phone: str | None, masked: str | None) -> None:
    assert mask_phone(phone) == masked


@given(st.text(alphabet="0123456789", min_size=5, max_size=15))
def test_at_most_a_third_of_the_digits_show_and_only_where_they_are(phone: str) -> None:
    masked = mask_phone(phone)
    assert masked is not None
    assert len(masked) == len(phone)
    shown = [i for i, char in enumerate(masked) if char != "*"]
    assert len(shown) == len(phone) // 3
    for i in shown:
        assert masked[i] == phone[i]
    # What shows is a head and a tail, never a digit from the middle.
    tail = [i for i in shown if masked[i:].count("*") == 0]
    head = [i for i in shown if i not in tail]
    assert head == list(range(len(head)))
    assert len(tail) >= len(head)


@given(
    st.lists(
        st.tuples(st.text(alphabet="0123456789", min_size=1, max_size=5), st.sampled_from("+- ")),
        min_size=1,
        max_size=5,
    )
)
def test_separators_stay_and_do_not_count_as_digits(parts: list[tuple[str, str]]) -> None:
    phone = "".join(digits + separator for digits, separator in parts)
    masked = mask_phone(phone)
    assert masked is not None
    digits = sum(char.isdigit() for char in phone)
    assert sum(char.isdigit() for char in masked) == digits // 3
    assert [c for c in masked if not c.isdigit() and c != "*"] == [
        c for c in phone if not c.isdigit()
    ]


async def test_staff_see_a_reporters_phone_masked_by_the_rule(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    me = (await client.get("/api/v1/me", headers=await login("courier1"))).json()
    people = (await client.get("/api/v1/users?q=courier1", headers=await login("staff1"))).json()[
        "items"
    ]
    [courier] = [person for person in people if person["username"] == "courier1"]
    assert courier["phone"] == mask_phone(me["phone"])
    assert courier["phone"] != me["phone"]
    assert sum(char.isdigit() for char in courier["phone"]) <= len(me["phone"]) // 3


@pytest.mark.skipif(not PG_URL, reason="the SQL mask is PostgreSQL's (the ledger written by it)")
async def test_the_sql_mask_is_the_mask(session: AsyncSession) -> None:
    """``masked_phone_sql`` (the ledger's, app/stats/ledger_sql.py) masks as ``mask_phone``:
    numbers of digits alone, with separators anywhere, of separators alone, of other digits,
    empty and NULL."""
    draw = random.Random(12)
    phones: list[str | None] = [
        None,
        "",
        "1",
        "12",
        "+",
        "()",
        "１２３４５６７",
        "+86 (0478) 812-3456",
    ]
    phones += ["".join(draw.choices("0123456789", k=n)) for n in range(3, 21)]
    phones += ["".join(draw.choices("0123456789+-() x", k=draw.randint(1, 24))) for _ in range(300)]
    phones_in = "unnest(CAST(:phones AS text[])) AS phone"
    statement = text(f"SELECT phone, {masked_phone_sql('phone')} FROM {phones_in}")
    masked = (await session.execute(statement, {"phones": phones})).all()
    assert len(masked) == len(phones)
    assert dict(masked) == {phone: mask_phone(phone) for phone in phones}
