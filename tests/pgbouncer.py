"""The suite behind a real PgBouncer in transaction mode (``SSP_TEST_PGBOUNCER=1``, with
SSP_TEST_DATABASE_URL): each test process starts its own ``pgbouncer`` on a free loopback port
in front of the test server. The tests' databases are then reached through it, as a deployment
behind PgBouncer reaches its database; what needs a session of its own (LISTEN, migrations) and
the suite's own CREATE/DROP DATABASE go straight to PostgreSQL."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

WANTED = os.environ.get("SSP_TEST_PGBOUNCER", "") not in ("", "0")
PGBOUNCER = os.environ.get("SSP_TEST_PGBOUNCER_BINARY", "/usr/sbin/pgbouncer")
STARTUP_SECONDS = 10.0
PORT_TRIES = 3
# No ignore_startup_parameters: a connection that sends one (jit, say) is refused, as in a
# deployment, instead of quietly losing it. Every database on the server is reachable through
# the "*" entry, the tests' own among them. Server connections per database and user: more than
# one test's engine ever holds at once, so a test never waits for one.
CONFIG = """\
[databases]
* = host={host} port={port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir}/users.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
server_lifetime = 3600
logfile = {workdir}/pgbouncer.log
pidfile =
"""


class PgBouncer:
    """One ``pgbouncer`` process, this test process's child."""

    def __init__(self, server_url: str) -> None:
        server = make_url(server_url)
        self.server_host = server.host or "127.0.0.1"
        self.server_port = server.port or 5432
        self.port = 0
        # Its own folder rather than pytest's: pgbouncer drops root for the postgres user,
        # who must be able to read the configuration and write the log.
        self.workdir = Path(tempfile.mkdtemp(prefix="ssp-pgbouncer-"))
        self.workdir.chmod(0o755)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        (self.workdir / "users.txt").write_text('"postgres" ""\n')
        for _ in range(PORT_TRIES):
            self.port = _free_port()
            (self.workdir / "pgbouncer.ini").write_text(
                CONFIG.format(
                    host=self.server_host,
                    port=self.server_port,
                    listen_port=self.port,
                    workdir=self.workdir,
                )
            )
            if os.geteuid() == 0:  # it refuses to run as root
                shutil.chown(self.workdir, "postgres")
            if self._spawn():
                return
        raise RuntimeError(f"pgbouncer did not start:\n{self.log()}")

    def _spawn(self) -> bool:
        user = ["-u", "postgres"] if os.geteuid() == 0 else []
        self.process = subprocess.Popen(
            [PGBOUNCER, *user, str(self.workdir / "pgbouncer.ini")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False  # the port was taken meanwhile, say: another one
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return True
            time.sleep(0.02)
        self.stop()
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log(self) -> str:
        try:
            return (self.workdir / "pgbouncer.log").read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""

    def pooled(self, direct_url: str) -> str:
        """The URL of the same database through PgBouncer."""
        url = make_url(direct_url).set(host="127.0.0.1", port=self.port)
        return url.render_as_string(hide_password=False)

    def direct(self, url: str) -> str | None:
        """The URL straight to PostgreSQL of a database reached through PgBouncer, else None."""
        parsed = make_url(url)
        if parsed.get_backend_name() != "postgresql" or parsed.port != self.port:
            return None
        direct = parsed.set(host=self.server_host, port=self.server_port)
        return direct.render_as_string(hide_password=False)


# This test process's PgBouncer, while it runs (set by the database_factory fixture).
running: PgBouncer | None = None


def direct_url(url: str) -> str:
    """``url`` straight to PostgreSQL: the same URL unless it goes through PgBouncer."""
    return (running.direct(url) if running else None) or url


def connection_settings(url: str) -> dict[str, Any]:
    """The settings a process needs for ``url`` besides SSP_DATABASE_URL: behind PgBouncer,
    the pooler and the direct URL; otherwise none."""
    direct = running.direct(url) if running else None
    if direct is None:
        return {}
    return {"database_pooler": "pgbouncer-transaction", "database_direct_url": direct}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
