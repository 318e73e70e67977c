"""No module of the service grows past 400 lines: one that does holds more than one room, and
the part with a name of its own moves out (as intake's submission checks and routing did)."""

from __future__ import annotations

from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
MAX_LINES = 400


def test_no_module_in_app_is_longer_than_400_lines() -> None:
    long = {
        path.relative_to(APP.parent).as_posix(): count
        for path in APP.rglob("*.py")
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
