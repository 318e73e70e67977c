"""What the benchmark scripts share: a PostgreSQL database made and dropped for a run, the app's
commands, the API server started on a free port and stopped, its processes' resident memory,
and percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import URL

ROOT = Path(__file__).resolve().parents[1]
RSS_SAMPLE_SECONDS = 0.1
READY_TIMEOUT_SECONDS = 60.0


def log(message: str, end: str = "\n") -> None:
    print(message, file=sys.stderr, end=end, flush=True)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


# --- the database ---------------------------------------------------------------------------


def asyncpg_dsn(url: URL, database: str) -> str:
    sync = url.set(drivername="postgresql", database=database)
    return sync.render_as_string(hide_password=False)


async def _admin(url: URL, *statements: str) -> None:
    """Runs statements on the server's maintenance database (outside any transaction)."""
    connection = await asyncpg.connect(asyncpg_dsn(url, "postgres"))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def recreate_database(url: URL) -> None:
    name = _quoted(url.database or "")
    asyncio.run(
        _admin(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    )


def drop_database(url: URL) -> None:
    asyncio.run(_admin(url, f"DROP DATABASE IF EXISTS {_quoted(url.database or '')} WITH (FORCE)"))


def run_cli(env: dict[str, str], *args: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"`python -m app {' '.join(args)}` failed ({completed.returncode}):\n"
            f"{completed.stdout}\n{completed.stderr}"
        )


# --- the server's processes -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found.extend(int(c) for c in (task / "children").read_text().split())
    return found


def process_tree(root: int) -> list[int]:
    """The root and all its descendants (uvicorn's supervisor and its worker processes)."""
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(_children(pid))
    return tree


def status_kb(pid: int, field_name: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass
class RssSampler:
    """Samples VmRSS of every process of the server while the load runs."""

    root: int
    max_kb: dict[int, int] = field(default_factory=dict)
    max_total_kb: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        total = 0
        for pid in process_tree(self.root):
            rss = status_kb(pid, "VmRSS")
            if rss is None:
                continue
            total += rss
            self.max_kb[pid] = max(self.max_kb.get(pid, 0), rss)
        self.max_total_kb = max(self.max_total_kb, total)
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_SECONDS):
            self.sample()

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the root alone, or uvicorn's workers."""
        tree = process_tree(self.pid)
        workers = [pid for pid in tree if pid != self.pid and _is_uvicorn_worker(pid)]
        return workers or [self.pid]

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        # Its own session: the signal reaches uvicorn's supervisor and workers, nothing else.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def _is_uvicorn_worker(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    # uvicorn starts its workers with multiprocessing's "spawn"; its resource tracker is no worker.
    return b"spawn_main" in cmdline


def start_server(env: dict[str, str], workers: int, log_dir: Path, source: Path = ROOT) -> Server:
    """``python -m app serve`` of the tree at ``source`` (this one unless another version is
    compared with it: bench/reads_ab.py)."""
    port = free_port()
    log_path = log_dir / ("server.log" if source == ROOT else f"server-{port}.log")
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            cwd=source,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"the server exited ({process.returncode}):\n{server_log(server)}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if client.get("/readyz").status_code == 200:
                    break
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"the server was not ready in time:\n{server_log(server)}")
            time.sleep(0.2)
    # With several workers, each answers /readyz once up: wait until all of them are there.
    while len(server.worker_pids()) < workers and time.monotonic() < deadline:
        time.sleep(0.2)
    return server


def server_log(server: Server, tail: int = 4000) -> str:
    try:
        return server.log_path.read_text(errors="replace")[-tail:]
    except OSError:
        return ""


def machine() -> dict[str, Any]:
    """What the figures were measured on, with the load the machine carried then."""
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "load_average": os.getloadavg(),
    }
