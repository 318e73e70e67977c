"""Error titles and details follow Accept-Language: Chinese when the client prefers it, English
otherwise (and without the header, as before); ``code``, ``type``, ``status`` and ``errors[].loc``
never change.

The catalogues stay complete because this module reads the source: every code a problem can
carry needs a Chinese title, and every English text written where an error is raised needs a
Chinese entry in app/core/messages_zh.py (titles) or messages_zh_details.py (details)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import httpx
import pytest

from app.core import errors as errors_module
from app.core.language import negotiate
from app.core.messages import (
    DetailCatalogue,
    error_language,
    placeholders,
    problem_text,
    problem_title,
    validation_summary,
)
from app.core.messages_zh import PARTS, TITLES
from app.core.messages_zh_details import DETAILS
from tests.conftest import LoginFn

APP = Path(__file__).resolve().parents[2] / "app"
CJK = re.compile(r"[\u4e00-\u9fff]")

# Exceptions whose text becomes a problem's detail by another way than a constructor's message
# argument: a domain error made from ``str(exc)`` or ``exc.public`` of these. Their subclasses
# count too. A root that disappears fails the test, so a rename is noticed.
FEEDER_ROOTS = {"TransitionRefused": "message", "InvalidToken": None, "TargetRefused": "public"}
# Functions whose returned text, or an argument's, ends up inside a detail.
RETURNED_TEXT = frozenset({"control_character_problem", "why_not_claimable"})
NESTED_ARGUMENTS = {"check_actor": "what"}
MESSAGE_PARAMETERS = ("detail", "message", "msg", "public")
# Details built from other texts at run time, each of which the scan reaches where it is
# written: messages of the exceptions above, field errors joined together.
COMPOSED = re.compile(r"^(str\(\w+\)|\w+\.public|.*\.join\(.*|summary)$")
# Where problems are rendered from what the handlers caught.
RENDERING = "app/core/errors.py:"


@dataclass
class Scan:
    texts: dict[str, list[str]] = field(default_factory=dict)  # template → where
    unresolved: list[str] = field(default_factory=list)
    codes: set[str] = field(default_factory=set)
    roots_seen: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)

    def add(self, text: str, where: str) -> None:
        self.texts.setdefault(text, []).append(where)


FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class _Class:
    node: ast.ClassDef
    parent: str | None


def _trees() -> dict[Path, ast.Module]:
    return {
        path: ast.parse(path.read_text(encoding="utf-8"), str(path))
        for path in sorted(APP.rglob("*.py"))
    }


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _templates(node: ast.expr) -> list[str] | None:
    """The texts an expression can give, each a template with ``{}`` for every part only known
    at run time (literal braces doubled); None when it is not written out here."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value.replace("{", "{{").replace("}", "}}")]
    if isinstance(node, ast.Constant) and node.value is None:
        return []
    if isinstance(node, ast.BoolOp):  # `detail or f"..."`: the parts written out here
        known = [_templates(value) for value in node.values]
        if all(texts is None for texts in known):
            return None
        return [text for texts in known for text in texts or []]
    if isinstance(node, ast.JoinedStr):
        text = ""
        for value in node.values:
            if isinstance(value, ast.Constant):
                text += str(value.value).replace("{", "{{").replace("}", "}}")
            else:
                text += "{}"
        return [text]
    if isinstance(node, ast.IfExp):
        body, orelse = _templates(node.body), _templates(node.orelse)
        return None if body is None or orelse is None else body + orelse
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _templates(node.left), _templates(node.right)
        if left is None and right is None:
            return None
        return [a + b for a in (left or ["{}"]) for b in (right or ["{}"])]
    return None


