"""A contact who writes English gets English: questions, hints, results, details and refusals."""

from __future__ import annotations

import asyncio
import re
from datetime import date

import pytest

from bot.dispatcher import Dispatcher
from bot.engine.engine import Engine
from bot.messages import ChatKey, Incoming, Outgoing
from bot.store.memory import MemoryChatStore
from handlers.enterprise import EnterpriseConversation

TODAY = date(2026, 11, 22)
CHAT = ChatKey("test", 7)
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def proper_names(engine: Engine) -> list[str]:
    """Chinese an English reader still sees: names of places, documents, measures, calls and departments, and
    the quoted clauses (translations of these would not be the law, and applications use the Chinese names)."""
    ruleset = engine.ruleset
    names = {doc.title for doc in ruleset.documents.values()}
    for rule in ruleset.rules:
        names |= {rule.title, rule.quote, rule.region.replace("/", ""), *rule.region.split("/")}
        names |= {rule.department or "", *rule.materials}
    names |= {call.title for call in ruleset.calls} | {call.where or "" for call in ruleset.calls}
    names |= {path.replace("/", "") for path in engine.regions.paths} | set(engine.regions.paths)
    # Longest first, so a title is removed whole before a place name inside it.
    return sorted((n for n in names if n), key=len, reverse=True)


def foreign(text: str, names: list[str]) -> str:
    """The Chinese left in text once proper names and quotes are taken out ('' when there is none)."""
    for name in names:
        text = text.replace(name, " ")
    return "".join(CJK.findall(text))


def shown(messages: list[Outgoing]) -> str:
    return "\n".join(
        [m.text for m in messages]
        + [m.notice or "" for m in messages]
        + [b.text for m in messages for row in m.buttons for b in row]
    )


class EnglishContact:
    def __init__(self, engine: Engine):
        self.dispatcher = Dispatcher(MemoryChatStore(), EnterpriseConversation(lambda: engine, lambda: TODAY))
        self.seen: list[Outgoing] = []

    def send(self, text: str = "", command: str | None = None, button: str | None = None) -> list[Outgoing]:
        incoming = Incoming(CHAT, text, command, button, "en-GB")
        messages = asyncio.run(self.dispatcher.handle(incoming))
        self.seen.extend(messages)
        return messages

    def state(self):
        return asyncio.run(self.dispatcher.store.load(CHAT))


@pytest.fixture()
def contact(engine: Engine) -> EnglishContact:
    return EnglishContact(engine)


def test_the_example_answer_of_the_english_region_question_is_understood(contact: EnglishContact) -> None:
    question = contact.send(command="start")[-1].text
    assert 'e.g. "Changchun, Jilin"' in question
    reply = contact.send("Changchun, Jilin")
    assert contact.state().answers["region"] == "吉林省/长春市"
    assert "Which industries" in reply[-1].text


def test_a_whole_interview_in_english_shows_no_chinese_but_names_and_quotes(
    contact: EnglishContact, engine: Engine
) -> None:
    contact.send(command="start")
    contact.send("Changchun, Jilin")
    contact.send("biologics")
    contact.send("a rocket licence")  # refused, with the options in English
    contact.send("clinical trial permit")
    answers = {
        "money": "1.2 billion",
        "rate": "4.35%",
        "bool": "yes",
        "multi_choice": "none",
        "choice": "other",
    }
    for _ in range(40):
        state = contact.state()
        if state.current is None:
            break
        question = engine.ruleset.catalogue[state.current]
        if question.type == "money" and "wrong_money" not in contact.__dict__:
            contact.__dict__["wrong_money"] = True
            contact.send("lots")  # refused with a hint in English
        contact.send(answers.get(question.type, "not sure"))
    state = contact.state()
    assert state.current is None and state.answers["revenue"] == 1_200_000_000
    results = contact.send(command="results")
    assert "You may apply for" in results[0].text
    rule_buttons = [b.data for m in results for row in m.buttons for b in row if b.data.startswith("r:")]
    assert rule_buttons
    for data in rule_buttons:
        contact.send(button=data)
    contact.send(command="deadlines")
    contact.send(command="profile")
    contact.send(command="help")
    contact.send(command="nonsense")
    names = proper_names(engine)
    leftovers = {foreign(m.text, names) for m in contact.seen} | {foreign(shown([m]), names) for m in contact.seen}
    assert leftovers == {""}, [m.text for m in contact.seen if foreign(shown([m]), names)][:3]


def test_english_refusals_list_the_english_options(contact: EnglishContact) -> None:
    contact.send(command="start")
    contact.send("Changchun, Jilin")
    reply = contact.send("a rocket licence")
    assert reply[0].text.startswith("I could not read that")
    assert "biologics" in reply[0].text and "生物药" not in reply[0].text


def test_no_is_an_answer_to_a_choose_all_that_apply_question(contact: EnglishContact) -> None:
    contact.send(command="start")
    contact.send("Changchun, Jilin")
    contact.send("biologics")
    assert contact.state().current == "events"
    contact.send("no")
    assert contact.state().answers["events"] == []
