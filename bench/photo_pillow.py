"""Photo work: Pillow alone against our process_photo, on the 4608×1976 phone JPEG.

Budget: the server's photo throughput is at least 70% of Pillow alone doing the same work the
fastest way on the same cores. "Pillow alone" here is: decode with draft() at the display size,
resize to the display image (long side 2048), encode it as JPEG q85, resize that to the thumbnail
(long side 320), encode it. Ours adds the SHA-256 of the upload, format sniffing, the JPEG
structure check, EXIF reading, the orientation and colour-space handling, metadata stripping.

Also measured: ours through a pool of 2 threads, of 2 processes, and through the async entry
point the API uses; and ours on the iPhone HEIC, for reference.

Configurations are interleaved round by round so that background load hits them alike; the
median round is reported (best round beside it).

Run: .venv/bin/python bench/photo_pillow.py
Writes bench/results/photo_pillow.json.
"""

from __future__ import annotations

import asyncio
import io
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pillow_heif
from PIL import Image, features

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.photos import pool
from app.photos.processing import (
    DISPLAY_MAX_SIDE,
    JPEG_QUALITY,
    MAX_PHOTO_BYTES,
    MAX_PHOTO_PIXELS,
    THUMB_MAX_SIDE,
    process_photo,
)

PHOTOS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "photos"
PHONE_JPEG = PHOTOS / "HMD_Nokia_8.3_5G.jpg"
IPHONE_HEIC = PHOTOS / "iphone_13_pro_max.HEIC"
RESULTS = Path(__file__).resolve().parent / "results" / "photo_pillow.json"
BUDGET_RATIO = 0.70
ROUNDS = 7
PHOTOS_PER_ROUND = 12
WORKERS = 2
HEIC_PHOTOS = 4