class _Scanner:
    def __init__(self) -> None:
        self.trees = _trees()
        self.scan = Scan()
        # One walk of every file: each node with the function and the class it is in, module
        # constants, functions and classes by name, calls by the name they call.
        self.nodes: list[tuple[str, ast.AST, FunctionNode | None, str | None]] = []
        self.constants: dict[str, list[ast.expr]] = {}
        self.functions: dict[str, list[FunctionNode]] = {}
        self.classdefs: list[ast.ClassDef] = []
        self.calls: dict[str, list[tuple[ast.Call, FunctionNode | None]]] = {}
        for path, tree in self.trees.items():
            for statement in tree.body:
                for target, value in _assignments(statement):
                    self.constants.setdefault(target, []).append(value)
            self._visit(str(path.relative_to(APP.parent)), tree, None, None)
        self.classes = self._classes()

    def _visit(
        self, path: str, node: ast.AST, function: FunctionNode | None, owner: str | None
    ) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            self.functions.setdefault(node.name, []).append(node)
            function = node
        if isinstance(node, ast.ClassDef):
            self.classdefs.append(node)
            owner = node.name
        if isinstance(node, ast.Call) and (callee := _name(node.func)) is not None:
            self.calls.setdefault(callee, []).append((node, function))
        self.nodes.append((path, node, function, owner))
        for child in ast.iter_child_nodes(node):
            self._visit(path, child, function, owner)

    def _classes(self) -> dict[str, _Class]:
        """Domain errors, HTTP exceptions and the feeders, with the class each extends."""
        found: dict[str, _Class] = {}
        roots = {"DomainError", *FEEDER_ROOTS}
        for node in self.classdefs:
            if node.name in roots:
                found[node.name] = _Class(node, None)
                self.scan.roots_seen.add(node.name)
        grown = True
        while grown:
            grown = False
            for node in self.classdefs:
                parent = next((b for b in map(_name, node.bases) if b in found), None)
                if node.name not in found and parent is not None:
                    found[node.name] = _Class(node, parent)
                    grown = True
        return found

    def message_parameter(self, name: str) -> tuple[int | None, str | None]:
        """Where a constructor takes its message: position (without self) and name."""
        if name in ("HTTPException", "StarletteHTTPException"):
            return 1, "detail"
        known = self.classes[name]
        init = next(
            (
                item
                for item in known.node.body
                if isinstance(item, ast.FunctionDef) and item.name == "__init__"
            ),
            None,
        )
        if init is None:
            if known.parent is None:  # a root that keeps Exception's constructor
                return 0, None
            return self.message_parameter(known.parent)
        positional = [a.arg for a in [*init.args.posonlyargs, *init.args.args][1:]]
        for index, parameter in enumerate(positional):
            if parameter in MESSAGE_PARAMETERS:
                return index, parameter
        keyword = next((a.arg for a in init.args.kwonlyargs if a.arg in MESSAGE_PARAMETERS), None)
        return None, keyword

    def run(self) -> Scan:
        for path, node, function, owner in self.nodes:
            where = f"{path}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.ClassDef) and node.name in self.classes:
                self._class_body(node, path)
            returned = node.value if isinstance(node, ast.Return) else None
            if returned is not None and function is not None and function.name in RETURNED_TEXT:
                self._add(returned, where, "return", [])
            if isinstance(node, ast.Call):
                self._call(node, where, function, owner)
        self.scan.functions = set(self.functions)
        return self.scan

    def _class_body(self, node: ast.ClassDef, where_file: str) -> None:
        for statement in node.body:
            for target, value in _assignments(statement):
                if target == "code" and isinstance(value, ast.Constant):
                    self.scan.codes.add(str(value.value))
            if isinstance(statement, ast.FunctionDef) and statement.name == "__init__":
                arguments = statement.args
                defaults = zip(
                    reversed([*arguments.posonlyargs, *arguments.args]),
                    reversed(arguments.defaults),
                    strict=False,
                )
                for argument, default in defaults:
                    if argument.arg in MESSAGE_PARAMETERS and default is not None:
                        self._add(default, f"{where_file}:{default.lineno}", node.name, [])

    def _call(
        self, node: ast.Call, where: str, function: FunctionNode | None, owner: str | None
    ) -> None:
        callee = _name(node.func)
        scopes = [function] if function is not None else []
        position: int | None = None
        keyword: str | None = None
        if callee in self.classes or callee in ("HTTPException", "StarletteHTTPException"):
            assert callee is not None
            position, keyword = self.message_parameter(callee)
        elif (
            callee == "at"
            and isinstance(node.func, ast.Attribute)
            and _name(node.func.value) in self.classes
        ):
            position, keyword = 1, "msg"
        elif callee == "__init__" and isinstance(node.func, ast.Attribute):
            if _name(node.func.value) is None and owner in self.classes:
                parent = self.classes[owner].parent
                if parent is not None:
                    position, keyword = self.message_parameter(parent)
        elif callee == "FieldError":
            keyword = "msg"
        elif callee in NESTED_ARGUMENTS:
            keyword = NESTED_ARGUMENTS[callee]
            position = _parameter_index(self.functions.get(callee, []), keyword)
        elif callee == "problem_response":
            position, keyword = 4, "detail"
            code = node.args[2] if len(node.args) > 2 else None
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                self.scan.codes.add(code.value)
        else:
            return
        arguments = (
            [node.args[position]] if position is not None and position < len(node.args) else []
        )
        arguments += [k.value for k in node.keywords if keyword and k.arg == keyword]
        for argument in arguments:
            self._add(argument, where, callee or "?", scopes)

    def _add(
        self,
        expression: ast.expr,
        where: str,
        callee: str,
        scopes: list[FunctionNode],
        depth: int = 0,
    ) -> None:
        texts = _templates(expression)
        if texts is not None:
            for text in texts:
                self.scan.add(text, where)
            return
        if isinstance(expression, ast.Name) and depth < 3:
            values = [
                value
                for scope in scopes
                for statement in ast.walk(scope)
                for target, value in _assignments(statement)
                if target == expression.id
            ] or self.constants.get(expression.id, [])
            if values:
                for value in values:
                    self._add(value, where, callee, scopes, depth + 1)
                return
            # A parameter of the enclosing function: what its callers pass (a constructor's:
            # its callers are scanned as such).
            for scope in scopes:
                index = _parameter_index([scope], expression.id)
                if index is None:
                    continue
                if scope.name == "__init__":
                    return
                for call, caller in self.calls.get(scope.name, []):
                    passed = [call.args[index]] if index < len(call.args) else []
                    passed += [k.value for k in call.keywords if k.arg == expression.id]
                    for value in passed:
                        self._add(value, where, callee, [caller] if caller else [], depth + 1)
                return
        called = expression.value if isinstance(expression, ast.Await) else expression
        if isinstance(called, ast.Call) and _name(called.func) in RETURNED_TEXT:
            return
        text = ast.unparse(expression)
        if not COMPOSED.match(text) and not where.startswith(RENDERING):
            self.scan.unresolved.append(f"{where}: {callee}({text})")


