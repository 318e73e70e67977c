"""The authorisation matrix: every operation of the API, called by every role of the demo on
objects of the callers' place and of places outside their reach, answers as ``table.py`` says;
a refused change leaves its object as it was; and every route the app serves has a row (a new
route without one fails here, saying where to add it).

How answers are classified: 401, 403 and 404 (``not_found``) are the gate's; anything else
means the gate let the call through, except a 5xx, which always fails. A list is listed or
unlisted by whether the column's object is in it. An anonymous GET is also sent as HEAD, which
must be answered alike. The calls that cannot disturb one another (the refused ones, reads,
callers with an object each, the columns) are made side by side.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount, Route

from app.main import create_app
from tests.authorization.operations import OPS, Op, Req, url_of
from tests.authorization.table import (
    DEFECTS,
    DENIALS,
    HIDDEN,
    LISTED,
    MATRIX,
    OK,
    REFUSED,
    ROLES,
    SIGN_IN,
    UNLISTED,
    VARIANTS,
    Outcome,
    Row,
    expand,
)
from tests.authorization.world import Answer, World
from tests.conftest import make_test_settings

TABLE = "tests/authorization/table.py"
# Calls made by this process, for the summary at the end.
TALLY: dict[str, Any] = {"operations": 0, "calls": 0, "seconds": 0.0}


def served_operations(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(method, path) of every operation the app serves. HEAD is left out: it answers wherever
    GET does, as GET (app/core/head.py). The documentation's static files are a mount."""
    app = create_app(make_test_settings("sqlite+aiosqlite:///:memory:", tmp_path))
    try:
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if isinstance(route, Mount):
                yield "GET", f"{context.path}/{{path}}"
            elif isinstance(route, APIRoute | Route):
                for method in sorted(context.methods or ()):
                    if method != "HEAD":
                        yield method, str(context.path)
            else:  # pragma: no cover - a kind of route this test does not know yet
                raise AssertionError(f"{route!r}: say in {__file__} how to call it")
    finally:
        app.state.photo_pool.shutdown()


def test_every_route_the_app_serves_has_a_row_and_every_row_a_route(tmp_path: Path) -> None:
    served = set(served_operations(tmp_path))
    missing = sorted(served - MATRIX.keys())
    gone = sorted(MATRIX.keys() - served)
    message = []
    if missing:
        message.append(
            f"routes without a row in {TABLE}: add one to MATRIX saying who may call each "
            "(and how to call it in operations.py):\n"
            + "\n".join(f"    {method} {path}" for method, path in missing)
        )
    if gone:
        message.append(
            f"rows of {TABLE} for routes the app no longer serves: remove them:\n"
            + "\n".join(f"    {method} {path}" for method, path in gone)
        )
    assert not message, "\n".join(message)


# Every row of the table: the routes', then the variants'.
ROWS: dict[tuple[str, ...], Row] = dict(itertools.chain(MATRIX.items(), VARIANTS.items()))


def row_id(key: tuple[str, ...]) -> str:
    method, path, *variant = key
    return f"{method} {path}" + "".join(f" ({v})" for v in variant)


def test_every_row_names_every_role_once_and_has_a_way_to_be_called() -> None:
    problems = []
    for key, row in ROWS.items():
        if key not in OPS:
            problems.append(f"{row_id(key)}: no way to call it in operations.py")
        if key in VARIANTS and key[:2] not in MATRIX:
            problems.append(f"{row_id(key)}: a variant of a route without a row")
        for scope, cell in row.items():
            try:
                expand(cell)
            except ValueError as exc:
                problems.append(f"{row_id(key)} {scope}: {exc}")
    for *route, scope, role in DEFECTS:
        if scope not in ROWS.get(tuple(route), {}) or role not in ROLES:
            problems.append(f"defect {row_id(tuple(route))} {scope} {role}: no such case")
    assert not problems, "\n".join(problems)


# --- calling ------------------------------------------------------------------------------