def fitting(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def pillow_only(data: bytes) -> int:
    """The same photo work done the fastest way Pillow allows, knowing the photo is upright."""
    with Image.open(io.BytesIO(data)) as image:
        display_size = fitting(image.size, DISPLAY_MAX_SIDE)
        image.draft("RGB", display_size)
        display = image.resize(display_size, Image.Resampling.BICUBIC, reducing_gap=2.0)
    thumb = display.resize(
        fitting(display.size, THUMB_MAX_SIDE), Image.Resampling.BICUBIC, reducing_gap=2.0
    )
    written = 0
    for result in (display, thumb):
        buffer = io.BytesIO()
        result.save(buffer, "JPEG", quality=JPEG_QUALITY)
        written += buffer.tell()
    return written


def ours(data: bytes) -> int:
    result = process_photo(data, max_bytes=MAX_PHOTO_BYTES, max_pixels=MAX_PHOTO_PIXELS)
    return len(result.display_bytes) + len(result.thumb_bytes)


def warm_worker() -> None:
    """Imports and first-call costs paid before timing starts."""
    pillow_only(PHONE_JPEG.read_bytes())


Work = Callable[[bytes], int]


def run_serially(work: Work, data: bytes, count: int = PHOTOS_PER_ROUND) -> tuple[float, float]:
    """Wall seconds and CPU seconds for ``count`` photos on the calling thread."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        work(data)
    return time.perf_counter() - wall, time.process_time() - cpu


def run_in(executor: Executor, work: Work, data: bytes) -> float:
    start = time.perf_counter()
    list(executor.map(work, [data] * PHOTOS_PER_ROUND))
    return time.perf_counter() - start


async def run_through_async_pool(photo_pool: pool.PhotoPool, data: bytes) -> float:
    start = time.perf_counter()
    await asyncio.gather(
        *(
            photo_pool.process(data, max_bytes=MAX_PHOTO_BYTES, max_pixels=MAX_PHOTO_PIXELS)
            for _ in range(PHOTOS_PER_ROUND)
        )
    )
    return time.perf_counter() - start


def summary(wall_seconds: list[float], cpu_seconds: list[float] | None = None) -> dict[str, float]:
    per_photo_ms = sorted(seconds / PHOTOS_PER_ROUND * 1000 for seconds in wall_seconds)
    median_ms = statistics.median(per_photo_ms)
    figures = {
        "photos_per_s": round(1000 / median_ms, 2),
        "ms_per_photo": round(median_ms, 1),
        "best_photos_per_s": round(1000 / per_photo_ms[0], 2),
    }
    if cpu_seconds:
        cpu_ms = statistics.median(seconds / PHOTOS_PER_ROUND * 1000 for seconds in cpu_seconds)
        figures["cpu_ms_per_photo"] = round(cpu_ms, 1)
    return figures


def main() -> None:
    data = PHONE_JPEG.read_bytes()
    with Image.open(PHONE_JPEG) as image:
        original_size = image.size
    assert ours(data) > 0
    assert pillow_only(data) > 0

    walls: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    load_average = os.getloadavg()
    threads = ThreadPoolExecutor(WORKERS)
    # forkserver, as a server with running threads could not safely fork.
    processes = ProcessPoolExecutor(
        WORKERS, mp_context=multiprocessing.get_context("forkserver"), initializer=warm_worker
    )
    list(processes.map(ours, [data] * WORKERS))
    photo_pool = pool.PhotoPool(WORKERS)
    loop = asyncio.new_event_loop()
    try:
        for _ in range(ROUNDS):
            for name, work in (("pillow_1_thread", pillow_only), ("ours_1_thread", ours)):
                wall, cpu = run_serially(work, data)
                walls.setdefault(name, []).append(wall)
                cpus.setdefault(name, []).append(cpu)
            for name, executor, work in (
                ("pillow_2_threads", threads, pillow_only),
                ("ours_2_threads", threads, ours),
                ("ours_2_processes", processes, ours),
            ):
                walls.setdefault(name, []).append(run_in(executor, work, data))
            walls.setdefault("ours_async_pool_2_threads", []).append(
                loop.run_until_complete(run_through_async_pool(photo_pool, data))
            )
    finally:
        loop.close()
        photo_pool.shutdown()
        threads.shutdown()
        processes.shutdown()

    heic_data = IPHONE_HEIC.read_bytes()
    ours(heic_data)
    heic_wall, heic_cpu = run_serially(ours, heic_data, HEIC_PHOTOS)

    results = {name: summary(walls[name], cpus.get(name)) for name in walls}
    ratio = results["ours_2_threads"]["photos_per_s"] / results["pillow_2_threads"]["photos_per_s"]
    server_ratio = (
        results["ours_async_pool_2_threads"]["photos_per_s"]
        / results["pillow_2_threads"]["photos_per_s"]
    )
    processes_vs_threads = round(
        results["ours_2_processes"]["photos_per_s"] / results["ours_2_threads"]["photos_per_s"], 3
    )
    heic = {
        "ms_per_photo": round(heic_wall / HEIC_PHOTOS * 1000, 1),
        "cpu_ms_per_photo": round(heic_cpu / HEIC_PHOTOS * 1000, 1),
    }
    figures = {
        "photo": PHONE_JPEG.name,
        "photo_bytes": len(data),
        "photo_size": original_size,
        "display_max_side": DISPLAY_MAX_SIDE,
        "thumb_max_side": THUMB_MAX_SIDE,
        "rounds": ROUNDS,
        "photos_per_round": PHOTOS_PER_ROUND,
        "results": results,
        "ours_vs_pillow_2_threads": round(ratio, 3),
        "async_pool_vs_pillow_2_threads": round(server_ratio, 3),
        "single_thread_cpu_overhead": round(
            results["ours_1_thread"]["cpu_ms_per_photo"]
            / results["pillow_1_thread"]["cpu_ms_per_photo"]
            - 1,
            3,
        ),
        "processes_vs_threads": processes_vs_threads,
        "budget_ratio": BUDGET_RATIO,
        "within_budget": min(ratio, server_ratio) >= BUDGET_RATIO,
        "heic_ours_1_thread": {"photo": IPHONE_HEIC.name, **heic},
        "load_average_at_start": load_average,
        "machine": {
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "platform": platform.platform(),
            "pillow": features.version("pil"),
            "libjpeg_turbo": features.version("libjpeg_turbo"),
            "pillow_heif": pillow_heif.__version__,
        },
    }

    print(f"{PHONE_JPEG.name} {original_size[0]}×{original_size[1]}, {len(data)} bytes")
    for name, stats in results.items():
        cpu_note = (
            f", CPU {stats['cpu_ms_per_photo']} ms/photo" if "cpu_ms_per_photo" in stats else ""
        )
        print(
            f"  {name:28s} {stats['photos_per_s']:6.2f} photos/s  {stats['ms_per_photo']:6.1f} "
            f"ms/photo (best {stats['best_photos_per_s']} photos/s){cpu_note}"
        )
    print(
        f"ours / Pillow alone, 2 threads: {ratio:.0%}; through the async pool: "
        f"{server_ratio:.0%} (budget ≥ {BUDGET_RATIO:.0%}); "
        f"processes / threads: {processes_vs_threads:.2f}"
    )
    print(
        f"ours on {IPHONE_HEIC.name}: {heic['ms_per_photo']} ms/photo "
        f"(CPU {heic['cpu_ms_per_photo']} ms)"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(f"written {RESULTS}")
    if not figures["within_budget"]:
        raise SystemExit("over budget")


if __name__ == "__main__":
    main()