def _assignments(statement: ast.AST) -> Iterator[tuple[str, ast.expr]]:
    if isinstance(statement, ast.Assign):
        for target in statement.targets:
            if isinstance(target, ast.Name):
                yield target.id, statement.value
            elif isinstance(target, ast.Tuple) and isinstance(statement.value, ast.Tuple):
                for name, value in zip(target.elts, statement.value.elts, strict=False):
                    if isinstance(name, ast.Name):
                        yield name.id, value
    elif (
        isinstance(statement, ast.AnnAssign)
        and statement.value is not None
        and isinstance(statement.target, ast.Name)
    ):
        yield statement.target.id, statement.value


def _parameter_index(functions: list[FunctionNode], name: str) -> int | None:
    for function in functions:
        parameters = [a.arg for a in [*function.args.posonlyargs, *function.args.args]]
        if name in parameters:
            return parameters.index(name)
    return None


_SCAN: Scan | None = None


def _scan() -> Scan:
    global _SCAN
    if _SCAN is None:
        _SCAN = _Scanner().run()
    return _SCAN


def _needs_words(template: str) -> bool:
    """Whether a template has words to translate (``{}: {}`` only joins other texts)."""
    return bool(re.search(r"[A-Za-z]", template.replace("{}", "")))


# The catalogues are complete: read from the source.