async def call(world: World, op: Op, role: str, req: Req) -> Answer:
    headers = await world.headers_of_new_login(role) if req.own_login else None
    body = await req.body_per_call(world) if req.body_per_call else req.json
    for _ in range(3):
        answer = await world.request(
            role,
            op.method,
            url_of(op.path, req.params),
            headers=headers,
            params=req.query,
            json=body,
            data=req.data,
            files=req.files,
            stream=req.stream,
        )
        # PostgreSQL gave the request up for another running at the same moment (the matrix
        # calls side by side): nothing was saved, and the API asks to send it again.
        if answer.code != "conflict_retry":
            break
    return answer


def outcome(answer: Answer, req: Req) -> Outcome:
    """The gate's answer (401/403/404), or what a call it let through got; a description
    that matches no outcome when something is wrong whatever was expected."""
    if answer.status >= 500:
        return f"{answer.status} {answer.code} (a server error)"
    if answer.status == 401:
        return SIGN_IN
    if answer.status == 403:
        return REFUSED
    if answer.status == 404 and answer.code in (None, "not_found"):
        return HIDDEN
    if req.member is None:
        return OK
    if answer.status != 200:
        return f"{answer.status} {answer.code} (a list that did not answer)"
    items = answer.body["items"] if isinstance(answer.body, dict) else answer.body
    ids = {str(item.get("id")) for item in items}
    if str(req.member) in ids:
        return LISTED
    if req.empty_unless_listed and items:
        return f"{UNLISTED}, but the list filtered to the other place has {len(items)} items"
    return UNLISTED


def first_answer_problem(answer: Answer, req: Req) -> str | None:
    """The first caller the gate lets through meets a request the matrix built right: it
    succeeds, or gets the one answer of the domain the request was made for."""
    if req.first_answer is None:
        ok = 200 <= answer.status < 300 or answer.status == 304
    else:
        ok = answer.code == req.first_answer
    if ok:
        return None
    wanted = req.first_answer or "a 2xx"
    return f"the first caller let through got {answer.status} {answer.code}, not {wanted}"


async def check(
    world: World, op: Op, scope: str, role: str, reqs: list[Req], expected: Outcome, first: bool
) -> list[str]:
    problems = []
    for req in reqs:
        answer = await call(world, op, role, req)
        TALLY["calls"] += 1
        got = outcome(answer, req)
        shown = f"{scope:>3} {role:<11}"
        if got != expected:
            detail = answer.body if answer.status >= 400 else ""
            problems.append(f"{shown} expected {expected}, got {got} {detail}".rstrip())
        elif first and expected not in DENIALS and (problem := first_answer_problem(answer, req)):
            problems.append(f"{shown} {problem}: {answer.body}")
        if role == "anonymous" and op.method == "GET" and not req.stream:
            # HEAD answers as GET does (app/core/head.py), the gate included.
            head = await call(world, Op("HEAD", op.path, op.build), role, req)
            TALLY["calls"] += 1
            if head.status != answer.status:
                problems.append(f"{shown} HEAD got {head.status}, GET {answer.status}")
    return problems


async def run_row(
    world: World, op: Op, row: Row, skip: frozenset[tuple[str, str]] = frozenset()
) -> list[str]:
    """Every role on every column of the row, the columns side by side (their objects are
    their own). In a column the refused callers call first, at once, on one object, which must
    then be as it was; then the callers let through: at once when the operation only reads or
    gives each of them an object of their own, else in turn, the first meeting the object as
    it was built."""
    found = await asyncio.gather(
        *(run_column(world, op, scope, expand(cell), skip) for scope, cell in row.items())
    )
    return [problem for column in found for problem in column]


