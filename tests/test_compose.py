"""The container files, checked without a Docker daemon: compose.yaml has the production shape
(PostgreSQL, MinIO with its bucket, two API replicas, a worker, migrations run once), starts
in order on health checks, passes only settings the app knows and no secret with a default;
the Dockerfile keeps the embedded default's state on a volume; .dockerignore keeps the build
context to what the image is built from. Where `docker compose` or `docker-compose` is
installed, its own `config` check runs too."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from app.core.config import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_TEXT = (ROOT / "compose.yaml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
APP_SERVICES = ("migrate", "api", "worker")
# What an operator sets (compose.yaml's header); sample values.
REQUIRED = {
    "SSP_SECRET_KEY": "a-random-secret-of-more-than-32-characters-0123456789",
    "POSTGRES_PASSWORD": "postgres0password",
    "MINIO_ROOT_USER": "minio-admin",
    "MINIO_ROOT_PASSWORD": "minio0admin0password",
    "SSP_S3_ACCESS_KEY": "suishoupai",
    "SSP_S3_SECRET_KEY": "suishoupai0secret",
}
SECRET_NAME = re.compile(r"SECRET|PASSWORD|_KEY$|ROOT_USER")
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?P<rest>[^}]*)\}")


def interpolate(value: str) -> str:
    """What compose makes of a value with REQUIRED set (``$$`` is a literal dollar)."""
    return INTERPOLATION.sub(lambda m: REQUIRED[m.group("name")], value).replace("$$", "$")


def environment(service: str) -> dict[str, str]:
    env = SERVICES[service].get("environment", {})
    assert isinstance(env, dict), f"{service}: environment as a mapping"
    return {key: str(value) for key, value in env.items()}


def conditions(service: str) -> dict[str, str]:
    return {name: dep["condition"] for name, dep in SERVICES[service]["depends_on"].items()}


def healthcheck_text(service: str) -> str:
    check = SERVICES[service]["healthcheck"]
    assert not check.get("disable"), f"{service} has no health check"
    test = check["test"]
    return " ".join(test) if isinstance(test, list) else test


def test_the_production_shape() -> None:
    assert set(SERVICES) == {"postgres", "minio", "minio-setup", "migrate", "api", "worker"}
    for name in APP_SERVICES:  # the image of this repository
        assert SERVICES[name]["build"] == "."
        assert SERVICES[name]["image"] == SERVICES["api"]["image"]
    for name in set(SERVICES) - set(APP_SERVICES):  # others pinned, so an upgrade is a choice
        image = SERVICES[name]["image"]
        assert ":" in image, image
        assert not image.endswith(":latest"), image
    assert SERVICES["postgres"]["image"].startswith("postgres:")
    assert SERVICES["minio"]["image"].startswith("minio/minio:")

    assert SERVICES["api"]["deploy"]["replicas"] == 2
    assert SERVICES["api"]["command"][:4] == ["python", "-m", "app", "serve"]
    assert environment("api")["SSP_EMBEDDED_WORKER"] == "false"
    assert SERVICES["worker"]["command"] == ["python", "-m", "app", "worker"]
    assert SERVICES["migrate"]["command"] == ["python", "-m", "app", "migrate"]
    assert SERVICES["migrate"]["restart"] == "no"
    for name in APP_SERVICES:
        env = environment(name)
        assert env["SSP_ENV"] == "production"
        assert make_url(interpolate(env["SSP_DATABASE_URL"])).host == "postgres"
    for name in ("api", "worker"):
        assert environment(name)["SSP_PHOTO_STORAGE"] == "s3"
        assert environment(name)["SSP_S3_ENDPOINT_URL"] == "http://minio:9000"
    # The bucket the API writes to is the one minio-setup creates.
    setup_script = " ".join(SERVICES["minio-setup"]["command"])
    assert f"mc mb --ignore-existing store/{environment('api')['SSP_S3_BUCKET']}" in setup_script
    assert {"postgres-data", "minio-data"} <= set(COMPOSE["volumes"])


def test_the_schema_is_migrated_once_before_the_api_and_the_worker_start() -> None:
    # Only the one-shot service migrates: two API replicas must not race to do it.
    for name in ("api", "worker"):
        assert "migrate" not in SERVICES[name]["command"]
        assert conditions(name)["migrate"] == "service_completed_successfully"
        assert conditions(name)["postgres"] == "service_healthy"
    assert conditions("migrate") == {"postgres": "service_healthy"}
    assert conditions("api")["minio-setup"] == "service_completed_successfully"
    assert conditions("minio-setup") == {"minio": "service_healthy"}
    # Waiting for "healthy" needs a health check to wait for.
    for name in SERVICES:
        for dependency, condition in SERVICES[name].get("depends_on", {}).items():
            if condition["condition"] == "service_healthy":
                assert healthcheck_text(dependency)


def test_health_checks() -> None:
    assert "pg_isready" in healthcheck_text("postgres")
    assert healthcheck_text("minio") == "CMD mc ready local"
    assert "http://127.0.0.1:8000/readyz" in healthcheck_text("api")
    port = environment("worker")["SSP_WORKER_METRICS_PORT"]
    assert f"http://127.0.0.1:{port}/metrics" in healthcheck_text("worker")
    # The image's own check (the API's /readyz) means nothing for a one-shot migration.
    assert SERVICES["migrate"]["healthcheck"] == {"disable": True}


def test_every_setting_passed_to_the_app_exists_and_validates() -> None:
    known = {f"SSP_{name.upper()}" for name in Settings.model_fields}
    used = {name for service in APP_SERVICES for name in environment(service)}
    used |= {m.group("name") for m in INTERPOLATION.finditer(COMPOSE_TEXT)}
    assert {name for name in used if name.startswith("SSP_")} <= known
    for name in APP_SERVICES:
        # Strings, as the environment gives them: the settings parse them.
        values: dict[str, Any] = {
            key.removeprefix("SSP_").lower(): interpolate(value)
            for key, value in environment(name).items()
        }
        settings = Settings(_env_file=None, **values)
        assert settings.env == "production"  # which refuses the demo secret
        assert not settings.is_sqlite


def test_no_secret_has_a_default() -> None:
    for match in INTERPOLATION.finditer(COMPOSE_TEXT):
        if SECRET_NAME.search(match.group("name")):
            # ${NAME:?message}: compose stops when it is unset or empty.
            assert match.group("rest").startswith(":?"), match.group(0)
    for name, service in SERVICES.items():
        for key, value in service.get("environment", {}).items():
            if SECRET_NAME.search(key):
                assert str(value).startswith("${"), (name, key)
                assert ":?" in str(value), (name, key)
    assert set(REQUIRED) == {m.group("name") for m in INTERPOLATION.finditer(COMPOSE_TEXT)}


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, check=False, timeout=30
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    empty_env_file = tmp_path / "empty.env"  # not the developer's .env
    empty_env_file.write_text("")
    base = [*command, "--env-file", str(empty_env_file), "-f", str(ROOT / "compose.yaml")]
    clean = {"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(tmp_path)}

    accepted = subprocess.run(
        [*base, "config"],
        capture_output=True,
        text=True,
        env={**clean, **REQUIRED},
        cwd=ROOT,
        check=False,
        timeout=60,
    )
    assert accepted.returncode == 0, accepted.stderr
    resolved = yaml.safe_load(accepted.stdout)
    api_environment = resolved["services"]["api"]["environment"]
    assert api_environment["SSP_SECRET_KEY"] == REQUIRED["SSP_SECRET_KEY"]

    missing = {key: value for key, value in REQUIRED.items() if key != "SSP_SECRET_KEY"}
    refused = subprocess.run(
        [*base, "config"],
        capture_output=True,
        text=True,
        env={**clean, **missing},
        cwd=ROOT,
        check=False,
        timeout=60,
    )
    assert refused.returncode != 0
    assert "SSP_SECRET_KEY" in refused.stderr


# --- The image -------------------------------------------------------------------------------


def _dockerignore_patterns() -> list[tuple[bool, re.Pattern[str]]]:
    """(excludes, regex) per line of .dockerignore, as Docker reads them: globs over paths
    relative to the context, ``**`` across directories, ``!`` to include again."""
    patterns = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        excludes = not line.startswith("!")
        glob = line.lstrip("!").strip("/")
        regex = ""
        for part in re.split(r"(\*\*/?|\*|\?)", glob):
            if part.startswith("**"):
                regex += "(.*/)?" if part.endswith("/") else ".*"
            elif part == "*":
                regex += "[^/]*"
            elif part == "?":
                regex += "[^/]"
            else:
                regex += re.escape(part)
        patterns.append((excludes, re.compile(f"^{regex}$")))
    return patterns


def in_build_context(path: str) -> bool:
    """Whether Docker sends ``path`` to the build: the last pattern matching the path or one
    of its parent directories decides."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    included = True
    for excludes, regex in _dockerignore_patterns():
        if any(regex.match(prefix) for prefix in prefixes):
            included = not excludes
    return included