def test_the_scan_finds_what_it_relies_on() -> None:
    scan = _scan()
    assert scan.roots_seen == {"DomainError", *FEEDER_ROOTS}, "a message source was renamed"
    assert RETURNED_TEXT | set(NESTED_ARGUMENTS) <= scan.functions
    assert len(scan.texts) > 150


def test_every_code_a_problem_can_carry_has_a_chinese_title() -> None:
    codes = _scan().codes | set(errors_module._HTTP_CODES.values()) | {"error"}
    assert sorted(codes - TITLES.keys()) == [], "add them to TITLES in app/core/messages_zh.py"
    assert sorted(TITLES.keys() - codes) == [], "codes no problem carries any more"
    for code, title in TITLES.items():
        assert CJK.search(title), code


def test_every_error_text_written_in_the_source_has_a_chinese_entry() -> None:
    scan = _scan()
    missing = {
        text: where
        for text, where in scan.texts.items()
        if _needs_words(text) and text not in DETAILS and text not in PARTS
    }
    assert missing == {}, (
        "add these English texts (as written, {} for each value) to DETAILS in "
        "app/core/messages_zh_details.py"
    )


def test_every_error_text_can_be_read_from_the_source() -> None:
    """A detail made from a variable or a call the scan cannot follow could miss its entry
    unnoticed: write the text where the error is raised, or teach the scan where it comes
    from."""
    assert _scan().unresolved == []


@pytest.mark.parametrize("english", sorted({**DETAILS, **PARTS}))
def test_each_chinese_entry_keeps_every_value(english: str) -> None:
    chinese = {**DETAILS, **PARTS}[english]
    assert CJK.search(chinese), english
    values = placeholders(english)
    assert all(name == "" and spec == "" for name, spec in values), english
    fields = placeholders(chinese)
    assert all(name.isdigit() and spec in ("", "msg") for name, spec in fields), chinese
    assert {int(name) for name, _ in fields} == set(range(len(values))), (english, chinese)


def test_each_entry_is_the_one_its_texts_find() -> None:
    """No other template takes a text written from an entry: each, its values filled in,
    reads as its own Chinese with the same values."""
    assert DETAILS.keys().isdisjoint(PARTS)
    catalogue = DetailCatalogue(DETAILS, PARTS)
    inner = "the file is not an image"  # for a value that is a message
    for entries, is_part in ((DETAILS, False), (PARTS, True)):
        for english, chinese in entries.items():
            values = [
                inner if f"{{{index}:msg}}" in chinese else f"v{index}"
                for index in range(len(placeholders(english)))
            ]
            expected = chinese.replace(":msg}", "}").format(
                *[DETAILS[inner] if value == inner else value for value in values]
            )
            text = english.format(*values)
            assert catalogue.translate(text, inner=is_part) == expected, english


# How texts are matched.

