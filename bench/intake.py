"""Report intake end to end: the real server on PostgreSQL, against Pillow alone on the same cores.

Budgets (the README's Performance table): submitting a report with one 2 MB phone photo, the
server's throughput is at least 70% of what Pillow alone achieves doing the same photo work the
fastest way on the same cores; one API worker process stays under 300 MB resident under load.

What it does:
1. drops and recreates a PostgreSQL database, migrates it and seeds the demo data
   (``python -m app migrate`` / ``seed-demo``, SSP_ENV=demo, a temporary photo folder);
2. starts ``python -m app serve`` (uvicorn) on a free loopback port and waits for /readyz;
3. signs in once as the demo courier ``courier1`` (login is throttled: the token is reused) and
   has N concurrent clients submit M reports with the 4608×1976 phone JPEG at a point inside
   community 1, each with its own Idempotency-Key, after a short warm-up that is not counted;
4. samples the resident memory (VmRSS) of the server's processes during the run, and reads
   their peak (VmHWM) and CPU time at the end (in all and on the event loop), with the CPU time
   PostgreSQL and the rest of the machine used meanwhile: other work on the machine skews the
   figures, and "other CPU" says how much there was;
5. measures Pillow alone doing the same photo work the fastest way (``pillow_only`` of
   ``bench/photo_pillow.py``: draft-mode decode, display 2048 + thumbnail 320 JPEG encodes) in a
   pool of os.cpu_count() threads, in rounds run before and after the server run, never while
   the server runs (the load generator shares the cores); the median round counts. For the
   breakdown, also the CPU time per photo on one thread of Pillow alone and of the app's
   ``process_photo``;
6. prints the figures, writes them to ``bench/results/intake.json``, stops the server and drops
   the database (also when something fails).

Run: .venv/bin/python bench/intake.py [--clients N] [--requests M] [--database-url URL]
     [--workers K] [--warmup W] [--keep-alive] [--output PATH]
     [--statement-cache on|off] [--pgbouncer-url URL]
--statement-cache off runs the server with asyncpg's statement caches off
(SSP_DATABASE_STATEMENT_CACHE=false); --pgbouncer-url has it reach the same database through a
PgBouncer in transaction mode started beforehand (SSP_DATABASE_POOLER=pgbouncer-transaction, the
caches off unless --statement-cache on), migrations and seeding still straight to PostgreSQL.
Each report goes on a new connection unless --keep-alive: with kept-alive connections, uvicorn's
workers do not share the load (a connection stays with the worker that accepted it). A second run
on the same database refuses to start; a run on a machine busy with other work is flagged.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import fcntl
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from PIL import Image, features
from sqlalchemy.engine import URL, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

import two_step
from common import (
    ROOT,
    RssSampler,
    Server,
    drop_database,
    log,
    machine,
    percentile,
    process_tree,
    recreate_database,
    run_cli,
    server_log,
    start_server,
    status_kb,
)
from photo_pillow import ours, pillow_only  # the same work as bench/photo_pillow.py

PHOTO = ROOT / "tests" / "fixtures" / "photos" / "HMD_Nokia_8.3_5G.jpg"
RESULTS = Path(__file__).resolve().parent / "results" / "intake.json"
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/ssp_bench_intake"
BUDGET_RATIO = 0.70
BUDGET_WORKER_RSS_MB = 300.0
USERNAME, PASSWORD = "courier1", "suishoupai-demo"
# Inside community 1 (团结社区) of the demo data.
LAT, LNG = 40.8436, 107.1499
CATEGORY = "chaotic_parking"
PILLOW_ROUNDS = 6  # half before the server run, half after
PILLOW_PHOTOS_PER_ROUND = 24
# Above this share of the CPUs taken by other processes, the run is flagged as skewed.
QUIET_OTHER_CPU_SHARE = 0.05
REQUEST_TIMEOUT_SECONDS = 300.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- the machine's CPU time ----------------------------------------------------------------


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used since boot (not idle, not I/O wait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = values[3], values[4]
    # guest time is already counted in user time
    return (sum(values[:8]) - idle - iowait) / CLK_TCK


def _stat_cpu_seconds(path: Path) -> float:
    try:
        stat = path.read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (all its threads, live or ended)."""
    return _stat_cpu_seconds(Path(f"/proc/{pid}/stat"))