def dockerfile_instructions(keyword: str) -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [
        line.strip()[len(keyword) :].strip()
        for line in text.splitlines()
        if line.strip().upper().startswith(keyword + " ")
    ]


def test_the_build_context_is_only_what_the_image_is_built_from() -> None:
    for path in (
        ".git/HEAD",
        ".venv/bin/python",
        "data/suishoupai.db",
        "data/photos/2026/12/01/x/display.jpg",
        "bench/results/intake.json",
        "tests/fixtures/photos/Canon_40D.jpg",
        "docs/api.md",
        ".env",
        ".pytest_cache/v/cache/lastfailed",
        ".mypy_cache/3.11/app.json",
        "app/__pycache__/main.cpython-311.pyc",
        "app/core/__pycache__/config.cpython-311.pyc",
        "suishoupai.egg-info/PKG-INFO",
    ):
        assert not in_build_context(path), path
    for path in ("app/main.py", "app/core/config.py", "migrations/env.py", "alembic.ini"):
        assert in_build_context(path), path
    # Everything the Dockerfile copies from the context is there.
    for copy in dockerfile_instructions("COPY"):
        if copy.startswith("--from"):
            continue
        *sources, _target = copy.split()
        for source in sources:
            assert (ROOT / source).exists(), source
            assert in_build_context(source), source


def test_the_embedded_defaults_state_is_on_a_declared_volume() -> None:
    env = {}
    for instruction in dockerfile_instructions("ENV"):
        env.update(dict(re.findall(r"(\w+)=(\S+)", instruction)))
    volumes = [
        v for instruction in dockerfile_instructions("VOLUME") for v in json.loads(instruction)
    ]
    database = make_url(env["SSP_DATABASE_URL"]).database
    assert database is not None
    for path in (env["SSP_PHOTO_DIR"], database):
        assert any(Path(path).is_relative_to(volume) for volume in volumes), path