CATALOGUE = DetailCatalogue(
    {
        "No such report": "未找到该上报",
        "No such {}": "未找到：{0}",
        "No such unit": "未找到该单位",
        "{} is in use": "{0} 仍在使用中",
        "cannot {} a report that is {}": "上报当前为 {1} 状态，不能执行 {0}",
        "the {} and the {}": "{1} 与 {0}",
        "only {} may {}": "只有 {0} 可以{1:msg}",
        "photo {} ({}): {}": "照片 {0}（{1}）：{2:msg}",
        "the file is not an image": "该文件不是图片",
        "braces {{ {} }}": "括号 {{ {0} }}",
    },
    {"{} this report": "对此上报执行 {0}"},
)


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("No such report", "未找到该上报"),
        ("No such unit", "未找到该单位"),  # a written-out text before the template
        ("No such grid", "未找到：grid"),
        ("东街社区 is in use", "东街社区 仍在使用中"),
        ("cannot whistle a report that is closed", "上报当前为 closed 状态，不能执行 whistle"),
        # Values are carried over exactly, whatever they hold.
        ("{x} is in use", "{x} 仍在使用中"),
        ("'a\\nb' is in use", "'a\\nb' 仍在使用中"),
        ("braces { 7 }", "括号 { 7 }"),
        # A value that is a message in its own right is translated too.
        (
            "only community_staff may accept this report",
            "只有 community_staff 可以对此上报执行 accept",
        ),
        ("photo 0 (a.jpg): the file is not an image", "照片 0（a.jpg）：该文件不是图片"),
        # Messages joined by the raise site, each perhaps after its field.
        (
            "No such report; body.photos.1: the file is not an image",
            "未找到该上报；body.photos.1：该文件不是图片",
        ),
    ],
)
def test_texts_and_templates(english: str, chinese: str) -> None:
    assert CATALOGUE.translate_joined(english) == chinese


@pytest.mark.parametrize(
    "english",
    [
        "Something nobody wrote",
        "Report not found",
        # Two ways to split the values: "the a and the b and the c".
        "the a and the b and the c",
        # One part unknown: the whole stays in English, not half translated.
        "No such report; something else",
        # A value does not swallow the next message.
        "x; y is in use",
        # A part of other messages is not a message of its own.
        "accept this report",
    ],
)
def test_what_is_not_known_for_certain_stays_english(english: str) -> None:
    assert CATALOGUE.translate_joined(english) is None
    assert problem_text(english, "zh-CN") == english


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        (
            "photo 0 (IMG 1.jpg): corrupted: the image data is damaged or incomplete: broken "
            "data stream when reading image file",
            "照片 0（IMG 1.jpg）：corrupted：图像数据已损坏或不完整：broken data stream when "
            "reading image file",
        ),
        (
            "photo 0 (a.jpg): not_an_image: the file is not an image; photo 2 (b.heic): "
            "unsupported_format: AVIF images are not accepted; send JPEG, PNG, WebP or HEIC/HEIF",
            "照片 0（a.jpg）：not_an_image：该文件不是图片；照片 2（b.heic）：unsupported_format："
            "不接受 AVIF 图片；请发送 JPEG、PNG、WebP 或 HEIC/HEIF",
        ),
        (
            "2 bad day(s); nothing was changed: days[0]: 2025-12-31 is not in 2026; days[3]: "
            "duplicate date 2026-01-01 (first at 1)",
            "2 个日期有误，未作任何更改：days[0]：2025-12-31 不在 2026 年内；days[3]：日期 "
            "2026-01-01 重复（首次出现在第 1 项）",
        ),
        (
            "only community_staff, supervisor may whistle this report",
            "只有 community_staff, supervisor 可以对此上报执行 whistle",
        ),
        (
            "unit 旗交通运输局 (9b1c…) is not paired with this community for chaotic_parking and "
            "outside your region",
            "单位 旗交通运输局（9b1c…）未与本社区就 chaotic_parking 类别结对，且不在您的辖区内",
        ),
        ("body.note: control characters are not allowed (U+0000 at position 3)", None),
        (
            "body.note: control characters are not allowed (U+0000 at position 3); query.q: "
            "control characters are not allowed (U+001B at position 0)",
            "body.note：不允许包含控制字符（位置 3 处有 U+0000）；query.q：不允许包含控制字符"
            "（位置 0 处有 U+001B）",
        ),
    ],
)
def test_details_the_service_puts_together(english: str, chinese: str | None) -> None:
    expected = chinese or "body.note：不允许包含控制字符（位置 3 处有 U+0000）"
    assert problem_text(english, "zh-CN") == expected


