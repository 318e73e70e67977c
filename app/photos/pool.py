"""Photo work off the event loop, in a bounded pool of threads.

Threads rather than processes: Pillow, libjpeg-turbo and libheif release the GIL while they
decode, resample and encode, which is nearly all of the work, so threads use every core; a
process pool was slower on two cores (``bench/photo_pillow.py``), as it copies every upload and
result between processes.

One pool per app (``app.state.photo_pool``), sized by ``SSP_PHOTO_WORKERS``, shut down with it.
"""

from __future__ import annotations

import asyncio
import functools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Final

from app.photos.processing import DISPLAY_MAX_SIDE, THUMB_MAX_SIDE, ProcessedPhoto, process_photo

DEFAULT_PHOTO_WORKERS: Final = os.cpu_count() or 1


class PhotoPool:
    """At most ``workers`` photos are worked on at once; the others wait their turn."""

    def __init__(self, workers: int = 0) -> None:
        """``workers=0`` means one per CPU."""
        if workers < 0:
            raise ValueError("the photo pool cannot have a negative number of workers")
        self.workers = workers or DEFAULT_PHOTO_WORKERS
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="photo")

    async def process(
        self,
        data: bytes,
        *,
        max_pixels: int,
        max_bytes: int | None = None,
        display_max: int = DISPLAY_MAX_SIDE,
        thumb_max: int = THUMB_MAX_SIDE,
        sha256: str | None = None,
    ) -> ProcessedPhoto:
        """``process_photo`` on a worker thread."""
        work = functools.partial(
            process_photo,
            data,
            max_pixels=max_pixels,
            max_bytes=max_bytes,
            display_max=display_max,
            thumb_max=thumb_max,
            sha256=sha256,
        )
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    def shutdown(self) -> None:
        """Waits for the photos being worked on; queued ones are cancelled."""
        self._executor.shutdown(wait=True, cancel_futures=True)
