"""Interface texts in Simplified Chinese and English (texts.yaml); Traditional Chinese derived from Simplified."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import opencc

from bot.engine.yamlsource import SourceFile, parse_yaml

LANGUAGES = ("zh-Hans", "zh-Hant", "en")


def load_texts(name: str) -> dict[str, dict[str, str]]:
    """A table of texts shipped beside this module (texts.yaml, phrases.yaml): key → language → text. Read
    strictly: a key written twice is an error naming its line, not a text silently replaced by another."""
    text = resources.files("handlers").joinpath(name).read_text(encoding="utf-8")
    return parse_yaml(SourceFile(f"handlers/{name}", text))


_TABLES = load_texts("texts.yaml")
TEXTS: dict[str, dict[str, str]] = _TABLES["texts"]
# The command menu, per language; admins also see ADMIN_MENU in their private chats.
COMMANDS: dict[str, dict[str, str]] = _TABLES["commands"]
ADMIN_MENU: dict[str, dict[str, str]] = _TABLES["admin_commands"]

LANGUAGE_NAMES = {"zh-Hans": "简体中文", "zh-Hant": "繁體中文", "en": "English"}


@lru_cache(maxsize=1)
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=8192)
def simplified(text: str) -> str:
    """Traditional → Simplified, for zh-Hans users of a Traditional source (titles, quotes, place names)."""
    return _t2s().convert(text)


@lru_cache(maxsize=8192)
def traditional(text: str) -> str:
    """Simplified → Traditional, for zh-Hant users (rule texts and interface texts alike)."""
    return _s2t().convert(text)


def pick(entry: dict[str, str], language: str, **values: object) -> str:
    """The text of an entry in the language (zh-Hant derived from zh-Hans unless given), values filled in.

    Only the template is converted to Traditional: the values are already in the reader's script.
    """
    if language in entry:
        text = entry[language]
    else:
        text = entry["zh-Hans"]
        if language == "zh-Hant":
            text = traditional(text)
    return text.format(**values) if values else text


def t(key: str, language: str, **values: object) -> str:
    """An interface text in the language, with values filled in."""
    return pick(TEXTS[key], language, **values)


def language_for(code: str | None) -> str:
    """Telegram's language_code → zh-Hans (default), zh-Hant (TW/HK/MO) or en (anything else)."""
    if not code:
        return "zh-Hans"
    code = code.lower().replace("_", "-")
    if code.startswith("zh"):
        return "zh-Hant" if any(tag in code for tag in ("tw", "hk", "mo", "hant")) else "zh-Hans"
    return "en"