def test_english_is_left_as_written() -> None:
    assert problem_text("No such report", "en") == "No such report"
    assert problem_title("not_found", "Not found", "en") == "Not found"
    assert problem_title("not_found", "Not found", "zh-CN") == "未找到"


def test_the_chinese_detail_of_a_request_of_the_wrong_shape() -> None:
    summary = validation_summary(
        [
            (["body", "priority"], "enum", {"expected": "'low' or 'high'"}),
            (["query", "limit"], "less_than_equal", {"le": 100}),
            (["body", "x"], "some_new_type", None),
            ([], "json_invalid", {"error": "Expecting value"}),
        ]
    )
    assert summary == (
        "body.priority：应为以下之一：'low' or 'high'；query.limit：应不大于 100；"
        "body.x：取值不正确；不是有效的 JSON"
    )


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("zh-CN", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-TW,zh;q=0.9", "zh-CN"),
        ("en-US,en;q=0.9", "en"),
        ("fr, de;q=0.5", "en"),  # neither: English, as before
        ("*", "en"),
        ("en;q=0.4, zh-CN;q=0.9", "zh-CN"),
        ("zh-CN;q=0.4, en;q=0.9", "en"),
        ("zh-CN;q=0, *", "en"),
        ("fr, zh;q=0.1", "zh-CN"),
    ],
)
def test_the_language_of_errors(header: str | None, language: str) -> None:
    assert error_language(header) == language
    # /labels keeps its own default: Chinese.
    if not header or header in ("*", "fr, de;q=0.5"):
        assert negotiate(header) == "zh-CN"


# Real requests.

MISSING = "00000000-0000-4000-8000-000000000000"
PHOTO = Path(__file__).resolve().parents[1] / "fixtures" / "photos" / "Canon_40D.jpg"


def _in(language: str | None) -> dict[str, str]:
    return {"Accept-Language": language} if language else {}


