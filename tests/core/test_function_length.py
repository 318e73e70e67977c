"""No function in app/ runs over 60 lines, unless it says why.

A long function is usually several steps that read better as named helpers. Some are clearer
whole (one SQL statement built in one place, a list of registrations): those carry a comment on
the line just above their ``def`` (or above their first decorator) containing ``long:``, e.g.
``# long: one statement, read top to bottom``. Lines are counted from the ``def`` to the
function's last line, its docstring and comments included."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
MAX_LINES = 60
REASON_MARK = "long:"


def long_functions(source: str) -> list[tuple[int, str, int]]:
    """(line of the ``def``, name, length) of each function over MAX_LINES without a reason."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        if length <= MAX_LINES:
            continue
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        above = lines[first - 2].strip() if first >= 2 else ""
        if not (above.startswith("#") and REASON_MARK in above):
            found.append((node.lineno, node.name, length))
    return found


def test_no_function_is_long_without_a_reason() -> None:
    offenders = [
        f"app/{path.relative_to(APP).as_posix()}:{line} {name} ({length} lines)"
        for path in sorted(APP.rglob("*.py"))
        for line, name, length in long_functions(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, (
        f"Functions over {MAX_LINES} lines: split them into named helpers, or put a comment "
        f"with '{REASON_MARK}' and the reason on the line above the def (or its decorators):\n"
        + "\n".join(offenders)
    )


def test_the_reason_comment_is_read_above_the_decorators() -> None:
    body = "".join(f"    x = {i}\n" for i in range(MAX_LINES))
    plain = f"def f():\n{body}"
    assert [name for _, name, _ in long_functions(plain)] == ["f"]
    assert long_functions(f"# long: a list of registrations\n{plain}") == []
    decorated = f"# long: one statement\n@decorator\n@other(1)\nasync def g():\n{body}"
    assert long_functions(decorated) == []
    # A comment between the decorators and the def is not the one looked for.
    misplaced = f"@decorator\n# long: misplaced\nasync def g():\n{body}"
    assert [name for _, name, _ in long_functions(misplaced)] == ["g"]
    # A function of exactly MAX_LINES lines is allowed.
    assert long_functions(f"def h():\n{body[: body.rindex('    x')]}") == []