def cpu_by_thread_kind(pids: list[int]) -> dict[str, float]:
    """CPU seconds of the server's processes: in all, and of the event loop (each process's main
    thread; the rest is the photo pool and the threads of to_thread and of FastAPI's sync
    dependencies, which /proc cannot tell apart: Python does not name OS threads)."""
    seconds = {"total": 0.0, "event_loop": 0.0, "other_threads": 0.0}
    for pid in pids:
        total = cpu_seconds(pid)
        main_thread = _stat_cpu_seconds(Path(f"/proc/{pid}/task/{pid}/stat"))
        seconds["total"] += total
        seconds["event_loop"] += main_thread
        seconds["other_threads"] += total - main_thread
    return seconds


def postgres_cpu_seconds() -> float:
    """CPU time of all PostgreSQL server processes on this machine."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    total += _stat_cpu_seconds(entry / "stat")
    return total


# --- the load -------------------------------------------------------------------------------


def multipart_body(photo: bytes) -> tuple[bytes, str]:
    """The request body, built once and sent as it is by every request."""
    boundary = uuid.uuid4().hex
    fields = {
        "category_code": CATEGORY,
        "description": "电动车乱停放，堵住了消防通道 (bench)",
        "lat": str(LAT),
        "lng": str(LNG),
    }
    parts = io.BytesIO()
    for name, value in fields.items():
        parts.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        )
        parts.write(value.encode() + b"\r\n")
    parts.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
        f'filename="{PHOTO.name}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
    )
    parts.write(photo + b"\r\n")
    parts.write(f"--{boundary}--\r\n".encode())
    return parts.getvalue(), f"multipart/form-data; boundary={boundary}"


@dataclass
class LoadResult:
    wall_seconds: float
    latencies_ms: list[float]
    statuses: Counter[str]
    failures: list[str]
    client_cpu_seconds: float


async def login(base_url: str) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        response = await client.post(
            "/api/v1/auth/token", data={"username": USERNAME, "password": PASSWORD}
        )
        if response.status_code != 200:
            raise RuntimeError(f"login failed: {response.status_code} {response.text}")
        token: str = response.json()["access_token"]
        return token


class LoadClient:
    """A lean HTTP/1.1 client for the load: it sends the prepared request bytes and reads the
    answer, and little else. It shares the cores with the server, so every millisecond of CPU it
    spends per report is taken from the server's throughput (a general-purpose client such as
    httpx spent ~9 ms per 2 MB report, this one ~1 ms)."""

    def __init__(self, base_url: str, token: str, keep_alive: bool) -> None:
        url = httpx.URL(base_url)
        self.host, self.port = url.host, url.port or 80
        self.token = token
        self.keep_alive = keep_alive

    def request_bytes(
        self,
        body: bytes,
        content_type: str,
        idempotency_key: str,
        path: str = "/api/v1/reports",
    ) -> list[bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\n"
            f"Host: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {self.token}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"Idempotency-Key: {idempotency_key}\r\n"
            f"Connection: {'keep-alive' if self.keep_alive else 'close'}\r\n\r\n"
        )
        return [head.encode(), body]

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self.host, self.port, limit=1 << 20)

    @staticmethod
    async def exchange(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: list[bytes]
    ) -> tuple[int, bytes, bool]:
        """(status, body, whether the server keeps the connection open)."""
        writer.writelines(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:] if line)
        }
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        else:
            body = await reader.read()
        return status, body, headers.get("connection", "").lower() != "close"


async def submit(
    client: LoadClient, body: bytes, content_type: str, run: str, count: int, clients: int
) -> LoadResult:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    failures: list[str] = []
    next_index = iter(range(count))

    async def one_client() -> None:
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        for index in next_index:
            request = client.request_bytes(body, content_type, f"{run}-{index}")
            started = time.perf_counter()
            try:
                connection = connection or await client.connect()
                status, answer, open_ = await asyncio.wait_for(
                    client.exchange(*connection, request), REQUEST_TIMEOUT_SECONDS
                )
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as error:
                statuses[type(error).__name__] += 1
                failures.append(f"{type(error).__name__}: {error}")
                await _closed(connection)
                connection = None
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[str(status)] += 1
            if status != 201:
                failures.append(f"{status}: {answer[:300].decode(errors='replace')}")
            if not (client.keep_alive and open_):
                await _closed(connection)
                connection = None
        await _closed(connection)

    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    wall = time.perf_counter() - started
    return LoadResult(wall, latencies, statuses, failures, time.process_time() - cpu)


async def _closed(connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
    if connection is not None:
        writer = connection[1]
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def run_load(
    server: Server, clients: int, requests: int, warmup: int, keep_alive: bool = False
) -> tuple[LoadResult, LoadResult, dict[str, Any]]:
    body, content_type = multipart_body(PHOTO.read_bytes())
    idle_kb = max(status_kb(pid, "VmRSS") or 0 for pid in server.worker_pids())
    token = await login(server.base_url)
    # By default each report goes on a new connection, as phones send them. uvicorn's workers
    # share the listening socket and a kept-alive connection stays with the worker that accepted
    # it: the clients' few connections, opened at once, often all land on one worker.
    client = LoadClient(server.base_url, token, keep_alive)
    run = uuid.uuid4().hex[:12]
    warm = await submit(client, body, content_type, f"{run}-warm", warmup, clients)
    workers = server.worker_pids()
    tree = process_tree(server.pid)
    cpu_before = cpu_by_thread_kind(tree)
    process_cpu_before = {pid: cpu_seconds(pid) for pid in workers}
    busy_before, postgres_before = machine_busy_seconds(), postgres_cpu_seconds()
    with RssSampler(server.pid) as sampler:
        measured = await submit(client, body, content_type, run, requests, clients)
    busy = machine_busy_seconds() - busy_before
    postgres = postgres_cpu_seconds() - postgres_before
    cpu_after = cpu_by_thread_kind(tree)
    process_cpu = {pid: cpu_seconds(pid) - process_cpu_before[pid] for pid in workers}
    cpu = {kind: used - cpu_before[kind] for kind, used in cpu_after.items()}
    hwm = {pid: status_kb(pid, "VmHWM") or 0 for pid in process_tree(server.pid)}
    server_cpu = cpu["total"]
    memory = {
        "worker_pids": workers,
        "idle_worker_rss_mb": round(idle_kb / 1024, 1),
        "max_worker_rss_mb": round(max(sampler.max_kb.get(p, 0) for p in workers) / 1024, 1),
        "max_worker_peak_rss_mb": round(max(hwm.get(p, 0) for p in workers) / 1024, 1),
        "max_total_rss_mb": round(sampler.max_total_kb / 1024, 1),
        "rss_samples": sampler.samples,
        "server_cpu_seconds": round(server_cpu, 2),
        # How the load was split between uvicorn's workers.
        "worker_cpu_seconds": [round(process_cpu[pid], 2) for pid in workers],
        "server_cpu_ms_per_report_by_thread": {
            kind: round(cpu[kind] / requests * 1000, 1) for kind in ("event_loop", "other_threads")
        },
        "postgres_cpu_ms_per_report": round(postgres / requests * 1000, 1),
        # CPU the rest of the machine used meanwhile: other work skews the figures.
        "other_cpu_seconds": round(busy - server_cpu - measured.client_cpu_seconds - postgres, 2),
        "request_bytes": len(body),
    }
    return warm, measured, memory


# --- Pillow alone ---------------------------------------------------------------------------


@dataclass
class PillowRound:
    photos_per_s: float
    cpu_ms_per_photo: float
    other_cpu_seconds: float  # what the rest of the machine used meanwhile


def one_thread_cpu_ms(data: bytes, count: int = 8) -> dict[str, float]:
    """CPU time per photo on one thread of Pillow alone and of the app's ``process_photo``,
    interleaved, for the breakdown of the server's CPU per report."""
    works = {"pillow_only": pillow_only, "process_photo": ours}
    seconds = dict.fromkeys(works, 0.0)
    for work in works.values():
        work(data)
    for _ in range(count):
        for name, work in works.items():
            cpu = time.thread_time()
            work(data)
            seconds[name] += time.thread_time() - cpu
    return {name: round(total / count * 1000, 1) for name, total in seconds.items()}


