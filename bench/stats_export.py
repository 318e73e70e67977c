"""The ledger export of the statistics benchmark (bench/stats.py): 100,000 cases downloaded as
CSV and as .xlsx through the API, the resident memory of the API process meanwhile, and the same
rows copied out by hand-written SQL."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
from common import log, process_tree, status_kb
from reads_hand_sql import AUTH_SQL, caller_from_auth, numbered
from reads_plan import Account
from reads_timing import summary
from stats_hand_sql import ledger_sql
from stats_plan import export_window, periods, query

EXPORT_ROWS = 100_000
RSS_BUDGET_MB = 300.0
RATIO_BUDGET = 3.0


def reset_peaks(root: int) -> None:
    """Starts the processes' peak resident memory (VmHWM) afresh (``clear_refs`` 5)."""
    for pid in process_tree(root):
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_mb(root: int) -> float:
    return max((status_kb(pid, "VmHWM") or 0) for pid in process_tree(root)) / 1024


def xlsx_rows(content: bytes) -> int:
    """The rows of the first sheet of an .xlsx, the header aside."""
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        name = next(n for n in book.namelist() if n.startswith("xl/worksheets/"))
        return book.read(name).count(b"</row>") - 1


async def download(
    client: httpx.AsyncClient, account: Account, path: str, keep: bool
) -> tuple[float, int, bytes]:
    """Seconds to the last byte, bytes, and the body when ``keep``."""
    started = time.perf_counter()
    size, kept = 0, io.BytesIO()
    async with client.stream("GET", path, headers=account.headers) as response:
        if response.status_code != 200:
            await response.aread()
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if keep:
                kept.write(chunk)
    return time.perf_counter() - started, size, kept.getvalue()


async def copy_out(
    db: Any, account: Account, sql: tuple[str, list[str]], args: dict[str, Any]
) -> tuple[float, int]:
    """The hand SQL: the auth lookup, then the ledger's rows copied out as CSV."""
    size = 0

    async def sink(chunk: bytes) -> None:
        nonlocal size
        size += len(chunk)

    started = time.perf_counter()
    rows = await db.fetch(AUTH_SQL, account.user_id, account.session_id)
    values = {**args, **caller_from_auth(rows, account.user_id).values()}
    statement, names = sql
    await db.copy_from_query(
        statement, *(values[n] for n in names), output=sink, format="csv", header=True
    )
    return time.perf_counter() - started, size


async def measure_exports(
    client: httpx.AsyncClient,
    db: Any,
    account: Account,
    now: dt.datetime,
    args: argparse.Namespace,
    pid: int,
) -> dict[str, Any]:
    """The ledger of the ``args.export_rows`` cases filed last before this month, ``args.
    export_runs`` times in each format, and the unit sheet's download if there is one."""
    runs, expected = args.export_runs, args.export_rows
    end = periods(now)["month"][1]
    start = await export_window(db, end, expected)
    sql = numbered(ledger_sql(account.caller))
    period = {"from": start, "to": end}
    hand = [await copy_out(db, account, sql, period) for _ in range(runs)]
    hand_s = summary([h[0] for h in hand])
    out: dict[str, Any] = {}
    for fmt in ("csv", "xlsx"):
        path = "/api/v1/reports/export?" + query(format=fmt, created_from=start, created_to=end)
        log(f"  export {fmt}: {runs} downloads of {expected:,} cases")
        took, peaks, size, rows = [], [], 0, 0
        for run in range(runs):
            reset_peaks(pid)
            try:
                seconds, size, body = await download(client, account, path, keep=run == 0)
            except RuntimeError as error:  # not served (yet)
                out[f"ledger_{fmt}"] = {"missing": str(error)[:300]}
                break
            peaks.append(peak_mb(pid))
            took.append(seconds)
            if run == 0:
                rows = xlsx_rows(body) if fmt == "xlsx" else body.count(b"\n") - 1
        if not took:
            continue
        api_s = summary(took)
        ratio = api_s["p50"] / hand_s["p50"]
        peak = round(max(peaks), 1)
        out[f"ledger_{fmt}"] = {
            "path": path,
            "rows": rows,
            "mb": round(size / 1e6, 1),
            "api_s": api_s,
            "api_rows_per_s": round(rows / api_s["p50"]),
            "hand_sql_s": hand_s,
            "hand_sql_mb": round(hand[0][1] / 1e6, 1),
            "hand_rows_per_s": round(expected / hand_s["p50"]),
            "ratio_p50": round(ratio, 2),
            "peak_rss_mb": peak,
            "budget": {"rss_mb": RSS_BUDGET_MB, "ratio_p50": RATIO_BUDGET},
            "met": peak < RSS_BUDGET_MB and ratio <= RATIO_BUDGET and rows == expected,
        }
    out["unit_sheet_export"] = await unit_sheet_export(client, account, now, runs)
    return out


async def unit_sheet_export(
    client: httpx.AsyncClient, account: Account, now: dt.datetime, runs: int
) -> dict[str, Any]:
    """The unit sheet of the last month as a file (no budget: timed for the record)."""
    month = periods(now)["month"]
    path = "/api/v1/stats/units/export?" + query(**{"from": month[0], "to": month[1]})
    response = await client.get(path, headers=account.headers)
    if response.status_code != 200:
        return {"missing": f"{path.split('?')[0]}: {response.status_code}"}
    seconds = [(await download(client, account, path, keep=False))[0] for _ in range(runs)]
    return {"path": path, "api_s": summary(seconds)}
