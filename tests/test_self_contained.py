"""The repository stands on its own: no file in it refers to a path outside the checkout.

A clone into an empty folder must pass ``make test`` and run the README's examples, so nothing
may read or link a sibling folder (``../something``), a path on one machine (``/work/…``), or
climb above the repository root from ``__file__`` (a ``.parents[n]`` followed by ``.parent``).

Every file git tracks or would track (untracked but not ignored) is read; binary files are
skipped. Python files are parsed: each path built from ``__file__`` (or from a name assigned
such a path) is followed step by step, ``.parent``, ``.parents[n]``, ``os.path.dirname`` and
``/ ".."`` each climbing one level, and a path that climbs above the root is an escape. In other
text files, a relative ``../`` path that climbs above the root from the file's own folder is
one."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Spelled in pieces so that this file does not contain what it looks for.
SIBLING_FOLDER = ".." + "/shared"
MACHINE_PATH = re.compile(r"(?<![\w.:/-])/(?:" + "work|home|Users" + r")/[\w.-]")
RELATIVE_CLIMB = re.compile(r"(?<![\w.])((?:\.\./)+)(?=[\w.-])")
# Calls that make a path from their first argument, and those that return it unchanged.
PATH_CONSTRUCTORS = frozenset({"Path", "PurePath", "PosixPath", "PurePosixPath"})
SAME_LEVEL_METHODS = frozenset({"resolve", "absolute", "expanduser"})
SAME_LEVEL_FUNCTIONS = frozenset({"abspath", "realpath", "normpath"})


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def repository_files() -> list[str]:
    """Files git tracks, and new ones it would track (so a file is caught before its commit)."""
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    listed = subprocess.run(
        [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return sorted({name for name in listed.split("\0") if name and (ROOT / name).is_file()})


def text_of(data: bytes) -> str | None:
    """The file's text, or None for a binary file (a photo, a compiled file)."""
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def text_escapes(path: str, text: str) -> list[Finding]:
    """A sibling folder, a machine's absolute path, or a relative path climbing above the root
    from the file's folder. Python files are left to ``python_escapes`` for the last: their
    relative strings are test inputs as often as paths (``"../../etc/passwd.jpg"``)."""
    findings = []
    for match in re.finditer(re.escape(SIBLING_FOLDER), text):
        findings.append(Finding(path, _line_of(text, match.start()), "a folder beside the clone"))
    for match in MACHINE_PATH.finditer(text):
        where = _line_of(text, match.start())
        findings.append(Finding(path, where, f"a path on one machine: {match.group()}…"))
    if not path.endswith(".py"):
        depth = len(PurePosixPath(path).parts) - 1
        for match in RELATIVE_CLIMB.finditer(text):
            if match.group(1).count("../") > depth:
                where = _line_of(text, match.start())
                findings.append(Finding(path, where, "a relative path above the repository root"))
    return findings