def pillow_rounds(data: bytes, threads: int, rounds: int) -> list[PillowRound]:
    """Rounds of ``PILLOW_PHOTOS_PER_ROUND`` photos in a pool of ``threads`` threads."""
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(pillow_only, [data] * threads))  # first-call costs
        results = []
        for _ in range(rounds):
            busy, cpu = machine_busy_seconds(), time.process_time()
            started = time.perf_counter()
            list(pool.map(pillow_only, [data] * PILLOW_PHOTOS_PER_ROUND))
            wall = time.perf_counter() - started
            cpu, busy = time.process_time() - cpu, machine_busy_seconds() - busy
            results.append(
                PillowRound(
                    PILLOW_PHOTOS_PER_ROUND / wall,
                    cpu / PILLOW_PHOTOS_PER_ROUND * 1000,
                    busy - cpu,
                )
            )
    return results


# --- the run --------------------------------------------------------------------------------


def pillow_machine() -> dict[str, Any]:
    return {
        **machine(),
        "pillow": features.version("pil"),
        "libjpeg_turbo": features.version("libjpeg_turbo"),
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument("--requests", type=int, default=200, help="measured requests (200)")
    parser.add_argument(
        "--warmup", type=int, default=None, help="requests before measuring (2 per client)"
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (1)")
    parser.add_argument(
        "--keep-alive",
        action="store_true",
        help="reuse each client's connection (default: a new connection per report)",
    )
    parser.add_argument(
        "--two-step-reports",
        type=int,
        default=10,
        help="reports of 9 photos per flow and round in the two-step comparison (10; 0 skips)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument(
        "--statement-cache",
        choices=("on", "off"),
        default=None,
        help="asyncpg's statement caches in the server (default: the server's own choice)",
    )
    parser.add_argument(
        "--pgbouncer-url",
        default=None,
        help="the server reaches --database-url's database through this PgBouncer URL",
    )
    args = parser.parse_args()
    if args.clients < 1 or args.requests < 1 or args.workers < 1:
        parser.error("--clients, --requests and --workers must be at least 1")
    if args.warmup is None:
        args.warmup = 2 * args.clients
    return args


@contextlib.contextmanager
def exclusive(url: URL) -> Iterator[None]:
    """One run at a time per database: a second run would drop the database under the first."""
    path = (
        Path(tempfile.gettempdir()) / f"ssp-bench-intake-{url.host}-{url.port}-{url.database}.lock"
    )
    with path.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(
                f"another bench/intake.py run is using the database {url.database}; wait for it "
                "to finish or pass another --database-url"
            ) from None
        yield


@contextlib.contextmanager
def bench_environment(
    database_url: str, connection: dict[str, str] | None = None
) -> Iterator[dict[str, str]]:
    """A fresh, migrated and seeded database and a temporary photo folder; both removed after."""
    url = make_url(database_url)
    if not url.get_backend_name() == "postgresql" or not url.database:
        raise SystemExit("--database-url must name a PostgreSQL database")
    workdir = Path(tempfile.mkdtemp(prefix="ssp-bench-intake-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SSP_")},
        "SSP_ENV": "demo",
        "SSP_DATABASE_URL": database_url,
        "SSP_PHOTO_DIR": str(workdir / "photos"),
        "SSP_LOG_LEVEL": "WARNING",
        # One account stands for every client: its uploads waiting at once (8 clients × 9) are
        # many people's, each under the cap.
        "SSP_MAX_PENDING_UPLOADS": "1000",
    }
    try:
        log(f"creating database {url.database}")
        recreate_database(url)
        run_cli(env, "migrate")
        run_cli(env, "seed-demo")
        env.update(connection or {})
        env["BENCH_WORKDIR"] = str(workdir)
        yield env
    finally:
        with contextlib.suppress(Exception):
            drop_database(url)
        shutil.rmtree(workdir, ignore_errors=True)


def server_connection(args: argparse.Namespace) -> dict[str, str]:
    """The server's connection settings besides the database URL's."""
    settings: dict[str, str] = {}
    if args.pgbouncer_url:
        pooled = make_url(args.pgbouncer_url).set(database=make_url(args.database_url).database)
        settings |= {
            "SSP_DATABASE_URL": pooled.render_as_string(hide_password=False),
            "SSP_DATABASE_POOLER": "pgbouncer-transaction",
            "SSP_DATABASE_DIRECT_URL": args.database_url,
        }
    if args.statement_cache:
        settings["SSP_DATABASE_STATEMENT_CACHE"] = str(args.statement_cache == "on").lower()
    return settings


def main() -> None:
    args = parse_args()
    with exclusive(make_url(args.database_url)):
        run(args)


def run(args: argparse.Namespace) -> None:
    photo = PHOTO.read_bytes()
    with Image.open(PHOTO) as image:
        photo_size = image.size
    threads = os.cpu_count() or 1
    load_average = os.getloadavg()
    started_at = dt.datetime.now(dt.UTC)

    log(f"Pillow alone, {threads} threads (before the server run)")
    pillow = pillow_rounds(photo, threads, PILLOW_ROUNDS // 2)

    with bench_environment(args.database_url, server_connection(args)) as env:
        log(f"starting the server ({args.workers} worker(s))")
        server = start_server(env, args.workers, Path(env["BENCH_WORKDIR"]))
        try:
            log(f"{args.warmup} warm-up + {args.requests} reports from {args.clients} clients")
            warm, load, memory = asyncio.run(
                run_load(server, args.clients, args.requests, args.warmup, args.keep_alive)
            )
            flows = None
            if args.two_step_reports:
                log(f"two-step flow vs multipart: {args.two_step_reports} reports of 9 photos each")
                flows = asyncio.run(_compare_flows(server, photo, args))
        except BaseException:
            log(server_log(server))
            raise
        finally:
            server.stop()

    log(f"Pillow alone, {threads} threads (after the server run)")
    pillow += pillow_rounds(photo, threads, PILLOW_ROUNDS - PILLOW_ROUNDS // 2)
    one_thread = one_thread_cpu_ms(photo)

    failures = len(load.failures) + len(warm.failures)
    reports_per_s = len(load.latencies_ms) / load.wall_seconds if load.latencies_ms else 0.0
    pillow_per_s = statistics.median(r.photos_per_s for r in pillow)
    ratio = reports_per_s / pillow_per_s
    lat = load.latencies_ms or [0.0]
    # Share of the machine's CPU that other processes took during each measurement.
    other_share = {
        "load": memory["other_cpu_seconds"] / (load.wall_seconds * threads),
        "pillow": max(
            r.other_cpu_seconds / (PILLOW_PHOTOS_PER_ROUND / r.photos_per_s * threads)
            for r in pillow
        ),
    }
    quiet = all(share < QUIET_OTHER_CPU_SHARE for share in other_share.values())
    figures: dict[str, Any] = {
        "date": started_at.isoformat(timespec="seconds"),
        "parameters": {
            "clients": args.clients,
            "requests": args.requests,
            "warmup": args.warmup,
            "workers": args.workers,
            "database_url": make_url(args.database_url).render_as_string(hide_password=True),
            "photo": PHOTO.name,
            "photo_bytes": len(photo),
            "photo_size": photo_size,
            "category": CATEGORY,
            "point": [LAT, LNG],
            "keep_alive": args.keep_alive,
            "statement_cache": args.statement_cache or "the server's default",
            "pgbouncer_url": args.pgbouncer_url
            and make_url(args.pgbouncer_url).render_as_string(hide_password=True),
            "pillow_threads": threads,
            "pillow_rounds": PILLOW_ROUNDS,
            "pillow_photos_per_round": PILLOW_PHOTOS_PER_ROUND,
        },
        "results": {
            "reports_per_s": round(reports_per_s, 2),
            "wall_seconds": round(load.wall_seconds, 2),
            "latency_ms": {
                "p50": round(percentile(lat, 0.50), 1),
                "p95": round(percentile(lat, 0.95), 1),
                "p99": round(percentile(lat, 0.99), 1),
                "max": round(max(lat), 1),
                "mean": round(statistics.fmean(lat), 1),
            },
            "statuses": dict(load.statuses),
            "warmup_statuses": dict(warm.statuses),
            "failures": failures,
            "failure_examples": sorted(set(warm.failures + load.failures))[:5],
            "server_cpu_ms_per_report": round(
                memory["server_cpu_seconds"] / args.requests * 1000, 1
            ),
            "client_cpu_ms_per_report": round(load.client_cpu_seconds / args.requests * 1000, 1),
            **memory,
            "pillow_photos_per_s": round(pillow_per_s, 2),
            "one_thread_cpu_ms_per_photo": one_thread,
            "pillow_cpu_ms_per_photo": round(
                statistics.median(r.cpu_ms_per_photo for r in pillow), 1
            ),
            "pillow_rounds": [
                {
                    "photos_per_s": round(r.photos_per_s, 2),
                    "other_cpu_seconds": round(r.other_cpu_seconds, 2),
                }
                for r in pillow
            ],
            "ratio": round(ratio, 3),
        },
        "budget": {
            "ratio": BUDGET_RATIO,
            "within_ratio": ratio >= BUDGET_RATIO,
            "worker_rss_mb": BUDGET_WORKER_RSS_MB,
            "within_rss": memory["max_worker_peak_rss_mb"] < BUDGET_WORKER_RSS_MB,
        },
        "two_step": flows,
        "other_cpu_share": {name: round(share, 3) for name, share in other_share.items()},
        "machine_was_quiet": quiet,
        "load_average_at_start": load_average,
        "machine": pillow_machine(),
    }
    results = figures["results"]
    rows = [
        ("reports/s", f"{results['reports_per_s']:.2f}"),
        ("latency p50 / p95 / p99 ms", "{p50} / {p95} / {p99}".format(**results["latency_ms"])),
        (
            "max RSS MB (one worker: sampled / peak)",
            f"{results['max_worker_rss_mb']} / {results['max_worker_peak_rss_mb']} "
            f"(budget < {BUDGET_WORKER_RSS_MB:.0f})",
        ),
        ("max RSS MB (all server processes)", f"{results['max_total_rss_mb']}"),
        ("RSS MB of a worker before any request", f"{results['idle_worker_rss_mb']}"),
        ("CPU s of each worker process", " / ".join(map(str, results["worker_cpu_seconds"]))),
        (
            "server / client CPU ms per report",
            (f"{results['server_cpu_ms_per_report']} / {results['client_cpu_ms_per_report']}"),
        ),
        (
            "  of which event loop / other threads",
            " / ".join(str(v) for v in results["server_cpu_ms_per_report_by_thread"].values()),
        ),
        ("PostgreSQL CPU ms per report", f"{results['postgres_cpu_ms_per_report']}"),
        (
            "CPU ms/photo on 1 thread: Pillow / process_photo",
            "{pillow_only} / {process_photo}".format(**one_thread),
        ),
        (
            f"Pillow alone photos/s ({threads} threads)",
            f"{pillow_per_s:.2f} (CPU {results['pillow_cpu_ms_per_photo']} ms/photo)",
        ),
        ("ratio reports/s ÷ Pillow photos/s", f"{ratio:.0%} (budget ≥ {BUDGET_RATIO:.0%})"),
        ("failures (not 201)", f"{failures} of {args.requests + args.warmup}"),
        (
            "other CPU on the machine, s (load / Pillow)",
            f"{results['other_cpu_seconds']} / {sum(r.other_cpu_seconds for r in pillow):.2f}",
        ),
    ]
    print(
        f"\nReport intake: {args.clients} clients, {args.requests} reports "
        f"(+{args.warmup} warm-up), {args.workers} worker(s), {threads} CPUs"
    )
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    if not quiet:
        print(
            "  WARNING: other processes used {load:.0%} of the CPUs during the load and up to "
            "{pillow:.0%} during a Pillow round: the figures are skewed; run again on a quiet "
            "machine".format(**other_share)
        )
    if flows is not None:
        _print_flows(flows)
    for example in results["failure_examples"]:
        print(f"  failure: {example}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(f"written {args.output}")
    if failures:
        raise SystemExit(f"{failures} requests failed")
    if not (figures["budget"]["within_ratio"] and figures["budget"]["within_rss"]):
        raise SystemExit("over budget")
    if flows is not None and not flows["budget"]["within"]:
        raise SystemExit("the two-step flow is over budget")


async def _compare_flows(server: Server, photo: bytes, args: argparse.Namespace) -> dict[str, Any]:
    client = LoadClient(server.base_url, await login(server.base_url), keep_alive=False)

    async def call(path: str, content_type: str, body: bytes, key: str) -> tuple[int, bytes]:
        connection = await client.connect()
        try:
            request = client.request_bytes(body, content_type, key, path)
            status, answer, _ = await asyncio.wait_for(
                client.exchange(*connection, request), REQUEST_TIMEOUT_SECONDS
            )
        finally:
            await _closed(connection)
        return status, answer

    return await two_step.compare(
        call, photo, (LAT, LNG), CATEGORY, args.two_step_reports, args.clients
    )


def _print_flows(flows: dict[str, Any]) -> None:
    print(f"\nPhotos uploaded first vs multipart ({flows['photos_per_report']} photos a report)")
    for name, flow in flows["flows"].items():
        print(
            f"  {name:<24} {flow['reports_per_s']:.2f} reports/s, "
            f"{flow['bytes_per_report'] / 1e6:.1f} MB uploaded a report, "
            f"{flow['failures']} failures"
        )
    print(
        f"  two-step ÷ multipart: {flows['ratio_two_step_to_multipart']:.0%} "
        f"(budget ≥ {flows['budget']['share']:.0%}); resized on the phone: "
        f"{flows['phone_resized_speedup']}× the reports/s"
    )


if __name__ == "__main__":
    main()
