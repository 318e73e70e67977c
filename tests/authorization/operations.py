"""How the matrix calls each operation: the request for each column of the table (``in``,
``out``, ``near``, ``any``), built on the world's standing objects or on objects made for the
call, and what to read to see that a refused call changed nothing (a probe, read as admin
before and after the refused calls).

Requests are whole and valid, so that a caller the gate lets through gets the domain's answer
(2xx, or the 409/422 the request was made for) and one it keeps out gets 401/403/404; the
first caller let through must get exactly that, so a request the matrix got wrong cannot pass
for the domain's answer. An operation marked ``fresh`` uses up its object (a status change, a
deletion): every caller it lets through gets one of its own, so that each meets the object as
the action needs it. The points store's and the micro-wishes' operations are in
``operations_store.py``, registered at the end of this module."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.demo.seed import demo_id
from app.mobile.router import STATIC_DIR as MOBILE_STATIC
from tests.authorization.world import (
    API,
    BANNER,
    CATEGORY,
    OTHER_WEBHOOK_URL,
    PHOTO,
    REMOTE_LAT,
    REMOTE_LNG,
    SF_EXPRESS,
    UNIT_1,
    UNIT_3,
    WEBHOOK_URL,
    World,
    photo_files,
)
from tests.conftest import DEMO_PASSWORD

NORTH_STREET = demo_id("community", "陕坝镇", "北街社区")
CALENDAR_YEAR = 2099


@dataclass
class Req:
    """One request of an operation. ``member``: for a list, the id whose presence decides
    between listed and unlisted; ``empty_unless_listed``: a list filtered to the other place,
    which must then be empty."""

    params: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] | None = None
    json: Any = None
    data: dict[str, str] | None = None
    files: list[Any] | None = None
    member: str | None = None
    empty_unless_listed: bool = False
    stream: bool = False
    # Calls that end the caller's login are made with a login of their own.
    own_login: bool = False
    # Calls that present credentials in the body get them fresh for each caller.
    body_per_call: Callable[[World], Awaitable[Any]] | None = None
    # The problem code the first caller let through gets (None: it succeeds, 2xx): a request
    # the matrix got wrong must not pass for an answer of the domain.
    first_answer: str | None = None


Build = Callable[[World, str], Awaitable[list[Req]]]
Probe = Callable[[World, Req], Awaitable[Any]]


@dataclass(frozen=True)
class Op:
    method: str
    path: str
    build: Build
    fresh: bool = False
    probe: Probe | None = None


OPS: dict[tuple[str, ...], Op] = {}


def op(
    method: str,
    path: str,
    *,
    fresh: bool = False,
    probe: Probe | None = None,
    variant: str | None = None,
) -> Callable[[Build], Build]:
    """Registers how to call an operation (or, with ``variant``, one of the table's VARIANTS
    of it)."""

    def register(build: Build) -> Build:
        key = (method, path) if variant is None else (method, path, variant)
        OPS[key] = Op(method, path, build, fresh, probe)
        return build

    return register


_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def url_of(path: str, params: dict[str, Any]) -> str:
    return _PARAM.sub(lambda m: str(params[m.group(1)]), path)


def one(**kwargs: Any) -> list[Req]:
    return [Req(**kwargs)]


async def admin_get(w: World, path: str) -> Any:
    """What an administrator reads at ``path``: the state a refused call must not change (an
    error's request id aside)."""
    answer = await w.request("admin", "GET", path)
    body = answer.body
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "request_id"}
    return answer.status, body


def probe_at(template: str, *keys: str) -> Probe:
    """A probe reading ``template`` (formatted with the request's path parameters) as admin,
    keeping only ``keys`` of the answer if given."""

    async def probe(w: World, req: Req) -> Any:
        status, body = await admin_get(w, url_of(template, req.params))
        if keys and isinstance(body, dict):
            body = {k: body.get(k) for k in keys}
        return status, body

    return probe


def _item(items: Any, item_id: str) -> Any:
    return next((i for i in items if str(i.get("id")) == str(item_id)), None)


V1 = API

# --- the service's pages ----------------------------------------------------------------


def _plain_get(path: str) -> None:
    @op("GET", path)
    async def _(w: World, scope: str) -> list[Req]:
        return one()


for _path in (
    "/",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/openapi.json",
    "/healthz",
    "/readyz",
    "/metrics",
    "/dashboard",
    "/m/",
):
    _plain_get(_path)


@op("GET", f"{V1}/labels")
async def _labels(w: World, scope: str) -> list[Req]:
    return one(query={"lang": "en"})


@op("GET", "/docs/assets/{path}")
async def _docs_asset(w: World, scope: str) -> list[Req]:
    return one(params={"path": "favicon.png"})


@op("GET", "/m/assets/{path}")
async def _mobile_asset(w: World, scope: str) -> list[Req]:
    # Its files are named after their content: whichever the build made.
    built = sorted(path.name for path in (MOBILE_STATIC / "assets").glob("*.js"))
    return one(params={"path": built[0] if built else "app.js"})


@op("GET", "/dashboard/assets/{path}")
async def _dashboard_asset(w: World, scope: str) -> list[Req]:
    return one(params={"path": "app.js"})


# --- Open311 (/open311/v2): its own keys (api_key), never the caller's bearer token -------


