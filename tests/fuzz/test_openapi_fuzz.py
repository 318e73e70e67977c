"""Every operation of the OpenAPI document, fuzzed: requests generated from the document (valid
ones and invalid ones), sent to the served app as staff1, admin and unit1, and anonymously (to
the public operations, and twice to each other one); each answer is checked against what the
document promises — no server error, a documented status, a documented content type, a body
and headers matching their declared schemas. Path and query parameters and body fields named
like an id often carry real ones (tests/fuzz/world.py), so that requests get past the 404s.

Bounded and deterministic by default: derandomised with a fixed seed, ``SSP_FUZZ_EXAMPLES``
generated requests per operation and caller (5 unless set) besides the document's own
examples. ``SSP_FUZZ_EXAMPLES=200`` is a long run; ``SSP_FUZZ_COVERAGE=1`` adds schemathesis'
coverage phase (boundary values, each field missing or of a wrong type, other methods),
some 10 000 requests more. The run ends with a summary of what was sent and what came back
(``-v``: also the operations that never answered 2xx)."""

from __future__ import annotations

import os
from typing import Any

import hypothesis
import hypothesis.strategies as st
import pytest
import schemathesis
from schemathesis import Case, GenerationMode, HookContext

from app.core.config import Settings
from app.core.text import CONTROL_CHARACTER
from app.main import create_app
from tests.fuzz.world import PHOTO, World

EXAMPLES = int(os.environ.get("SSP_FUZZ_EXAMPLES", "5"))
SEED = 20261203
CALLERS = ["staff1", "admin", "unit1"]
STREAM_PATH = "/api/v1/events/stream"
LOGOUT_PATH = "/api/v1/auth/logout"
# A live stream never ends: read what arrives in this long, then hang up.
STREAM_SECONDS = 0.5

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        # Generation is quick, but a busy CI machine can make it look slow: not a failure.
        "suppress-health-check": ["too_slow"],
        "generation": {
            "mode": "all",
            "max-examples": EXAMPLES,
            "deterministic": True,
        },
        "phases": {
            "coverage": {"enabled": bool(os.environ.get("SSP_FUZZ_COVERAGE"))},
            "stateful": {"enabled": False},
        },
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "response_headers_conformance": {"enabled": True},
        },
    }
)


def _document() -> dict[str, Any]:
    """The document ``GET /openapi.json`` serves (FastAPI answers ``app.openapi()``)."""
    app = create_app(Settings(env="test", database_url="sqlite+aiosqlite://"))
    try:
        return app.openapi()
    finally:
        app.state.photo_pool.shutdown()


SCHEMA = schemathesis.openapi.from_dict(_document(), config=CONFIG)
PUBLIC = SCHEMA.include(lambda ctx: not ctx.operation.definition.raw.get("security"))
SECURED = SCHEMA.exclude(lambda ctx: not ctx.operation.definition.raw.get("security"))


class Active:
    """The world the running test acts in: the hooks draw real ids from it. (The document's
    own examples are made when the tests are collected, before there is one.)"""

    world: World | None = None


def _real_or_generated(context: HookContext, generated: Any) -> st.SearchStrategy[Any]:
    """Each field as generated, or one of the world's real values for a field of its name."""
    world = Active.world
    if world is None or context.operation is None or not isinstance(generated, dict):
        return st.just(generated)
    choices: dict[str, st.SearchStrategy[Any]] = {}
    for name, value in generated.items():
        real = world.real(name, context.operation.path)
        if name == "photos" and isinstance(value, list):
            # A real photo, so that filing a report and the steps with photos can succeed.
            choices[name] = st.sampled_from([value, [PHOTO.read_bytes()]])
        elif real and isinstance(value, list):
            choices[name] = st.one_of(
                st.just(value), st.lists(st.sampled_from(real), min_size=1, max_size=3)
            )
        elif real:
            choices[name] = st.sampled_from([value, *real])
        else:
            choices[name] = st.just(value)
    return st.fixed_dictionaries(choices)


@SCHEMA.hook
def flatmap_path_parameters(context: HookContext, path_parameters: Any) -> st.SearchStrategy[Any]:
    return _real_or_generated(context, path_parameters)


@SCHEMA.hook
def flatmap_query(context: HookContext, query: Any) -> st.SearchStrategy[Any]:
    return _real_or_generated(context, query)


@SCHEMA.hook
def flatmap_body(context: HookContext, body: Any) -> st.SearchStrategy[Any]:
    return _real_or_generated(context, body)


@pytest.fixture(scope="module")
def active(world: World) -> World:
    Active.world = world
    return world


def _printable(value: Any) -> Any:
    """``value`` with each control character of its strings replaced by ``?``."""
    if isinstance(value, str):
        return CONTROL_CHARACTER.sub("?", value)
    if isinstance(value, dict):
        return {_printable(key): _printable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_printable(item) for item in value]
    return value


def _send(case: Case[Any], world: World, headers: dict[str, str]) -> None:
    if case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE:
        # Text the document allows but the service refuses in every field (app/core/text.py,
        # documented as every operation's 422): a third of the valid requests would end there.
        # The invalid ones keep them, and test the rule.
        case.path_parameters = _printable(case.path_parameters)
        case.query = _printable(case.query)
        case.body = _printable(case.body)
    stream = case.operation.path == STREAM_PATH
    response = case.call(
        base_url=world.url, headers=headers, timeout=STREAM_SECONDS if stream else 30
    )
    world.count(case.operation.label, response.status_code)
    case.validate_response(response, headers=headers)


@pytest.mark.parametrize("world", CALLERS, indirect=True)
@SCHEMA.parametrize()
def test_signed_in(case: Case[Any], active: World) -> None:
    # Ending the fuzzer's login would leave it unauthenticated for the rest of the run.
    headers = active.spare_headers if case.operation.path == LOGOUT_PATH else active.headers
    _send(case, active, headers)


@pytest.mark.parametrize("world", [None], ids=["anonymous"], indirect=True)
@PUBLIC.parametrize()
def test_anonymous(case: Case[Any], active: World) -> None:
    _send(case, active, {})


@pytest.mark.parametrize("world", [None], ids=["anonymous"], indirect=True)
@SECURED.parametrize()
@hypothesis.settings(max_examples=2)
def test_anonymous_where_a_token_is_needed(case: Case[Any], active: World) -> None:
    """Every other operation refuses an anonymous caller as it says (a 401, or a 4xx for a
    request it cannot read first): two requests each are enough for that."""
    _send(case, active, {})