class _PathLevels:
    """How many folders below the repository root each path expression of a module points.

    The file itself is at ``len(parts)`` (``tests/test_x.py``: 2), the root at 0. A level
    below 0 is an escape. Unknown expressions have no level (None)."""

    def __init__(self, path: str, tree: ast.Module) -> None:
        self.path = path
        self.file_level = len(PurePosixPath(path).parts)
        self.assigned: dict[str, ast.expr] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, ast.Name):
                self.assigned[target.id] = value
        self.escapes: set[int] = set()

    def _climb(self, level: int | None, steps: int, node: ast.AST) -> int | None:
        if level is None:
            return None
        level -= steps
        if level < 0:
            self.escapes.add(getattr(node, "lineno", 0))
        return level

    def _join(self, level: int | None, part: ast.expr, node: ast.AST) -> int | None:
        if level is None:
            return None
        if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
            return level + 1  # a name joined on: one folder or file deeper
        if part.value.startswith("/"):
            return None  # an absolute path: not relative to this one
        for piece in part.value.split("/"):
            if piece == "..":
                level = self._climb(level, 1, node)
                if level is None:
                    return None
            elif piece not in ("", "."):
                level += 1
        return level

    def level(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> int | None:
        if isinstance(node, ast.Name):
            if node.id == "__file__":
                return self.file_level
            if node.id in self.assigned and node.id not in seen:
                return self.level(self.assigned[node.id], seen | {node.id})
            return None
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            return self._climb(self.level(node.value, seen), 1, node)
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "parents"
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, int)
            and node.slice.value >= 0
        ):
            return self._climb(self.level(node.value.value, seen), node.slice.value + 1, node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return self._join(self.level(node.left, seen), node.right, node)
        if isinstance(node, ast.Call):
            return self._call_level(node, seen)
        return None

    def _call_level(self, node: ast.Call, seen: frozenset[str]) -> int | None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in PATH_CONSTRUCTORS and node.args:
            first = node.args[0]
            # A relative string is relative to the working directory: the root, for every
            # command of the Makefile and the README.
            level = self._join(0, first, node) if isinstance(first, ast.Constant) else None
            level = self.level(first, seen) if level is None else level
            for part in node.args[1:]:
                level = self._join(level, part, node)
            return level
        if isinstance(func, ast.Attribute) and name in SAME_LEVEL_METHODS:
            return self.level(func.value, seen)
        if isinstance(func, ast.Attribute) and name == "joinpath":
            level = self.level(func.value, seen)
            for part in node.args:
                level = self._join(level, part, node)
            return level
        if name == "dirname" and node.args:
            return self._climb(self.level(node.args[0], seen), 1, node)
        if name in SAME_LEVEL_FUNCTIONS and node.args:
            return self.level(node.args[0], seen)
        is_os_path_join = (
            name == "join"
            and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "path"
        )
        if is_os_path_join and node.args:
            level = self.level(node.args[0], seen)
            for part in node.args[1:]:
                level = self._join(level, part, node)
            return level
        return None


def python_escapes(path: str, source: str) -> list[Finding]:
    """Paths built from ``__file__`` (directly or through a name) that climb above the root."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # a template or a fragment, not a module: the text checks cover it
    levels = _PathLevels(path, tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.expr):
            levels.level(node)
    return [Finding(path, line, "a path above the repository root") for line in levels.escapes]


def escapes(path: str, text: str) -> list[Finding]:
    found = text_escapes(path, text)
    if path.endswith(".py"):
        found += python_escapes(path, text)
    return sorted(set(found))


def test_no_file_of_the_repository_refers_to_a_path_outside_it() -> None:
    files = repository_files()
    assert "README.md" in files
    assert "tests/test_self_contained.py" in files
    findings = []
    for name in files:
        text = text_of((ROOT / name).read_bytes())
        if text is not None:
            findings += escapes(name, text)
    assert not findings, "Paths outside the repository:\n" + "\n".join(map(str, findings))


# What the scan must catch: each line as it once was in this repository, or a close variant.
# The climbing step is joined in, so that this file does not itself read as an escape.
UP = ".par" + "ent"
ESCAPING = [
    (
        "tests/reports/conftest.py",
        "PHOTOS = Path(__file__).resolve().parents[2]" + UP + ' / "data" / "photos"\n',
    ),
    (
        "bench/photo_pillow.py",
        "PHOTOS = Path(__file__).resolve().parents[1]" + UP + ' / "data" / "photos"\n',
    ),
    (
        "bench/intake.py",
        "ROOT = Path(__file__).resolve().parents[1]\n"
        "PHOTO = ROOT" + UP + ' / "data" / "photos" / "HMD_Nokia_8.3_5G.jpg"\n',
    ),
    ("bench/locate.py", "sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))\n"),
    (
        "app/core/paths.py",
        "HERE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))\n",
    ),
    ("tests/x/test_y.py", 'DATA = Path(__file__).parents[2] / ".." / "data"\n'),
    ("tests/x/test_y.py", 'DATA = Path(__file__).parent.joinpath("../../../data")\n'),
    ("app/cli.py", 'SAMPLES = Path("../samples")\n'),
    ("README.md", "       -F photos=@" + SIBLING_FOLDER + "/data/photos/HMD_Nokia_8.3_5G.jpg\n"),
    ("README.md", "The contract is `" + SIBLING_FOLDER + "/docs/API.md`.\n"),
    ("docs/api.md", "See [the design](../../design.md).\n"),
    ("Makefile", "DATA := ../data\n"),
    ("tests/test_z.py", 'PHOTOS = "' + "/" + "work/shared/data/photos" + '"\n'),
]

# What it must let through: paths that stay inside, and strings that are not paths.
STAYING = [
    ("tests/reports/conftest.py", 'P = Path(__file__).resolve().parents[1] / "fixtures"\n'),
    ("tests/integrations/test_worker.py", "ROOT = Path(__file__).resolve().parents[2]\n"),
    ("app/core/migrations.py", "PROJECT_ROOT = Path(__file__).resolve().parents[2]\n"),
    ("bench/locate.py", "sys.path.insert(0, str(Path(__file__).resolve().parent.parent))\n"),
    ("app/core/paths.py", "HERE = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))\n"),
    ("tests/photos/test_storage.py", 'BAD_KEYS = ["../outside.jpg", "2026/../../x.jpg"]\n'),
    ("docs/api.md", "Back to [the README](../README.md).\n"),
    (".ci/run", 'cd "$(dirname "$0")/.."\n'),
    ("Dockerfile", "WORKDIR /srv/suishoupai\n"),
    ("README.md", "See https://example.cn/work/items and `tests/fixtures/photos/x.jpg`.\n"),
]


@pytest.mark.parametrize(("path", "text"), ESCAPING)
def test_the_scan_finds_a_path_outside_the_repository(path: str, text: str) -> None:
    assert escapes(path, text)


@pytest.mark.parametrize(("path", "text"), STAYING)
def test_the_scan_lets_paths_inside_the_repository_through(path: str, text: str) -> None:
    assert escapes(path, text) == []


def test_the_old_photo_folder_is_reported_with_its_file_and_line() -> None:
    source = "import pathlib\n\nX = pathlib.Path(__file__).parents[1]" + UP + "\n"
    assert [str(f) for f in escapes("tests/test_a.py", source)] == [
        "tests/test_a.py:3: a path above the repository root"
    ]