def _open311(path: str, **params: str) -> None:
    @op("GET", f"/open311/v2/{path}")
    async def _(w: World, scope: str) -> list[Req]:
        report = w.base.report.get(scope, w.base.report["in"])
        values = {k: (report if v == "<report>" else v) for k, v in params.items()}
        return one(params={"fmt": "json", **values})


_open311("discovery.{fmt}")
_open311("services.{fmt}")
_open311("services/{service_code}.{fmt}", service_code="chaotic_parking")
_open311("requests.{fmt}")
_open311("requests/{service_request_id}.{fmt}", service_request_id="<report>")
_open311("tokens/{token}.{fmt}", token="t0")


@op("POST", "/open311/v2/requests.{fmt}")
async def _open311_file(w: World, scope: str) -> list[Req]:
    # Filed with the caller's bearer token and no api_key: refused, whoever calls.
    lat, lng = w.places[scope if scope in w.places else "in"].point
    return one(
        params={"fmt": "json"},
        data={"service_code": "piled_rubbish", "lat": str(lat), "long": str(lng)},
    )


# --- signing in ---------------------------------------------------------------------------


async def _demo_login(w: World) -> Any:
    return {"username": "resident1", "password": DEMO_PASSWORD}


@op("POST", f"{V1}/auth/token")
async def _token(w: World, scope: str) -> list[Req]:
    return one(body_per_call=_demo_login)


async def _fresh_refresh(w: World) -> Any:
    return {"refresh_token": await w.refresh_token("resident1")}


@op("POST", f"{V1}/auth/refresh")
async def _refresh(w: World, scope: str) -> list[Req]:
    return one(body_per_call=_fresh_refresh)


async def _dashboard_key(w: World) -> Any:
    return {"key": w.headers["key"]["Authorization"].removeprefix("Bearer ")}


@op("POST", f"{V1}/auth/key-token")
async def _key_token(w: World, scope: str) -> list[Req]:
    return one(body_per_call=_dashboard_key)


@op("POST", f"{V1}/auth/key-token/renew")
async def _key_token_renew(w: World, scope: str) -> list[Req]:
    return one()


async def _registration(w: World) -> Any:
    return {"username": w.name("newcomer"), "display_name": "新居民", "password": "a-long-password"}


@op("POST", f"{V1}/auth/register")
async def _register(w: World, scope: str) -> list[Req]:
    return one(body_per_call=_registration)


@op("POST", f"{V1}/auth/logout")
async def _logout(w: World, scope: str) -> list[Req]:
    return one(own_login=True)


# --- the caller's own account -------------------------------------------------------------


@op("GET", f"{V1}/me")
async def _me(w: World, scope: str) -> list[Req]:
    return one()


@op("PATCH", f"{V1}/me")
async def _patch_me(w: World, scope: str) -> list[Req]:
    return one(json={})


@op("POST", f"{V1}/me/password")
async def _password(w: World, scope: str) -> list[Req]:
    # A wrong current password: the gate is passed (422), nobody's password changes.
    return one(
        json={"current_password": "not-the-password", "new_password": "another-password"},
        first_answer="validation_error",
    )


@op("GET", f"{V1}/me/export")
async def _export(w: World, scope: str) -> list[Req]:
    return one()


@op("POST", f"{V1}/me/cancel")
async def _cancel_me(w: World, scope: str) -> list[Req]:
    # A wrong password: the gate is passed (422), no account is cancelled.
    return one(json={"password": "not-the-password"}, first_answer="validation_error")


@op("GET", f"{V1}/points/me")
async def _points(w: World, scope: str) -> list[Req]:
    return one()


# --- dashboard keys, users, the audit log -----------------------------------------------


def _county(w: World, scope: str) -> str:
    return str(w.places[scope].county)


async def _keys_named(w: World, req: Req) -> Any:
    """The keys of the request's name (the other column makes keys at the same time)."""
    _, keys = await admin_get(w, f"{V1}/api-keys")
    return [key["id"] for key in keys if key["name"] == req.json["name"]]


@op("POST", f"{V1}/api-keys", probe=_keys_named)
async def _create_key(w: World, scope: str) -> list[Req]:
    return one(json={"name": w.name("大屏"), "region_id": _county(w, scope)})


@op("GET", f"{V1}/api-keys")
async def _list_keys(w: World, scope: str) -> list[Req]:
    return one()


async def _key_probe(w: World, req: Req) -> Any:
    _, keys = await admin_get(w, f"{V1}/api-keys")
    return _item(keys, req.params["key_id"])


@op("DELETE", f"{V1}/api-keys/{{key_id}}", fresh=True, probe=_key_probe)
async def _revoke_key(w: World, scope: str) -> list[Req]:
    key = await w.ok(
        "admin",
        "POST",
        f"{V1}/api-keys",
        json={"name": w.name("大屏"), "region_id": _county(w, scope)},
    )
    return one(params={"key_id": key["id"]})


@op("GET", f"{V1}/users")
async def _list_users(w: World, scope: str) -> list[Req]:
    member = w.base.user[scope]
    reqs = [Req(query={"limit": 200}, member=member)]
    if scope == "out":
        community = str(w.places[scope].community)
        reqs.append(
            Req(
                query={"limit": 200, "community_id": community},
                member=member,
                empty_unless_listed=True,
            )
        )
    return reqs


@op("GET", f"{V1}/users/{{user_id}}")
async def _read_user(w: World, scope: str) -> list[Req]:
    return one(params={"user_id": w.base.user[scope]})


