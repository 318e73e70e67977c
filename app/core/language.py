"""Which of the service's languages a client wants: an explicit choice, else its Accept-Language
header (RFC 9110 §12.5.4, with q-values), else a default: Chinese for what people read
(``/labels``), English for error texts (app/core/messages.py), which scripts written before
errors were translated may still read."""

from __future__ import annotations

from typing import Final, Literal

Language = Literal["zh-CN", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("zh-CN", "en")
DEFAULT_LANGUAGE: Final[Language] = "zh-CN"

# A language range's primary tag → ours. "zh", "zh-Hans", "zh-TW" all read Chinese text.
_BY_PRIMARY_TAG: Final[dict[str, Language]] = {"zh": "zh-CN", "en": "en"}


def negotiate(accept_language: str | None, default: Language = DEFAULT_LANGUAGE) -> Language:
    """The supported language the header ranks highest; ``default`` when it names none (or
    only ``*``, which names no language in particular)."""
    best: tuple[float, int, Language] | None = None
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = _quality(params)
        language = _BY_PRIMARY_TAG.get(tag.strip().lower().split("-")[0])
        if tag.strip() == "*" and language is None:
            language = default
        if language is None or quality <= 0:
            continue
        # Highest quality first; between equals, the one listed first.
        if best is None or (quality, -position) > (best[0], -best[1]):
            best = (quality, position, language)
    return best[2] if best else default


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                return 0.0
            return quality if 0.0 <= quality <= 1.0 else 0.0
    return 1.0
