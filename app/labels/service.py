"""The labels in one language, built once: they change only with the code."""

from __future__ import annotations

from functools import cache

from app.core.language import LANGUAGES, Language
from app.labels.catalogue import EVENT_TYPES, VOCABULARIES
from app.labels.programmes import Labels
from app.labels.schemas import LabelsRead


def _in(language: Language, labels: Labels) -> dict[str, str]:
    index = LANGUAGES.index(language)
    return {code: texts[index] for code, texts in labels.items()}


@cache
def labels_in(language: Language) -> LabelsRead:
    vocabularies = {name: _in(language, labels) for name, (_, labels) in VOCABULARIES.items()}
    vocabularies["event_type"] = _in(language, EVENT_TYPES)
    return LabelsRead(lang=language, vocabularies=vocabularies)