def _user_role(scope: str) -> str:
    return "grid_worker" if scope == "in" else "community_staff"


@op("POST", f"{V1}/users")
async def _create_user(w: World, scope: str) -> list[Req]:
    return one(
        json={
            "username": w.name(f"made{scope}"),
            "display_name": "新同事",
            "password": "a-long-password",
            "roles": [{"role": _user_role(scope), "scope_id": str(w.places[scope].community)}],
        }
    )


_user_probe = probe_at(
    f"{V1}/users/{{user_id}}", "display_name", "is_active", "roles", "cancelled_at", "phone"
)


@op("PATCH", f"{V1}/users/{{user_id}}", probe=_user_probe)
async def _update_user(w: World, scope: str) -> list[Req]:
    user = await w.new_user(scope, _user_role(scope))
    return one(
        params={"user_id": user["id"]}, json={"display_name": "改过的名字", "is_active": False}
    )


@op("POST", f"{V1}/users/{{user_id}}/roles", probe=_user_probe)
async def _assign_role(w: World, scope: str) -> list[Req]:
    user = await w.new_user(scope, _user_role(scope))
    return one(params={"user_id": user["id"]}, json={"role": "supervisor", "scope_id": str(BANNER)})


@op("DELETE", f"{V1}/users/{{user_id}}/roles/{{assignment_id}}", fresh=True, probe=_user_probe)
async def _remove_role(w: World, scope: str) -> list[Req]:
    user = await w.new_user(scope, _user_role(scope))
    return one(params={"user_id": user["id"], "assignment_id": user["roles"][0]["id"]})


@op("POST", f"{V1}/users/{{user_id}}/cancel", fresh=True, probe=_user_probe)
async def _cancel_user(w: World, scope: str) -> list[Req]:
    user = await w.new_user(scope, _user_role(scope))
    return one(params={"user_id": user["id"]}, json={"reason": "本人书面申请注销"})


@op("GET", f"{V1}/admin/audit-log")
async def _audit_log(w: World, scope: str) -> list[Req]:
    return one()


# --- categories and the calendar ----------------------------------------------------------


@op("GET", f"{V1}/categories")
async def _categories(w: World, scope: str) -> list[Req]:
    return one()


@op("GET", f"{V1}/categories/{{code}}")
async def _category(w: World, scope: str) -> list[Req]:
    return one(params={"code": CATEGORY})


def _category_body(w: World) -> dict[str, Any]:
    return {
        "code": w.name("test_category_"),
        "parent_code": "event_street_order",
        "name": "测试类别",
        "name_en": "Test category",
        "kind": "event",
        "accept_within_hours": 24,
        "resolve_within_hours": 40,
    }


@op("POST", f"{V1}/categories")
async def _create_category(w: World, scope: str) -> list[Req]:
    return one(json=_category_body(w))


@op("PATCH", f"{V1}/categories/{{code}}", probe=probe_at(f"{V1}/categories/{{code}}"))
async def _update_category(w: World, scope: str) -> list[Req]:
    category = await w.ok("admin", "POST", f"{V1}/categories", json=_category_body(w))
    return one(params={"code": category["code"]}, json={"name": "改名", "is_active": False})


@op("GET", f"{V1}/calendar")
async def _calendar(w: World, scope: str) -> list[Req]:
    return one()


@op("POST", f"{V1}/admin/calendar/recompute-deadlines")
async def _recompute(w: World, scope: str) -> list[Req]:
    return one()


@op("GET", f"{V1}/admin/calendar/{{year:int}}")
async def _calendar_year(w: World, scope: str) -> list[Req]:
    return one(params={"year": CALENDAR_YEAR})


@op("PUT", f"{V1}/admin/calendar/{{year:int}}", probe=probe_at(f"{V1}/admin/calendar/{{year}}"))
async def _replace_year(w: World, scope: str) -> list[Req]:
    days = [{"date": f"{CALENDAR_YEAR - 1}-02-06", "is_workday": False, "name": "春节"}]
    return one(params={"year": CALENDAR_YEAR - 1}, json={"days": days})


def _fresh_day(w: World) -> str:
    """A day of the calendar's test year, which no deadline of the world reaches."""
    return (date(CALENDAR_YEAR, 1, 1) + timedelta(days=w.number() % 365)).isoformat()


async def _set_day(w: World) -> str:
    day = _fresh_day(w)
    await w.ok(
        "admin", "PUT", f"{V1}/admin/calendar/{day}", json={"is_workday": False, "name": "测试假日"}
    )
    return day


@op("GET", f"{V1}/admin/calendar/{{day}}")
async def _calendar_day(w: World, scope: str) -> list[Req]:
    return one(params={"day": await _set_day(w)})


@op("PUT", f"{V1}/admin/calendar/{{day}}", probe=probe_at(f"{V1}/admin/calendar/{{day}}"))
async def _put_day(w: World, scope: str) -> list[Req]:
    return one(params={"day": _fresh_day(w)}, json={"is_workday": True, "name": "调休"})


@op(
    "DELETE",
    f"{V1}/admin/calendar/{{day}}",
    fresh=True,
    probe=probe_at(f"{V1}/admin/calendar/{{day}}"),
)
async def _delete_day(w: World, scope: str) -> list[Req]:
    return one(params={"day": await _set_day(w)})


