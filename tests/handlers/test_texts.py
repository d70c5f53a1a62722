"""The text tables: every text in Simplified Chinese and English, with the same values filled in by both."""

from __future__ import annotations

import string

import pytest

from handlers.phrases import PHRASES
from handlers.texts import COMMANDS, TEXTS


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize(("table", "name"), [(TEXTS, "texts.yaml"), (PHRASES, "phrases.yaml"), (COMMANDS, "commands")])
def test_every_text_is_in_both_languages_with_the_same_values(table: dict, name: str) -> None:
    for key, entry in table.items():
        assert {"zh-Hans", "en"} <= set(entry), f"{name}: {key} lacks a language"
        assert placeholders(entry["zh-Hans"]) == placeholders(entry["en"]), f"{name}: {key}"
