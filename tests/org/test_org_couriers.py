"""Courier companies and their branches."""

from __future__ import annotations

import httpx

from tests.conftest import LoginFn
from tests.org.conftest import DemoIds, Headers


async def test_companies_are_listed_by_name(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    headers = await login("courier1")
    response = await client.get("/api/v1/courier-companies", headers=headers)
    assert response.status_code == 200
    companies = response.json()["items"]
    assert len(companies) == 8
    assert {"name": "顺丰速运", "short_name": "顺丰", "id": str(demo.sf_express)} in companies
    short = await client.get("/api/v1/courier-companies", params={"q": "中通"}, headers=headers)
    assert [c["name"] for c in short.json()["items"]] == ["中通快递"]
    one = await client.get(f"/api/v1/courier-companies/{demo.sf_express}", headers=headers)
    assert one.json()["name"] == "顺丰速运"


async def test_admin_manages_companies_with_unique_names(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    created = await client.post(
        "/api/v1/courier-companies", json={"name": "德邦快递", "short_name": "德邦"}, headers=admin
    )
    assert created.status_code == 201
    company_id = created.json()["id"]
    duplicate = await client.post(
        "/api/v1/courier-companies", json={"name": "顺丰速运"}, headers=admin
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "name_taken"
    renamed = await client.patch(
        f"/api/v1/courier-companies/{company_id}", json={"short_name": "德邦物流"}, headers=admin
    )
    assert renamed.json() == {"id": company_id, "name": "德邦快递", "short_name": "德邦物流"}
    with_branches = await client.delete(
        f"/api/v1/courier-companies/{demo.sf_express}", headers=admin
    )
    assert with_branches.status_code == 409
    assert with_branches.json()["code"] == "in_use"
    deleted = await client.delete(f"/api/v1/courier-companies/{company_id}", headers=admin)
    assert deleted.status_code == 204
    gone = await client.get(f"/api/v1/courier-companies/{company_id}", headers=admin)
    assert gone.status_code == 404


async def test_branches_filtered_by_company_and_region(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    headers = await login("staff1")
    sf = await client.get(
        "/api/v1/courier-branches", params={"company_id": str(demo.sf_express)}, headers=headers
    )
    assert sf.status_code == 200
    [branch] = sf.json()["items"]
    assert branch["company"] == {"id": str(demo.sf_express), "name": "顺丰速运"}
    assert branch["region"] == {"id": str(demo.seat), "name": "陕坝镇"}
    toudaoqiao = await client.get(
        "/api/v1/courier-branches",
        params={"region_id": str(demo.toudaoqiao_town)},
        headers=headers,
    )
    assert {b["name"] for b in toudaoqiao.json()["items"]} == {
        "头道桥邮政所",
        "申通快递头道桥服务点",
    }
    banner = await client.get(
        "/api/v1/courier-branches",
        params={"region_id": str(demo.banner), "limit": 200},
        headers=headers,
    )
    assert len(banner.json()["items"]) == 11
    unknown = await client.get(
        "/api/v1/courier-branches",
        params={"company_id": "00000000-0000-0000-0000-000000000000"},
        headers=headers,
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["loc"] == ["query", "company_id"]


async def test_admin_manages_branches_unique_within_a_company(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    created = await client.post(
        "/api/v1/courier-branches",
        json={
            "company_id": str(demo.sf_express),
            "name": "顺丰速运头道桥点",
            "region_id": str(demo.toudaoqiao_town),
            "address": "头道桥镇人民路1号",
        },
        headers=admin,
    )
    assert created.status_code == 201
    assert created.json()["region"]["name"] == "头道桥镇"
    branch_id = created.json()["id"]
    same_company = await client.post(
        "/api/v1/courier-branches",
        json={"company_id": str(demo.sf_express), "name": "顺丰速运头道桥点"},
        headers=admin,
    )
    assert same_company.status_code == 409
    unknown_company = await client.post(
        "/api/v1/courier-branches",
        json={"company_id": "00000000-0000-0000-0000-000000000000", "name": "某网点"},
        headers=admin,
    )
    assert unknown_company.status_code == 422
    assert unknown_company.json()["errors"][0]["loc"] == ["body", "company_id"]
    unknown_region = await client.post(
        "/api/v1/courier-branches",
        json={
            "company_id": str(demo.sf_express),
            "name": "某网点",
            "region_id": "00000000-0000-0000-0000-000000000000",
        },
        headers=admin,
    )
    assert unknown_region.status_code == 422
    assert unknown_region.json()["errors"][0]["loc"] == ["body", "region_id"]

    moved = await client.patch(
        f"/api/v1/courier-branches/{branch_id}", json={"region_id": None}, headers=admin
    )
    assert moved.json()["region"] is None
    assert (
        await client.delete(f"/api/v1/courier-branches/{branch_id}", headers=admin)
    ).status_code == 204
    staffed = await client.delete(f"/api/v1/courier-branches/{demo.sf_branch}", headers=admin)
    assert staffed.status_code == 409
    assert staffed.json()["code"] == "in_use"


async def test_the_same_branch_name_in_another_company_is_fine(
    client: httpx.AsyncClient, admin: Headers, demo: DemoIds
) -> None:
    company = await client.post(
        "/api/v1/courier-companies", json={"name": "德邦快递"}, headers=admin
    )
    response = await client.post(
        "/api/v1/courier-branches",
        json={"company_id": company.json()["id"], "name": "顺丰速运杭锦后旗营业部"},
        headers=admin,
    )
    assert response.status_code == 201


async def test_non_admins_cannot_write_couriers_data(
    client: httpx.AsyncClient, login: LoginFn, demo: DemoIds
) -> None:
    for username in ("supervisor", "courier1"):
        headers = await login(username)
        company = await client.post(
            "/api/v1/courier-companies", json={"name": "越权快递"}, headers=headers
        )
        assert company.status_code == 403
        branch = await client.patch(
            f"/api/v1/courier-branches/{demo.sf_branch}", json={"name": "x"}, headers=headers
        )
        assert branch.status_code == 403