# --- regions, communities, grids, units, pairings -----------------------------------------


def _listing(member: str) -> list[Req]:
    return [Req(query={"limit": 200}, member=member)]


@op("GET", f"{V1}/regions")
async def _regions(w: World, scope: str) -> list[Req]:
    return [Req(member=str(w.places[scope].township))]


@op("GET", f"{V1}/regions/{{region_id}}")
async def _region(w: World, scope: str) -> list[Req]:
    return one(params={"region_id": w.places[scope].township})


@op("POST", f"{V1}/regions")
async def _create_region(w: World, scope: str) -> list[Req]:
    return one(json={"name": w.name("新镇"), "parent_id": _county(w, scope)})


_region_probe = probe_at(f"{V1}/regions/{{region_id}}", "name", "code")


@op("PATCH", f"{V1}/regions/{{region_id}}", probe=_region_probe)
async def _update_region(w: World, scope: str) -> list[Req]:
    region = await w.new_region(scope)
    return one(params={"region_id": region["id"]}, json={"name": w.name("改名镇")})


@op("DELETE", f"{V1}/regions/{{region_id}}", fresh=True, probe=_region_probe)
async def _delete_region(w: World, scope: str) -> list[Req]:
    return one(params={"region_id": (await w.new_region(scope))["id"]})


@op("GET", f"{V1}/communities")
async def _communities(w: World, scope: str) -> list[Req]:
    return _listing(str(w.places[scope].community))


@op("GET", f"{V1}/communities/outlines")
async def _outlines(w: World, scope: str) -> list[Req]:
    return one(query={"region_id": str(w.places[scope].township)})


@op("GET", f"{V1}/communities/locate")
async def _locate(w: World, scope: str) -> list[Req]:
    lat, lng = w.places[scope].point
    return one(query={"lat": lat, "lng": lng})


