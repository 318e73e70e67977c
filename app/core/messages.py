"""Error texts in the client's language.

Problems are written in English where they are raised, some with values put in (names, counts,
dates); a client that prefers Chinese reads them in Chinese. Titles are looked up by the
problem's ``code``. Details are looked up by their English text in a catalogue of templates
(app/core/messages_zh.py): ``{}`` stands where the raise site put a value, and the value is
carried over into the Chinese text unchanged. Without an Accept-Language header, or one that
names neither language, errors stay in English, as they always were: scripts may read them.

A text the catalogue does not know stays in English rather than being half translated, and so
does one it could read in two ways equally well: a value is never moved into another's place."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from app.core.language import Language, negotiate
from app.core.messages_zh import PARTS, PYDANTIC_REASONS, TITLES
from app.core.messages_zh_details import DETAILS

ERROR_DEFAULT_LANGUAGE: Final[Language] = "en"

# A placeholder of the Chinese text that holds another message (translated in turn), not a
# value: ``{1:msg}``.
NESTED = "msg"
# Several messages joined by the raise site ("photo 1 …; photo 3 …"), and how Chinese joins them.
SEPARATOR, SEPARATOR_ZH = "; ", "；"
# The field a part of a joined message is about: "body.photos.0: …", "days[3]: …".
_LOCATION = re.compile(r"[\w.\[\]-]+")
# A value stops at a separator, so that a template cannot swallow the next message; a nested
# message may hold separators of its own.
_VALUE_LAZY, _VALUE_GREEDY = r"((?:(?!; ).)*?)", r"((?:(?!; ).)*)"
_NESTED_LAZY, _NESTED_GREEDY = r"(.*?)", r"(.*)"
# Beyond these a text stays in English: reading it would cost more than it is worth (a detail
# is a few hundred characters; the longest joins name each of nine photos, or 20 fields).
MAX_TEXT, MAX_JOINED = 4000, 40
# The most "; "-pieces one message of a joined text spans ("{} bad day(s); nothing was changed:
# …" holds up to five messages of its own).
MAX_PIECES_IN_ONE = 8


def error_language(accept_language: str | None) -> Language:
    """The language of an error answer: the client's choice, English when it made none."""
    return negotiate(accept_language, default=ERROR_DEFAULT_LANGUAGE)


def placeholders(text: str) -> list[tuple[str, str]]:
    """The ``{…}`` fields of a catalogue text, as (name, spec); ``{}`` has the name ``""``."""
    return [
        (name, spec or "")
        for _, name, spec, _ in string.Formatter().parse(text)
        if name is not None
    ]


# A translation, and how many characters of the English it carried over as values: of the
# readings a text has, the one that leaves the least unexplained is taken.
_Reading = tuple[str, int]


@dataclass(frozen=True)
class _Template:
    chinese: str
    lazy: re.Pattern[str]
    greedy: re.Pattern[str]
    nested: frozenset[int]
    # What the text must start with, end with and hold for the template to be worth trying.
    prefix: str
    suffix: str
    literals: tuple[str, ...]

    def readings(self, text: str, translate: Callable[[str], _Reading | None]) -> list[_Reading]:
        """The ways the template reads ``text``: its values taken as short, then as long as
        they can be; each nested message must be known."""
        if not (
            text.startswith(self.prefix)
            and text.endswith(self.suffix)
            and all(literal in text for literal in self.literals)
        ):
            return []
        out = []
        for found in {
            m.groups()
            for m in (self.lazy.fullmatch(text), self.greedy.fullmatch(text))
            if m is not None
        }:
            filled, carried = list(found), 0
            for index, value in enumerate(found):
                if index in self.nested:
                    inner = translate(value)
                    if inner is None:  # an unknown message inside: not half translated
                        break
                    filled[index], extra = inner
                    carried += extra
                else:
                    carried += len(value)
            else:
                out.append((_Filler().vformat(self.chinese, filled, {}), carried))
        return out


class _Filler(string.Formatter):
    """Puts values in as they are (``:msg`` marks a nested message, already translated)."""

    def format_field(self, value: Any, format_spec: str) -> str:
        return str(value)


class _Entries:
    """Texts written out, and templates by the first or last word they write out (a text is
    tried against the few that could read it, not all of them)."""

    def __init__(self, entries: Mapping[str, str]) -> None:
        self.exact: dict[str, str] = {}
        self.by_first: dict[str, list[_Template]] = {}
        self.by_last: dict[str, list[_Template]] = {}
        self.others: list[_Template] = []
        for english, chinese in entries.items():
            if not placeholders(english):
                # Written like the templates (braces doubled): unescaped on both sides.
                text = english.replace("{{", "{").replace("}}", "}")
                self.exact[text] = _Filler().vformat(chinese, (), {})
                continue
            nested = frozenset(int(name) for name, spec in placeholders(chinese) if spec == NESTED)
            chunks = list(string.Formatter().parse(english))
            template = _Template(
                chinese,
                re.compile(_pattern(english, nested, lazy=True), re.DOTALL),
                re.compile(_pattern(english, nested, lazy=False), re.DOTALL),
                nested,
                prefix=chunks[0][0],
                suffix=chunks[-1][0] if chunks[-1][1] is None else "",
                literals=tuple(literal for literal, _, _, _ in chunks if literal),
            )
            if " " in template.prefix:
                self.by_first.setdefault(_first_word(template.prefix), []).append(template)
            elif " " in template.suffix:
                self.by_last.setdefault(_last_word(template.suffix), []).append(template)
            else:
                self.others.append(template)

    def candidates(self, text: str) -> list[_Template]:
        return [
            *self.by_first.get(_first_word(text), ()),
            *self.by_last.get(_last_word(text), ()),
            *self.others,
        ]


