"""Open311 at a million reports: GET requests with 1,000 results, in JSON and in XML, through
the HTTP API, against the same 1,000 rows read by hand-written SQL, on PostgreSQL.

Budget (issue 14): p95 < 300 ms for each format, at 1,000,000 reports, one API process,
requests one at a time. "Hand SQL" is one statement returning the page's rows with what a
request shows beside the case (category, community, region, lead unit, first photo), read with
asyncpg: the floor under any Open311 server over this schema, which still has to sign a link per
row and write the document.

What it does: the database of bench/reads.py (``ssp_bench_reads``, reused with --keep as
there); starts ``python -m app serve`` (one process, the embedded worker off); makes an
integration key for the banner as the administrator; then for each read, after a warm-up,
times R requests through a kept-alive httpx client and R runs of the hand SQL, checks that
both list the same 1,000 case numbers in the same order, and writes ``bench/results/open311.json``.

Run: .venv/bin/python bench/open311.py [--keep] [--requests R] [--reports N] [--output PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import asyncpg_dsn, log, machine, server_log, start_server
from reads import DEFAULT_DATABASE_URL, bench_database
from reads_plan import sign_in
from reads_timing import summary, timed

RESULTS = Path(__file__).resolve().parent / "results" / "open311.json"
BUDGET_P95_MS = 300.0
WARMUP = 5
PAGE = 1000

# The page the API reads: the last 90 days of the banner, newest first, 1,000 rows.
HAND_SQL = """
SELECT r.number, r.status, r.category_code, c.name AS service_name, r.description, r.address,
       r.lat, r.lng, r.created_at, r.updated_at, r.resolve_due_at,
       cm.name AS community_name, rg.name AS region_name,
       (SELECT u.name FROM jobs j JOIN units u ON u.id = j.unit_id
         WHERE j.report_id = r.id AND j.is_lead AND j.status <> 'declined'
         ORDER BY j.created_at DESC, j.id DESC LIMIT 1) AS lead_unit,
       (SELECT p.id FROM photos p WHERE p.report_id = r.id AND p.kind = 'report'
         ORDER BY p.position, p.id LIMIT 1) AS first_photo_id
  FROM reports r
  JOIN categories c ON c.code = r.category_code
  JOIN regions rg ON rg.id = r.region_id
  LEFT JOIN communities cm ON cm.id = r.community_id
 WHERE rg.path LIKE $1 || '%' AND r.created_at >= $2 AND r.created_at < $3
 ORDER BY r.created_at DESC, r.id DESC
 LIMIT $4
"""


def numbers(fmt: str, body: bytes) -> list[str]:
    if fmt == "json":
        return [item["service_request_id"] for item in json.loads(body)]
    root = ElementTree.fromstring(body)
    return [request.findtext("service_request_id") or "" for request in root.iter("request")]


async def integration_key(client: httpx.AsyncClient, db: Any) -> tuple[str, str]:
    """A key for the banner, made by the administrator, and the banner's path."""
    admin = await sign_in(client, db, "admin")
    banner = await db.fetchrow("SELECT id, path FROM regions WHERE name = '杭锦后旗'")
    made = await client.post(
        "/api/v1/api-keys",
        json={"name": "Open311 bench", "region_id": str(banner["id"])},
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    made.raise_for_status()
    return made.json()["key"], banner["path"]


async def measure(base_url: str, dsn: str, requests: int) -> dict[str, Any]:
    db = await asyncpg.connect(dsn, server_settings={"jit": "off"})
    out: dict[str, Any] = {}
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
            key, path = await integration_key(client, db)
            now = dt.datetime.now(dt.UTC)
            window = (path, now - dt.timedelta(days=90), now, PAGE)
            hand = [row["number"] for row in await db.fetch(HAND_SQL, *window)]
            sql_ms = await timed(lambda: db.fetch(HAND_SQL, *window), requests, WARMUP)
            out["hand_sql_ms"] = summary(sql_ms)
            for fmt, extra in (("json", ""), ("xml", ""), ("json", "&extensions=true")):
                name = f"requests_{fmt}{'_extensions' if extra else ''}"
                url = f"/open311/v2/requests.{fmt}?api_key={key}&page_size={PAGE}{extra}"

                async def read(url: str = url) -> bytes:
                    response = await client.get(url)
                    response.raise_for_status()
                    return response.content

                body = await read()
                log(f"  {name}: {requests} requests + {WARMUP} warm-up")
                api_ms = summary(await timed(read, requests, WARMUP))
                listed = numbers(fmt, body)
                out[name] = {
                    "path": url.replace(key, "<key>"),
                    "api_ms": api_ms,
                    "bytes": len(body),
                    "rows": len(listed),
                    "same_rows_as_hand_sql": listed == hand,
                    "ratio_p50": round(api_ms["p50"] / out["hand_sql_ms"]["p50"], 2),
                    "budget_p95_ms": None if extra else BUDGET_P95_MS,
                    "met": (extra != "" or api_ms["p95"] < BUDGET_P95_MS) and listed == hand,
                }
    finally:
        await db.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the database")
    parser.add_argument("--requests", type=int, default=50, help="timed requests each (50)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    url = make_url(args.database_url)
    dsn = asyncpg_dsn(url, url.database or "")
    with bench_database(args) as (env, loaded):
        server = start_server(env, 1, Path(env["BENCH_WORKDIR"]))
        try:
            results = asyncio.run(measure(server.base_url, dsn, args.requests))
        except BaseException:
            log(server_log(server))
            raise
        finally:
            server.stop()
    figures = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "reports": args.reports,
        "machine": machine(),
        "data": loaded,
        "reads": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n")
    hand = results["hand_sql_ms"]
    print(f"  hand SQL (1,000 rows): {hand['p50']} / {hand['p95']} ms")
    for name, read in results.items():
        if name == "hand_sql_ms":
            continue
        a = read["api_ms"]
        print(
            f"  {name}: {a['p50']} / {a['p95']} ms p50/p95, {read['bytes']:,} bytes, "
            f"{read['rows']} rows, {read['ratio_p50']}× hand SQL, same rows: "
            f"{read['same_rows_as_hand_sql']} — {'met' if read['met'] else 'NOT met'}"
        )
    print(f"  written to {args.output}")


if __name__ == "__main__":
    main()