def _problem(response: httpx.Response, status: int, language: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["content-language"] == language
    assert "Accept-Language" in response.headers["vary"]
    problem: dict[str, Any] = response.json()
    assert problem["type"] == f"https://suishoupai.cn/problems/{problem['code']}"
    assert problem["status"] == status
    return problem


async def _report(client: httpx.AsyncClient, login: LoginFn) -> str:
    response = await client.post(
        "/api/v1/reports",
        data={
            "category_code": "chaotic_parking",
            "description": "巷口乱停车，消防车进不去",
            "lat": "40.8436",
            "lng": "107.1499",
        },
        files=[("photos", ("p.jpg", PHOTO.read_bytes(), "image/jpeg"))],
        headers=await login("courier1"),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.parametrize(
    ("header", "language", "title", "detail"),
    [
        ("zh-CN", "zh-CN", "未找到", "未找到该上报"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN", "未找到", "未找到该上报"),
        ("en", "en", "Not found", "No such report"),
        (None, "en", "Not found", "No such report"),
        ("fr-FR", "en", "Not found", "No such report"),
        ("en;q=0.3, zh;q=0.7", "zh-CN", "未找到", "未找到该上报"),
        ("zh;q=0.3, en;q=0.7", "en", "Not found", "No such report"),
    ],
)
async def test_a_missing_report(
    client: httpx.AsyncClient,
    login: LoginFn,
    header: str | None,
    language: str,
    title: str,
    detail: str,
) -> None:
    response = await client.get(
        f"/api/v1/reports/{MISSING}", headers={**await login("staff1"), **_in(header)}
    )
    problem = _problem(response, 404, language)
    assert (problem["code"], problem["title"], problem["detail"]) == ("not_found", title, detail)


async def test_an_action_the_status_does_not_allow(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    report = await _report(client, login)
    staff = await login("staff1")
    answers = {
        language: await client.post(
            f"/api/v1/reports/{report}/resume", json={}, headers={**staff, **_in(language)}
        )
        for language in ("zh-CN", "en", None)
    }
    chinese = _problem(answers["zh-CN"], 409, "zh-CN")
    english = _problem(answers["en"], 409, "en")
    assert _problem(answers[None], 409, "en") == {**english, "request_id": ANY}
    assert chinese["code"] == english["code"] == "invalid_transition"
    assert chinese["title"] == "当前状态不允许此操作"
    assert chinese["detail"] == "上报当前为 submitted 状态，不能执行 resume"
    assert english["title"] == "Action not allowed in this status"
    assert english["detail"] == "cannot resume a report that is submitted"


async def test_a_body_of_the_wrong_shape(client: httpx.AsyncClient, login: LoginFn) -> None:
    report = await _report(client, login)
    staff = await login("staff1")
    answers = {
        language: await client.post(
            f"/api/v1/reports/{report}/accept",
            json={"priority": "whenever"},
            headers={**staff, **_in(language)},
        )
        for language in ("zh-CN", "en")
    }
    chinese, english = _problem(answers["zh-CN"], 422, "zh-CN"), _problem(answers["en"], 422, "en")
    assert chinese["code"] == english["code"] == "validation_error"
    assert (chinese["title"], english["title"]) == ("输入有误", "Invalid input")
    assert str(chinese["detail"]).startswith("body.priority：应为以下之一：")
    assert str(english["detail"]).startswith("body.priority: Input should be")
    # The fields named are the same; pydantic's own messages stay as they are.
    assert chinese["errors"] == english["errors"]


async def test_a_field_refused_by_the_service(client: httpx.AsyncClient, login: LoginFn) -> None:
    staff = await login("staff1")
    answers = {
        language: await client.get(
            "/api/v1/reports?cursor=not-a-cursor", headers={**staff, **_in(language)}
        )
        for language in ("zh-CN", "en")
    }
    chinese, english = _problem(answers["zh-CN"], 422, "zh-CN"), _problem(answers["en"], 422, "en")
    assert chinese["code"] == english["code"] == "invalid_cursor"
    assert chinese["title"] == "分页游标无效"
    assert str(chinese["detail"]).startswith("此游标不是由本列表")
    assert [e["loc"] for e in chinese["errors"]] == [e["loc"] for e in english["errors"]]
    assert chinese["errors"] == [{"loc": ["query", "cursor"], "msg": chinese["detail"]}]


@pytest.mark.parametrize(
    ("header", "language", "detail"),
    [
        ("zh-CN", "zh-CN", "请先登录：发送 `Authorization: Bearer <token>`"),
        (None, "en", "Sign in first: send `Authorization: Bearer <token>`"),
    ],
)
async def test_not_signed_in(
    client: httpx.AsyncClient, header: str | None, language: str, detail: str
) -> None:
    response = await client.get("/api/v1/me", headers=_in(header))
    problem = _problem(response, 401, language)
    assert problem["code"] == "unauthorized"
    assert problem["detail"] == detail
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_method_the_path_does_not_answer(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/labels", headers=_in("zh-CN"))
    problem = _problem(response, 405, "zh-CN")
    assert problem["code"] == "method_not_allowed"
    assert problem["title"] == "不支持该请求方法"
    assert (
        problem["detail"]
        == f"/api/v1/labels 不支持 DELETE 请求；支持的方法为 {response.headers['allow']}"
    )


async def test_the_document_says_which_language_an_error_is_in(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    header = document["components"]["headers"]["Content-Language"]
    assert header["schema"]["enum"] == ["zh-CN", "en"]
    problems = [
        response
        for operations in document["paths"].values()
        for operation in operations.values()
        for response in operation["responses"].values()
        if "application/problem+json" in response.get("content", {})
    ]
    assert problems
    reference = {"$ref": "#/components/headers/Content-Language"}
    assert all(response["headers"]["Content-Language"] == reference for response in problems)
