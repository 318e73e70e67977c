# syntax=docker/dockerfile:1
# Build stage: wheels for the app and its dependencies (compilers stay here).
FROM python:3.11-slim AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# The big screen's page: bundled from dashboard/ with the locked npm packages.
FROM node:20-slim AS dashboard
WORKDIR /src
COPY dashboard/package.json dashboard/package-lock.json ./dashboard/
RUN npm --prefix dashboard ci --no-audit --no-fund
COPY dashboard ./dashboard
RUN mkdir -p app/dashboard && npm --prefix dashboard run build

# The couriers' phone page: bundled from mobile/ the same way.
FROM node:20-slim AS mobile
WORKDIR /src
COPY mobile/package.json mobile/package-lock.json ./mobile/
RUN npm --prefix mobile ci --no-audit --no-fund
COPY mobile ./mobile
RUN mkdir -p app/mobile && npm --prefix mobile run build

# Runtime stage: the wheels, the migrations, the pages, a non-root user.
FROM python:3.11-slim
# MALLOC_ARENA_MAX: the photo threads otherwise each grow their own glibc arena (~50 MB more
# resident per worker under load, measured by bench/intake.py). The server also limits them when
# it starts (app/core/runtime.py); the variable covers what is allocated before that.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    SSP_PHOTO_DIR=/var/lib/suishoupai/photos \
    SSP_DATABASE_URL=sqlite+aiosqlite:////var/lib/suishoupai/suishoupai.db
RUN useradd --system --uid 10001 --home-dir /srv/suishoupai suishoupai \
    && mkdir -p /var/lib/suishoupai /srv/suishoupai \
    && chown -R suishoupai /var/lib/suishoupai /srv/suishoupai
# The embedded default's state: the photo folder and the SQLite file (SSP_PHOTO_DIR and
# SSP_DATABASE_URL above). A volume, so that it outlives the container; unused (empty) when the
# deployment sets PostgreSQL and an S3 store, as compose.yaml does. Declared after the chown:
# the volume starts with the image's ownership.
VOLUME ["/var/lib/suishoupai"]
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels
WORKDIR /srv/suishoupai
COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
COPY --from=dashboard /src/app/dashboard/static ./app/dashboard/static
COPY --from=mobile /src/app/mobile/static ./app/mobile/static
USER suishoupai
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"
# One container on its own: migrate, then serve. SSP_SECRET_KEY must be set: production refuses
# the demo secret. Replicas on PostgreSQL that each migrate at start take turns (an advisory
# lock); compose.yaml still migrates once, beforehand.
CMD ["sh", "-c", "python -m app migrate && exec python -m app serve --host 0.0.0.0 --port 8000"]