async def run_column(
    world: World,
    op: Op,
    scope: str,
    expected: dict[str, Outcome],
    skip: frozenset[tuple[str, str]],
) -> list[str]:
    roles = [role for role in ROLES if (scope, role) not in skip]
    refused = [role for role in roles if expected[role] in DENIALS]
    let_in = [role for role in roles if expected[role] not in DENIALS]
    reqs = await op.build(world, scope)
    before = await op.probe(world, reqs[0]) if op.probe else None
    found = await asyncio.gather(
        *(check(world, op, scope, role, reqs, expected[role], False) for role in refused)
    )
    problems = [problem for role_problems in found for problem in role_problems]
    if op.probe:
        after = await op.probe(world, reqs[0])
        if after != before:
            problems.append(f"{scope:>3} a refused call changed it: {before} → {after}")
    if not let_in:
        found = []
    elif op.fresh:  # an object each: independent calls, at once
        others = await asyncio.gather(*(op.build(world, scope) for _ in let_in[1:]))
        found = await asyncio.gather(
            *(
                check(world, op, scope, role, own, expected[role], True)
                for role, own in zip(let_in, [reqs, *others], strict=True)
            )
        )
    elif op.method == "GET":  # reading changes nothing: everyone at once
        found = await asyncio.gather(
            *(
                check(world, op, scope, role, reqs, expected[role], index == 0)
                for index, role in enumerate(let_in)
            )
        )
    else:  # one object for all: in turn, the first meets it as it was built
        found = [
            await check(world, op, scope, role, reqs, expected[role], index == 0)
            for index, role in enumerate(let_in)
        ]
    return problems + [problem for role_problems in found for problem in role_problems]


def _known_defects(key: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    """The cases of a row that run as expected failures of their own."""
    return frozenset((case[-2], case[-1]) for case in DEFECTS if case[:-2] == key)


@pytest.mark.parametrize("key", list(ROWS), ids=[row_id(key) for key in ROWS])
async def test_operation(world: World, key: tuple[str, ...]) -> None:
    started = time.perf_counter()
    problems = await run_row(world, OPS[key], ROWS[key], skip=_known_defects(key))
    TALLY["operations"] += 1
    TALLY["seconds"] += time.perf_counter() - started
    assert not problems, f"{row_id(key)} does not answer as {TABLE} says:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(case, marks=pytest.mark.xfail(strict=True, reason=reason))
        for case, reason in DEFECTS.items()
    ],
    ids=[f"{row_id(case[:-2])} {case[-2]} {case[-1]}" for case in DEFECTS],
)
async def test_known_defect(world: World, case: tuple[str, ...]) -> None:
    key, scope, role = case[:-2], case[-2], case[-1]
    op = OPS[key]
    expected = expand(ROWS[key][scope])[role]
    reqs = await op.build(world, scope)
    problems = await check(world, op, scope, role, reqs, expected, True)
    assert not problems, "\n".join(problems)


async def test_fields_a_caller_may_not_set_are_not_set(world: World) -> None:
    """Signing up and changing one's own account take the fields they document and nothing
    else: a role, a username or an active flag sent along is ignored, not applied."""
    signed_up = await world.request(
        "anonymous",
        "POST",
        "/api/v1/auth/register",
        json={
            "username": world.name("eager"),
            "display_name": "新居民",
            "password": "a-long-password",
            "roles": [{"role": "admin"}],
            "is_active": True,
        },
    )
    assert signed_up.status == 201, signed_up.body
    assert [role["role"] for role in signed_up.body["roles"]] == ["reporter"]

    changed = await world.request(
        "courier1",
        "PATCH",
        "/api/v1/me",
        json={"roles": [{"role": "admin"}], "username": "root", "display_name": "孙浩"},
    )
    assert changed.status == 200, changed.body
    me = await world.request("courier1", "GET", "/api/v1/me")
    assert me.body["username"] == "courier1"
    assert [(role["role"], role["scope_name"]) for role in me.body["roles"]] == [
        ("courier", "顺丰速运杭锦后旗营业部")
    ]


def test_matrix_size() -> None:
    """How big the matrix is (shown with ``-rA`` or ``-s``): under several test processes, the
    calls and time are this process's share."""
    cases = sum(len(row) for row in ROWS.values()) * len(ROLES)
    print(
        f"\nauthorization matrix: {len(MATRIX)} operations and {len(VARIANTS)} variants, "
        f"{len(ROLES)} roles, {cases} (row, column, role) cases; this process ran "
        f"{TALLY['operations']} rows with {TALLY['calls']} calls in {TALLY['seconds']:.1f} s"
    )
    assert len(MATRIX) >= 100