def _first_word(text: str) -> str:
    return text.split(" ", 1)[0]


def _last_word(text: str) -> str:
    return text.rsplit(" ", 1)[-1]


class DetailCatalogue:
    """English texts and templates → Chinese. ``parts``: texts that are only ever a message
    inside another (a ``{n:msg}`` value), looked up only there.

    A text written out wins; else the template reading that carries over the fewest characters
    as values ("The report changed (it is now version 7)" over "The {} changed (…)"). Two
    readings as good as each other but different leave the text in English."""

    def __init__(self, entries: Mapping[str, str], parts: Mapping[str, str] | None = None) -> None:
        self.whole = _Entries(entries)
        self.inner = _Entries({**entries, **(parts or {})})

    def translate(self, text: str, *, inner: bool = False) -> str | None:
        """The Chinese of a whole English text, or None when the catalogue does not know it."""
        if len(text) > MAX_TEXT:
            return None
        found = _Reader(self).read(text, inner)
        return found[0] if found is not None else None

    def translate_joined(self, text: str, *, inner: bool = False) -> str | None:
        """Also messages joined with "; " (some of which hold "; " themselves), each perhaps
        after the field it is about; None unless every part is known."""
        if len(text) > MAX_TEXT or text.count(SEPARATOR) > MAX_JOINED:
            return None
        found = _Reader(self).read_joined(text, inner)
        return found[0] if found is not None else None


class _Reader:
    """One text's translation, remembering each piece read: a joined text's pieces are read
    in many combinations, and nested messages again inside them."""

    def __init__(self, catalogue: DetailCatalogue) -> None:
        self.catalogue = catalogue
        self.memo: dict[tuple[str, bool, bool], _Reading | None] = {}

    def read(self, text: str, inner: bool) -> _Reading | None:
        key = (text, inner, False)
        if key not in self.memo:
            self.memo[key] = self._read(text, inner)
        return self.memo[key]

    def read_joined(self, text: str, inner: bool) -> _Reading | None:
        key = (text, inner, True)
        if key not in self.memo:
            self.memo[key] = self._read_joined(text, inner)
        return self.memo[key]

    def _read(self, text: str, inner: bool) -> _Reading | None:
        entries = self.catalogue.inner if inner else self.catalogue.whole
        exact = entries.exact.get(text)
        if exact is not None:
            return exact, 0
        readings = [
            reading
            for template in entries.candidates(text)
            for reading in template.readings(text, self._nested)
        ]
        if not readings:
            return None
        least = min(carried for _, carried in readings)
        best = {chinese for chinese, carried in readings if carried == least}
        return (best.pop(), least) if len(best) == 1 else None

    def _nested(self, text: str) -> _Reading | None:
        return self.read_joined(text, True)

    def _read_joined(self, text: str, inner: bool) -> _Reading | None:
        pieces = text.split(SEPARATOR)
        known: dict[int, tuple[list[str], int] | None] = {len(pieces): ([], 0)}
        # The best reading of pieces[start:] as consecutive messages, from the last piece back.
        for start in range(len(pieces) - 1, -1, -1):
            options = []
            for end in range(start + 1, min(start + MAX_PIECES_IN_ONE, len(pieces)) + 1):
                rest = known[end]
                part = self._part(SEPARATOR.join(pieces[start:end]), inner) if rest else None
                if part is not None and rest is not None:
                    options.append(([part[0], *rest[0]], part[1] + rest[1]))
            known[start] = min(options, key=lambda option: option[1]) if options else None
        found = known[0]
        return (SEPARATOR_ZH.join(found[0]), found[1]) if found is not None else None

    def _part(self, text: str, inner: bool) -> _Reading | None:
        where, colon, rest = text.partition(": ")
        if colon and _LOCATION.fullmatch(where):
            found = self._part(rest, inner)
            if found is not None:
                return f"{where}：{found[0]}", found[1]
        return self.read(text, inner)


def _pattern(english: str, nested: frozenset[int], *, lazy: bool) -> str:
    out, index = "", 0
    for literal, name, _, _ in string.Formatter().parse(english):
        out += re.escape(literal)
        if name is None:
            continue
        if index in nested:
            out += _NESTED_LAZY if lazy else _NESTED_GREEDY
        else:
            out += _VALUE_LAZY if lazy else _VALUE_GREEDY
        index += 1
    return out


@cache
def _catalogue() -> DetailCatalogue:
    return DetailCatalogue(DETAILS, PARTS)


def problem_title(code: str, english: str, language: Language) -> str:
    if language == "en":
        return english
    return TITLES.get(code, english)


def problem_text(english: str, language: Language) -> str:
    """A detail or a field error's message in ``language`` (as it is when unknown)."""
    if language == "en":
        return english
    return _catalogue().translate_joined(english) or english


def validation_summary(
    problems: Sequence[tuple[Sequence[Any], str, Mapping[str, Any] | None]],
) -> str | None:
    """The Chinese detail of a 422 of the request's shape: each field with what is wrong with
    it, from pydantic's error type and context (its English messages stay in ``errors``)."""
    if not problems:
        return None
    parts = []
    for loc, kind, context in problems:
        where = ".".join(map(str, loc))
        reason = PYDANTIC_REASONS.get(kind, PYDANTIC_REASONS["value_error"])
        try:
            reason = reason.format(**(context or {}))
        except (KeyError, IndexError, ValueError):
            reason = PYDANTIC_REASONS["value_error"]
        parts.append(f"{where}：{reason}" if where else reason)
    return SEPARATOR_ZH.join(parts)
