"""Every broken rule file of the corpus, dropped into the rules folder of a running bot (the real python-telegram-bot
Application over HTTP): an admin's /reload is answered with its file:line:column messages, and the rules in use
stay, the very same rule set, answering a contact as before."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import service
from bot.notices import LiveEngine
from bot.store.sql import migrate
from tests.channels.test_telegram_e2e import Contact, api, running_bot  # noqa: F401 - fixtures
from tests.engine.test_rules_corpus import CASES, shown
from tests.fakes.bot_api import FakeBotApi

pytestmark = pytest.mark.asyncio
ADMIN, CONTACT = 91001, 91002


@pytest.fixture()
async def database(tmp_path: Path) -> AsyncIterator[str]:
    """A migrated SQLite file: what is under test here is the rules, the same on every store."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    await migrate(url)
    yield url


@pytest.fixture()
def live_engines(monkeypatch: pytest.MonkeyPatch) -> list[LiveEngine]:
    """The rule sets in use of the bots started in the test, as the bot holds them."""
    made: list[LiveEngine] = []

    class Recorded(LiveEngine):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(service, "LiveEngine", Recorded)
    return made


async def test_a_reload_with_each_broken_file_names_its_problems_and_keeps_the_rules_in_use(
    api: FakeBotApi, database: str, rules_copy: Path, live_engines: list[LiveEngine]
) -> None:
    """One running bot takes every broken file in turn (each removed before the next), as an admin would try them."""
    # Reloads only when asked, so the admin's /reload is the one answered.
    settings = {"ADMIN_TELEGRAM_IDS": str(ADMIN), "RULES_DIR": str(rules_copy), "RULES_WATCH": "off"}
    async with running_bot(api, database, settings=settings):
        [live] = live_engines
        in_use = live.base
        admin, contact = Contact(api, ADMIN), Contact(api, CONTACT)
        await contact.say("/start")
        await contact.say("長春")
        results = (await contact.say("/results"))[0]["text"]
        wrong: dict[str, list[str]] = {}
        for case in CASES:
            path = case.install(rules_copy)
            sent = (await admin.say("/reload"))[0]["text"]
            path.unlink()
            refused = html.unescape(sent).split("\n")  # as Telegram shows the HTML the bot sends
            told = [refused[0], *(shown(line, rules_copy) for line in refused[1:])]
            if told != [f"新规则有 {len(case.expected)} 个问题,没有启用,仍使用原来的规则:", *case.expected]:
                wrong[case.place] = told
            assert live.base is in_use, f"the same rule set stays in use after {case.place}"
            assert (await contact.say("/results"))[0]["text"] == results, f"and answers the same after {case.place}"
        assert wrong == {}
