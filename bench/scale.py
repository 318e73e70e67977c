"""From one banner to a province: each part that grows with a province measured on this machine,
gathered into one file. Each part is a script of its own, runnable alone:

- numbering: 64 submitters across 8 counties, the case-number counter's old and new shape
  (bench/scale_numbering.py);
- locator: building the community locator at 60,000 communities and grids, and how long a
  locate waits while a boundary edit is applied (bench/locator_scale.py);
- sweep: the overdue sweep's idle pass at a million reports and its catch-up when every running
  clock falls due at once, beside the read it made before (bench/scale_sweep.py);
- sse: the CPU an API process spends on one live event with 10,000 open streams, through the
  index of streams and offering it to every stream (bench/sse.py);
- partitions: a case list's page at 24 monthly partitions: the partitions read, buffers and
  time with the cursor's bound on the partition key, without it, and on one plain table
  (bench/scale_partitions.py).

Run: .venv/bin/python bench/scale.py [--only PART]... [--skip PART]...
Writes bench/results/scale.json from the parts' own files (a part not run this time keeps the
figures of its last run, with that file's date).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
PARTS: dict[str, tuple[str, str]] = {
    "numbering": ("scale_numbering.py", "scale_numbering.json"),
    "locator": ("locator_scale.py", "locator_scale.json"),
    "sweep": ("scale_sweep.py", "scale_sweep.json"),
    "sse": ("sse.py", "sse.json"),
    "partitions": ("scale_partitions.py", "scale_partitions.json"),
}


def _gathered() -> dict[str, Any]:
    """Each part's figures from its file, with when it was measured: the date the file gives,
    else the file's time, or, for figures the last scale.json gathered already, the time it
    gave them (a checkout gives every file the time of the checkout)."""
    before_path = RESULTS / "scale.json"
    before: dict[str, Any] = json.loads(before_path.read_text()) if before_path.exists() else {}
    parts: dict[str, Any] = {}
    for name, (_, result) in PARTS.items():
        path = RESULTS / result
        if path.exists():
            figures = json.loads(path.read_text())
            # The run's own date where its file gives one; else the file's time.
            measured = figures.get("date") or dt.datetime.fromtimestamp(
                path.stat().st_mtime, dt.UTC
            ).isoformat(timespec="seconds")
            if name in before and before[name].get("figures") == figures:
                measured = before[name]["measured_at"]
            parts[name] = {
                "file": f"bench/results/{result}",
                "measured_at": measured,
                "figures": figures,
            }
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=sorted(PARTS), default=[])
    parser.add_argument("--skip", action="append", choices=sorted(PARTS), default=[])
    args = parser.parse_args()
    chosen = [p for p in PARTS if (not args.only or p in args.only) and p not in args.skip]
    for name in chosen:
        script = PARTS[name][0]
        print(f"== {name}: bench/{script}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, str(BENCH / script)], check=True)
    gathered = _gathered()
    (RESULTS / "scale.json").write_text(json.dumps(gathered, ensure_ascii=False, indent=2) + "\n")
    print(f"{len(gathered)} parts → bench/results/scale.json", file=sys.stderr)


if __name__ == "__main__":
    main()
