"""Telegram's HTML subset for notices: checked before anything is stored or sent, as Telegram would check it."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

# Telegram's formatting tags (Bot API, "HTML style"), and the attributes each may carry.
ALLOWED_TAGS: dict[str, frozenset[str]] = {
    "b": frozenset(), "strong": frozenset(), "i": frozenset(), "em": frozenset(), "u": frozenset(),
    "ins": frozenset(), "s": frozenset(), "strike": frozenset(), "del": frozenset(), "tg-spoiler": frozenset(),
    "span": frozenset({"class"}), "a": frozenset({"href"}), "code": frozenset({"class"}), "pre": frozenset(),
    "blockquote": frozenset({"expandable"}), "tg-emoji": frozenset({"emoji-id"}),
}  # fmt: skip
_LINK_SCHEMES = ("http://", "https://", "tg://", "mailto:")
_ENTITY = re.compile(r"&(#[0-9]{1,7};|#x[0-9a-fA-F]{1,6};|lt;|gt;|amp;|quot;)")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class MarkupProblem:
    """Why a text is not Telegram HTML: a message key of texts.yaml and what to show in it."""

    key: str
    detail: str


def visible_length(text: str) -> int:
    """The length Telegram counts: without the tags, entities as the characters they stand for."""
    return len(html.unescape(_TAG.sub("", text)))


def check_html(text: str) -> MarkupProblem | None:
    """None if Telegram would accept the text with parse_mode HTML; otherwise the first problem."""
    for index, char in enumerate(text):
        if char == "&" and not _ENTITY.match(text, index):
            return MarkupProblem("markup_ampersand", text[index : index + 12])
    checker = _Checker()
    try:
        checker.feed(text)
        checker.close()
    except _Bad as bad:
        return bad.problem
    if checker.open:
        return MarkupProblem("markup_unclosed", checker.open[-1])
    return None


class _Bad(Exception):
    def __init__(self, problem: MarkupProblem):
        self.problem = problem


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)  # entities stay entities: '&lt;' is no '<'
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        allowed = ALLOWED_TAGS.get(tag)
        if allowed is None:
            raise _Bad(MarkupProblem("markup_tag", tag))
        for name, value in attrs:
            if name not in allowed:
                raise _Bad(MarkupProblem("markup_attribute", f"{tag} {name}"))
            if tag == "a" and not (value or "").lower().startswith(_LINK_SCHEMES):
                raise _Bad(MarkupProblem("markup_link", value or ""))
            if tag == "span" and value != "tg-spoiler":
                raise _Bad(MarkupProblem("markup_attribute", f"span class={value}"))
        names = {name for name, _ in attrs}
        if tag == "a" and "href" not in names:
            raise _Bad(MarkupProblem("markup_link", "<a>"))
        if tag == "span" and "class" not in names:
            raise _Bad(MarkupProblem("markup_attribute", 'span (class="tg-spoiler")'))
        if tag == "tg-emoji" and "emoji-id" not in names:
            raise _Bad(MarkupProblem("markup_attribute", "tg-emoji (emoji-id)"))
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise _Bad(MarkupProblem("markup_tag", f"{tag}/"))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise _Bad(MarkupProblem("markup_end", tag))
        self.open.pop()

    def handle_comment(self, data: str) -> None:
        raise _Bad(MarkupProblem("markup_tag", "!--"))

    def handle_decl(self, decl: str) -> None:
        raise _Bad(MarkupProblem("markup_tag", decl[:20]))

    def handle_pi(self, data: str) -> None:
        raise _Bad(MarkupProblem("markup_tag", data[:20]))

    def unknown_decl(self, data: str) -> None:
        raise _Bad(MarkupProblem("markup_tag", data[:20]))

    def handle_data(self, data: str) -> None:
        if "<" in data:  # a '<' that starts no tag, which html.parser passes on as text
            raise _Bad(MarkupProblem("markup_lt", data[data.index("<") : data.index("<") + 12]))
