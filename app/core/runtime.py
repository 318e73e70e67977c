"""Process-wide settings of the interpreter and libraries for serving photo uploads.

An API process runs its event loop and the photo threads side by side. The photo work is C code
(libjpeg-turbo, libheif, Pillow's resampling) that lets go of the GIL while it runs and takes it
back between blocks of work; every time it wants it back while the event loop runs Python, it
waits. These settings make those hand-overs fewer, keep uploads off the disk and keep the photo
threads' memory in check."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
from typing import Final

from PIL import ImageFile
from starlette.formparsers import MultiPartParser

from app.core.config import Settings
from app.core.security import use_password_hash_cost

log = logging.getLogger("app.core.runtime")

# Pillow reads and writes image data in blocks of this size, taking the GIL back after each
# block (64 KB by default: 30 hand-overs to decode a 2 MB phone photo, 2 with this).
PILLOW_BLOCK_BYTES: Final = 1024 * 1024
# glibc gives each thread that allocates concurrently an arena of its own, which photo threads
# grow and never hand back (~50 MB of resident memory per worker): two arenas are enough.
MALLOC_ARENAS: Final = 2
_M_ARENA_MAX: Final = -8  # mallopt(3)


def tune_for_serving(settings: Settings) -> None:
    """Idempotent; called by the application factory."""
    ImageFile.MAXBLOCK = max(ImageFile.MAXBLOCK, PILLOW_BLOCK_BYTES)
    # Uploaded files stay in memory up to the per-photo limit instead of rolling over to a
    # temporary file at 1 MB: they are read whole for the photo work anyway, and a file on disk
    # costs a thread hop for every 64 KB chunk written and read. (Starlette's parser has this
    # class attribute and no per-app setting.)
    MultiPartParser.spool_max_size = settings.max_photo_bytes
    use_password_hash_cost(settings)
    _limit_malloc_arenas(MALLOC_ARENAS)


def _limit_malloc_arenas(arenas: int) -> None:
    """Like MALLOC_ARENA_MAX, but also for a server started without it (glibc only; elsewhere
    nothing to do). Arenas already made are kept."""
    name = ctypes.util.find_library("c")
    if not name or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(name)
        if libc.mallopt(_M_ARENA_MAX, arenas) != 1:
            log.debug("mallopt(M_ARENA_MAX) was refused")
    except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
        log.debug("mallopt is not available", exc_info=True)
