"""One rule for all text a request carries: no control characters.

PostgreSQL refuses U+0000 in text (a 500, and the connection was dropped after it), and other
control characters have no place in a description, a name or a search term: they hide text in
consoles and logs (C1's U+009B starts a terminal escape sequence like ESC [ does) and break
exports. Tab, line feed and carriage return stay allowed: descriptions and comments have lines.
Lone surrogates (U+D800–U+DFFF, which JSON's ``\\ud800`` escapes can carry) are no characters at
all and cannot be stored as UTF-8, so they are refused by the same rule.

The rule runs as an application-wide dependency over what FastAPI has already decoded: path and
query parameters, form fields and every string (and key) of a JSON body, before any endpoint or
other dependency sees them. So a new field, form or query parameter is covered without being
declared with a special type. Header values cannot carry C0 characters (the HTTP servers refuse
them); the one header the service stores, ``Idempotency-Key``, must be printable."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi import Request

from app.core.errors import FieldError, ValidationFailed

# C0 except tab, line feed and carriage return; DEL; C1; lone surrogates.
CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
MAX_REPORTED = 20


def control_character_problem(text: str) -> str | None:
    """Why ``text`` is refused, or None when it is fine."""
    found = CONTROL_CHARACTER.search(text)
    if found is None:
        return None
    return (
        f"control characters are not allowed (U+{ord(found.group()):04X} at position "
        f"{found.start()})"
    )


def _json_strings(value: Any, loc: list[str | int]) -> Iterator[tuple[list[str | int], str]]:
    """Every string of a decoded JSON document, object keys included, with where it is."""
    stack: list[tuple[Any, list[str | int]]] = [(value, loc)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key in item:
                yield [*where, key], key
            # Pushed last first, so that fields are named in the order they were sent.
            stack.extend((item[key], [*where, key]) for key in reversed(item))
        elif isinstance(item, list):
            stack.extend((item[i], [*where, i]) for i in reversed(range(len(item))))


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def _request_texts(request: Request) -> list[tuple[list[str | int], str]]:
    texts: list[tuple[list[str | int], str]] = []
    for name, value in request.path_params.items():
        texts.append((["path", name], str(value)))
    for name, value in request.query_params.multi_items():
        texts += [(["query", name], name), (["query", name], value)]
    # FastAPI has decoded the body of an endpoint that declares one, and the token endpoint
    # decodes its own (form or JSON); the request keeps what was decoded, so nothing is read
    # twice whoever comes first.
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in FORM_TYPES:
        for name, field in (await request.form()).multi_items():
            texts.append((["body", name], name))
            if isinstance(field, str):
                texts.append((["body", name], field))
    elif _is_json(media_type) and await request.body():
        try:
            document = await request.json()
        except ValueError:
            pass  # not JSON: the endpoint answers that in its own words
        else:
            texts += _json_strings(document, ["body"])
    return texts


async def refuse_control_characters(request: Request) -> None:
    """422 naming every field (up to 20) whose text holds a control character."""
    errors: list[FieldError] = []
    for loc, text in await _request_texts(request):
        problem = control_character_problem(text)
        if problem is not None and all(error.loc != loc for error in errors):
            errors.append(FieldError(loc=loc, msg=problem))
            if len(errors) == MAX_REPORTED:
                break
    if errors:
        summary = "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in errors[:5])
        raise ValidationFailed(summary, errors=errors)