def _remote_square(w: World) -> dict[str, Any]:
    """A small square far from every point the matrix reports at, a new one each time."""
    n = w.number()
    west, south = REMOTE_LNG + (n % 50) * 0.01, REMOTE_LAT + (n // 50) * 0.01
    ring = [
        [west, south],
        [west + 0.005, south],
        [west + 0.005, south + 0.005],
        [west, south + 0.005],
        [west, south],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


async def _imported(w: World, req: Req) -> Any:
    name = req.json["features"][0]["properties"]["name"]
    _, page = await admin_get(w, f"{V1}/communities?q={name}")
    return [community["id"] for community in page["items"]]


@op("POST", f"{V1}/communities/import", probe=_imported)
async def _import(w: World, scope: str) -> list[Req]:
    feature = {
        "type": "Feature",
        "properties": {"name": w.name("导入社区"), "region_id": str(w.places[scope].township)},
        "geometry": _remote_square(w),
    }
    return one(json={"type": "FeatureCollection", "features": [feature]})


@op("GET", f"{V1}/communities/{{community_id}}")
async def _community(w: World, scope: str) -> list[Req]:
    return one(params={"community_id": w.places[scope].community})


@op("POST", f"{V1}/communities")
async def _create_community(w: World, scope: str) -> list[Req]:
    return one(json={"name": w.name("新社区"), "region_id": str(w.places[scope].township)})


_community_probe = probe_at(f"{V1}/communities/{{community_id}}", "name", "address", "region")


@op("PATCH", f"{V1}/communities/{{community_id}}", probe=_community_probe)
async def _update_community(w: World, scope: str) -> list[Req]:
    community = await w.new_community(scope)
    return one(params={"community_id": community["id"]}, json={"address": "改过的地址"})


@op("DELETE", f"{V1}/communities/{{community_id}}", fresh=True, probe=_community_probe)
async def _delete_community(w: World, scope: str) -> list[Req]:
    return one(params={"community_id": (await w.new_community(scope))["id"]})


@op("POST", f"{V1}/communities/{{community_id}}/grids")
async def _create_grid(w: World, scope: str) -> list[Req]:
    return one(params={"community_id": w.places[scope].community}, json={"name": w.name("网格")})


async def _grids(w: World, req: Req) -> Any:
    _, community = await admin_get(w, f"{V1}/communities/{req.params['community_id']}")
    return _item(community["grids"], req.params["grid_id"])


@op("PATCH", f"{V1}/grids/{{grid_id}}", probe=_grids)
async def _update_grid(w: World, scope: str) -> list[Req]:
    grid = await w.new_grid(scope)
    community = w.places[scope].community
    return one(
        params={"grid_id": grid["id"], "community_id": community}, json={"name": w.name("改名网格")}
    )


@op("DELETE", f"{V1}/grids/{{grid_id}}", fresh=True, probe=_grids)
async def _delete_grid(w: World, scope: str) -> list[Req]:
    grid = await w.new_grid(scope)
    return one(params={"grid_id": grid["id"], "community_id": w.places[scope].community})


@op("GET", f"{V1}/units")
async def _units(w: World, scope: str) -> list[Req]:
    return _listing(w.base.unit[scope])


@op("GET", f"{V1}/units/{{unit_id}}")
async def _unit(w: World, scope: str) -> list[Req]:
    return one(params={"unit_id": w.base.unit[scope]})


@op("POST", f"{V1}/units")
async def _create_unit(w: World, scope: str) -> list[Req]:
    return one(
        json={"name": w.name("新单位"), "kind": "department", "region_id": _county(w, scope)}
    )


_unit_probe = probe_at(f"{V1}/units/{{unit_id}}", "name", "phone", "region")


@op("PATCH", f"{V1}/units/{{unit_id}}", probe=_unit_probe)
async def _update_unit(w: World, scope: str) -> list[Req]:
    unit = await w.new_unit(scope)
    return one(params={"unit_id": unit["id"]}, json={"phone": "0478-6600000"})


@op("DELETE", f"{V1}/units/{{unit_id}}", fresh=True, probe=_unit_probe)
async def _delete_unit(w: World, scope: str) -> list[Req]:
    return one(params={"unit_id": (await w.new_unit(scope))["id"]})


@op("GET", f"{V1}/communities/{{community_id}}/pairings")
async def _pairings(w: World, scope: str) -> list[Req]:
    return one(params={"community_id": w.places[scope].community})


async def _pairing_probe(w: World, req: Req) -> Any:
    _, pairings = await admin_get(w, f"{V1}/communities/{req.params['community_id']}/pairings")
    return _item(pairings, req.params["pairing_id"])


@op("POST", f"{V1}/communities/{{community_id}}/pairings")
async def _create_pairing(w: World, scope: str) -> list[Req]:
    unit = await w.new_unit(scope)
    return one(params={"community_id": w.places[scope].community}, json={"unit_id": unit["id"]})


@op("PATCH", f"{V1}/pairings/{{pairing_id}}", probe=_pairing_probe)
async def _update_pairing(w: World, scope: str) -> list[Req]:
    pairing = await w.new_pairing(scope)
    return one(
        params={"pairing_id": pairing["id"], "community_id": w.places[scope].community},
        json={"category_codes": ["water_pipe_leak"]},
    )


@op("DELETE", f"{V1}/pairings/{{pairing_id}}", fresh=True, probe=_pairing_probe)
async def _delete_pairing(w: World, scope: str) -> list[Req]:
    pairing = await w.new_pairing(scope)
    return one(params={"pairing_id": pairing["id"], "community_id": w.places[scope].community})


# --- courier companies and branches, check-ins -----------------------------------------


@op("GET", f"{V1}/courier-companies")
async def _companies(w: World, scope: str) -> list[Req]:
    return one()


@op("GET", f"{V1}/courier-companies/{{company_id}}")
async def _company(w: World, scope: str) -> list[Req]:
    return one(params={"company_id": SF_EXPRESS})


@op("POST", f"{V1}/courier-companies")
async def _create_company(w: World, scope: str) -> list[Req]:
    return one(json={"name": w.name("测试快递")})


async def _new_company(w: World) -> str:
    body = {"name": w.name("测试快递")}
    company = await w.ok("admin", "POST", f"{V1}/courier-companies", json=body)
    return str(company["id"])


_company_probe = probe_at(f"{V1}/courier-companies/{{company_id}}")


@op("PATCH", f"{V1}/courier-companies/{{company_id}}", probe=_company_probe)
async def _update_company(w: World, scope: str) -> list[Req]:
    return one(params={"company_id": await _new_company(w)}, json={"short_name": "改"})


@op("DELETE", f"{V1}/courier-companies/{{company_id}}", fresh=True, probe=_company_probe)
async def _delete_company(w: World, scope: str) -> list[Req]:
    return one(params={"company_id": await _new_company(w)})


@op("GET", f"{V1}/courier-branches")
async def _branches(w: World, scope: str) -> list[Req]:
    return _listing(w.base.branch[scope])


@op("GET", f"{V1}/courier-branches/{{branch_id}}")
async def _branch(w: World, scope: str) -> list[Req]:
    return one(params={"branch_id": w.base.branch[scope]})


@op("POST", f"{V1}/courier-branches")
async def _create_branch(w: World, scope: str) -> list[Req]:
    return one(
        json={
            "company_id": str(SF_EXPRESS),
            "name": w.name("新网点"),
            "region_id": str(w.places[scope].township),
        }
    )


_branch_probe = probe_at(f"{V1}/courier-branches/{{branch_id}}")


@op("PATCH", f"{V1}/courier-branches/{{branch_id}}", probe=_branch_probe)
async def _update_branch(w: World, scope: str) -> list[Req]:
    branch = await w.new_branch(scope)
    return one(params={"branch_id": branch["id"]}, json={"address": "改过的地址"})


@op("DELETE", f"{V1}/courier-branches/{{branch_id}}", fresh=True, probe=_branch_probe)
async def _delete_branch(w: World, scope: str) -> list[Req]:
    return one(params={"branch_id": (await w.new_branch(scope))["id"]})


@op("POST", f"{V1}/communities/{{community_id}}/check-ins")
async def _request_check_in(w: World, scope: str) -> list[Req]:
    # courier1 is checked in with 东街社区 already (409) and asks the other county anew.
    return one(
        params={"community_id": w.places[scope].community},
        json={"note": "负责片区投递"},
        first_answer="already_checked_in" if scope == "in" else None,
    )


@op("GET", f"{V1}/check-ins")
async def _check_ins(w: World, scope: str) -> list[Req]:
    member = w.base.check_in[scope]
    reqs = [Req(query={"limit": 200}, member=member)]
    if scope == "out":
        # Not necessarily empty: courier1 may have asked that community itself.
        community = str(w.places[scope].community)
        reqs.append(Req(query={"limit": 200, "community_id": community}, member=member))
    return reqs


@op("GET", f"{V1}/check-ins/{{check_in_id}}")
async def _check_in(w: World, scope: str) -> list[Req]:
    return one(params={"check_in_id": w.base.check_in[scope]})


_check_in_probe = probe_at(f"{V1}/check-ins/{{check_in_id}}", "status", "decided_by")


@op("POST", f"{V1}/check-ins/{{check_in_id}}/approve", probe=_check_in_probe)
async def _approve(w: World, scope: str) -> list[Req]:
    return one(params={"check_in_id": (await w.check_in(scope))["id"]}, json={"note": "欢迎"})


@op("POST", f"{V1}/check-ins/{{check_in_id}}/reject", probe=_check_in_probe)
async def _reject_check_in(w: World, scope: str) -> list[Req]:
    return one(
        params={"check_in_id": (await w.check_in(scope))["id"]},
        json={"reason": "不在本社区投递范围"},
    )


# --- reports ------------------------------------------------------------------------------


async def _new_reports(w: World, req: Req) -> Any:
    """The cases filed at the place since the request was built."""
    _, page = await admin_get(
        w,
        f"{V1}/reports?community_id={req.params['community_id']}&created_from={req.params['since']}",
    )
    return [report["id"] for report in page["items"]]


@op("POST", f"{V1}/reports", probe=_new_reports)
async def _submit(w: World, scope: str) -> list[Req]:
    lat, lng = w.places[scope].point
    since = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return one(
        params={"community_id": w.places[scope].community, "since": since},
        data={
            "category_code": CATEGORY,
            "description": "路灯不亮",
            "lat": str(lat),
            "lng": str(lng),
        },
        files=photo_files(),
    )


@op("POST", f"{V1}/uploads")
async def _upload(w: World, scope: str) -> list[Req]:
    return one(files=[("file", ("photo.jpg", PHOTO, "image/jpeg"))])


@op("GET", f"{V1}/reports")
async def _reports(w: World, scope: str) -> list[Req]:
    # Only the standing cases (made before done_at): the cases actions make later would
    # crowd the page and slow the list down, and say nothing more.
    window = {"created_to": w.base.done_at.isoformat(), "limit": 200}
    member = w.base.report[scope]
    reqs = [Req(query=window, member=member)]
    if scope == "out":
        place = w.places[scope]
        for name, value in (("community_id", place.community), ("region_id", place.county)):
            reqs.append(
                Req(query={**window, name: str(value)}, member=member, empty_unless_listed=True)
            )
    return reqs


@op("GET", f"{V1}/reports/nearby")
async def _nearby(w: World, scope: str) -> list[Req]:
    lat, lng = w.places[scope].point
    return [Req(query={"lat": lat, "lng": lng, "limit": 50}, member=w.base.report[scope])]


@op("GET", f"{V1}/reports/export")
async def _ledger(w: World, scope: str) -> list[Req]:
    # The standing cases only, as the case list is read; the place's community, and for the
    # other county its region too.
    window = {"created_to": w.base.done_at.isoformat()}
    place = w.places[scope]
    reqs = [Req(query={**window, "community_id": str(place.community)})]
    if scope == "out":
        reqs.append(Req(query={**window, "region_id": str(place.county), "format": "xlsx"}))
    return reqs


@op("GET", f"{V1}/reports/{{report_id}}")
async def _read_report(w: World, scope: str) -> list[Req]:
    return one(params={"report_id": w.base.report[scope]})


@op("GET", f"{V1}/reports/{{report_id}}/timeline")
async def _timeline(w: World, scope: str) -> list[Req]:
    return one(params={"report_id": w.base.report[scope]})


@op("GET", f"{V1}/reports/{{report_id}}/contact")
async def _integration_contact(w: World, scope: str) -> list[Req]:
    return one(params={"report_id": await w.integration_case(scope)})


@op("GET", f"{V1}/photos/{{photo_id}}")
async def _photo(w: World, scope: str) -> list[Req]:
    return one(params={"photo_id": w.base.photo[scope]})


async def _timeline_probe(w: World, req: Req) -> Any:
    _, events = await admin_get(w, f"{V1}/reports/{req.params['report_id']}/timeline")
    return [event["id"] for event in events]


@op("POST", f"{V1}/reports/{{report_id}}/comments", probe=_timeline_probe)
async def _comment(w: World, scope: str) -> list[Req]:
    # The standing case: a unit with a job on it reads it, and is refused a comment.
    return one(params={"report_id": w.base.report[scope]}, json={"body": "什么时候处理？"})


@op(
    "POST",
    f"{V1}/reports/{{report_id}}/comments",
    probe=_timeline_probe,
    variant="an internal note",
)
async def _internal_note(w: World, scope: str) -> list[Req]:
    return one(
        params={"report_id": w.base.report[scope]}, json={"body": "内部备注", "internal": True}
    )


async def _report_probe(w: World, req: Req) -> Any:
    status, body = await admin_get(w, f"{V1}/reports/{req.params['report_id']}")
    return status, {
        k: body.get(k)
        for k in ("status", "version", "community", "region", "rating", "supervision_level")
    }


def _action(
    action: str,
    status: str,
    body: Callable[[World, str], dict[str, Any]],
    variant: str | None = None,
) -> None:
    @op(
        "POST",
        f"{V1}/reports/{{report_id}}/{action}",
        fresh=True,
        probe=_report_probe,
        variant=variant,
    )
    async def _(w: World, scope: str) -> list[Req]:
        report = await w.report(scope, status)
        return one(params={"report_id": report["id"]}, json=body(w, scope))


_action("accept", "submitted", lambda w, s: {"priority": "high"})
_action("reject", "submitted", lambda w, s: {"reason": "不属于本社区事务"})
_action("mark-duplicate", "submitted", lambda w, s: {"duplicate_of": w.base.report[s]})
_action("transfer", "submitted", lambda w, s: {"community_id": str(NORTH_STREET), "reason": "属地"})
_action("start", "accepted", lambda w, s: {"assignee_id": w.staff_id[s]})
_action("reopen", "closed", lambda w, s: {"reason": "又坏了"})
_action("escalate", "accepted", lambda w, s: {"reason": "需要上级协调"})
_action("escalate", "accepted", lambda w, s: {"reason": "督办", "level": "yellow"}, "a yellow card")
_action("hold", "accepted", lambda w, s: {"reason": "冬季无法施工"})
_action("resume", "on_hold", lambda w, s: {})
_action("rate", "closed", lambda w, s: {"satisfaction": "satisfied"})


@op("POST", f"{V1}/reports/{{report_id}}/resolve", fresh=True, probe=_report_probe)
async def _resolve(w: World, scope: str) -> list[Req]:
    report = await w.report(scope, "in_progress")
    return one(params={"report_id": report["id"]}, data={"note": "已清理"}, files=photo_files())


@op("POST", f"{V1}/reports/{{report_id}}/verify", fresh=True, probe=_report_probe)
async def _verify(w: World, scope: str) -> list[Req]:
    report = await w.report(scope, "resolved")
    return one(params={"report_id": report["id"]}, data={"passed": "true", "note": "核查通过"})


@op("POST", f"{V1}/reports/{{report_id}}/whistle", probe=_report_probe)
async def _whistle(w: World, scope: str) -> list[Req]:
    # Whistling stays allowed once dispatched: each caller let through after the first meets
    # the same case (and is told the unit already has a job, 422).
    report = await w.report(scope, "accepted")
    unit = UNIT_1 if scope == "in" else UNIT_3
    return one(params={"report_id": report["id"]}, json={"unit_ids": [str(unit)]})


# --- jobs ---------------------------------------------------------------------------------


@op("GET", f"{V1}/jobs")
async def _jobs(w: World, scope: str) -> list[Req]:
    member = w.base.job[scope]
    reqs = [Req(query={"limit": 200}, member=member)]
    if scope == "out":
        # (Not by unit: unit3 also has jobs in 头道桥社区, which the banner's roles see.)
        query = {"limit": 200, "report_id": w.base.report[scope]}
        reqs.append(Req(query=query, member=member, empty_unless_listed=True))
    return reqs


@op("GET", f"{V1}/jobs/{{job_id}}")
async def _job(w: World, scope: str) -> list[Req]:
    return one(params={"job_id": w.base.job[scope]})


_job_probe = probe_at(f"{V1}/jobs/{{job_id}}", "status", "version", "extensions")


def _until() -> str:
    return (datetime.now(UTC) + timedelta(days=90)).isoformat()


def _job_action(
    action: str,
    status: str,
    *,
    json: Callable[[], Any] | None = None,
    form: dict[str, str] | None = None,
    photos: int = 0,
    extension: bool = False,
    fresh: bool = False,
) -> None:
    @op("POST", f"{V1}/jobs/{{job_id}}/{action}", fresh=fresh, probe=_job_probe)
    async def _(w: World, scope: str) -> list[Req]:
        job_id = await w.job(scope, status, extension=extension)
        return one(
            params={"job_id": job_id},
            json=json() if json else None,
            data=form,
            files=photo_files(photos) if photos else None,
        )


# A unit's actions: one unit may act, so one job will do.
_job_action("accept", "pending", json=lambda: {"note": "收到"})
_job_action("decline", "pending", json=lambda: {"reason_code": "wrong_area", "reason": "不在辖区"})
_job_action("progress", "accepted", form={"note": "正在处理"}, photos=1)
_job_action("complete", "accepted", form={"note": "已办结"}, photos=1)
_job_action("extension", "accepted", json=lambda: {"until": _until(), "reason": "材料未到"})
# Deciding keeps the job accepted: each later caller is told nothing is pending (409).
_job_action("extension/grant", "accepted", json=lambda: {}, extension=True)
_job_action("extension/refuse", "accepted", json=lambda: {}, extension=True)
_job_action("cancel", "pending", json=lambda: {"reason": "另行安排"}, fresh=True)


# --- points -------------------------------------------------------------------------------


@op("GET", f"{V1}/leaderboard")
async def _leaderboard(w: World, scope: str) -> list[Req]:
    return one(query={"scope": "community", "id": str(w.places[scope].community)})


# --- webhooks and events ----------------------------------------------------------------


def _unit_of(scope: str) -> str:
    return str(UNIT_1 if scope == "in" else UNIT_3)


async def _webhooks_of_unit(w: World, req: Req) -> Any:
    """The webhooks of the request's unit (the other column's unit is another)."""
    _, page = await admin_get(w, f"{V1}/webhooks?limit=200&unit_id={req.json['unit_id']}")
    return sorted(webhook["id"] for webhook in page["items"])


@op("POST", f"{V1}/webhooks", probe=_webhooks_of_unit)
async def _create_webhook(w: World, scope: str) -> list[Req]:
    return one(json={"url": WEBHOOK_URL, "events": ["job.*"], "unit_id": _unit_of(scope)})


@op("GET", f"{V1}/webhooks")
async def _webhooks(w: World, scope: str) -> list[Req]:
    member = w.base.webhook[scope]
    reqs = [Req(query={"limit": 200}, member=member)]
    if scope == "out":
        reqs.append(
            Req(
                query={"limit": 200, "unit_id": _unit_of(scope)},
                member=member,
                empty_unless_listed=True,
            )
        )
    return reqs


@op("GET", f"{V1}/webhooks/{{webhook_id}}")
async def _webhook(w: World, scope: str) -> list[Req]:
    return one(params={"webhook_id": w.base.webhook[scope]})


_webhook_probe = probe_at(f"{V1}/webhooks/{{webhook_id}}", "url", "events", "active", "unit_id")


@op("PATCH", f"{V1}/webhooks/{{webhook_id}}", probe=_webhook_probe)
async def _update_webhook(w: World, scope: str) -> list[Req]:
    webhook = await w.new_webhook(scope)
    return one(params={"webhook_id": webhook["id"]}, json={"url": OTHER_WEBHOOK_URL})


@op("DELETE", f"{V1}/webhooks/{{webhook_id}}", fresh=True, probe=_webhook_probe)
async def _delete_webhook(w: World, scope: str) -> list[Req]:
    return one(params={"webhook_id": (await w.new_webhook(scope))["id"]})


@op("GET", f"{V1}/webhooks/{{webhook_id}}/deliveries")
async def _deliveries(w: World, scope: str) -> list[Req]:
    return one(params={"webhook_id": w.base.webhook[scope]})


async def _delivery_probe(w: World, req: Req) -> Any:
    _, page = await admin_get(w, f"{V1}/webhooks/{req.params['webhook_id']}/deliveries")
    delivery = _item(page["items"], req.params["delivery_id"])
    return delivery and {k: delivery[k] for k in ("status", "attempts")}


@op("POST", f"{V1}/webhooks/{{webhook_id}}/deliveries/{{delivery_id}}/retry", probe=_delivery_probe)
async def _retry(w: World, scope: str) -> list[Req]:
    webhook = await w.new_webhook(scope)
    delivery = await w.parked_delivery(webhook["id"], w.base.report[scope])
    return one(params={"webhook_id": webhook["id"], "delivery_id": delivery})


@op("GET", f"{V1}/events/stream")
async def _stream(w: World, scope: str) -> list[Req]:
    return one(stream=True)


@op("GET", f"{V1}/events/recent")
async def _recent_events(w: World, scope: str) -> list[Req]:
    return one(query={"limit": 5})


async def _owners_delivery_probe(w: World, req: Req) -> Any:
    return await _delivery_probe(w, Req(params={**req.params, "webhook_id": req.params["owner"]}))


@op(
    "POST",
    f"{V1}/webhooks/{{webhook_id}}/deliveries/{{delivery_id}}/retry",
    probe=_owners_delivery_probe,
    variant="another webhook's delivery",
)
async def _retry_across(w: World, scope: str) -> list[Req]:
    owner = await w.new_webhook("out")
    delivery = await w.parked_delivery(owner["id"], w.base.report["out"])
    return one(
        params={"webhook_id": w.base.webhook["in"], "delivery_id": delivery, "owner": owner["id"]}
    )


# --- statistics -------------------------------------------------------------------------


def _stats_place(w: World, scope: str, kind: str) -> dict[str, str]:
    """The filter naming the column's place: its township, its county, its community, or the
    unit its cases go to (``out``: a unit of the other county, which no case reaches)."""
    place = w.places[scope]
    if kind == "township":
        return {"region_id": str(place.township)}
    if kind == "county":
        return {"region_id": str(place.county)}
    if kind == "community":
        return {"community_id": str(place.community)}
    return {"unit_id": w.base.unit["out"] if scope == "out" else str(place.unit)}


def _stats(
    path: str, kind: str, extra: Callable[[World, str], dict[str, Any]] | None = None
) -> None:
    @op("GET", f"{V1}/stats/{path}")
    async def _(w: World, scope: str) -> list[Req]:
        query = _stats_place(w, scope, kind)
        return one(query={**query, **(extra(w, scope) if extra else {})})


def _around(w: World, scope: str) -> dict[str, Any]:
    """A box of some 17 by 22 km around the place's point, in cells of a kilometre."""
    lat, lng = w.places[scope].point
    bbox = f"{lng - 0.1},{lat - 0.1},{lng + 0.1},{lat + 0.1}"
    return {"bbox": bbox, "cell_m": 1000}


_stats("summary", "township")
_stats("units", "unit")
_stats("units/export", "unit", lambda w, s: {"format": "xlsx"})
_stats("communities", "community")
_stats("categories", "county")
_stats("couriers", "community")
_stats("timeseries", "unit", lambda w, s: {"interval": "week", "metric": "closed"})
_stats("heatmap", "township", _around)
_stats("lights", "township")


# --- the points store and micro-wishes: their own module, registered here -------------------

from tests.authorization import operations_store  # noqa: E402, F401
