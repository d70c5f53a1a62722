"""Every kind of update a contact can send gets a sensible answer, or is rightly left alone."""

from __future__ import annotations

import asyncio
import copy

import pytest

from tests.channels.test_telegram_e2e import Contact, api, database, running_bot, started  # noqa: F401 - fixtures
from tests.fakes.bot_api import FakeBotApi

pytestmark = pytest.mark.asyncio

CHAT = 7301
GROUP = -100777
FILE = {"file_id": "AgAD", "file_unique_id": "AQAD"}
ATTACHMENTS = {
    "sticker": {**FILE, "type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False},
    "photo": [{**FILE, "width": 90, "height": 90}],
    "voice": {**FILE, "duration": 3},
    "document": {**FILE, "file_name": "report.pdf"},
    "location": {"latitude": 43.88, "longitude": 125.32},
    "contact": {"phone_number": "+8643100000000", "first_name": "Li"},
}


def carrying(api: FakeBotApi, chat_id: int, kind: str, caption: str | None = None) -> dict:
    """A message that carries an attachment instead of text, with an optional caption."""
    update = api.make_message(chat_id, "x")
    message = update["message"]
    del message["text"]
    message[kind] = copy.deepcopy(ATTACHMENTS[kind])
    if caption is not None:
        message["caption"] = caption
    return update


async def deliver(api: FakeBotApi, contact: Contact, update: dict, replies: int = 1) -> list[dict]:
    before = len(api.messages_to(contact.chat_id))
    api.push_update(update)
    return (await api.wait_for_messages(contact.chat_id, before + replies))[before:]


@pytest.mark.parametrize("kind", sorted(ATTACHMENTS))
async def test_an_attachment_is_answered_with_what_the_bot_can_read_and_the_question_again(
    api: FakeBotApi,
    database: str,
    kind: str,
) -> None:
    async with started(api, database, CHAT) as contact:
        reply = await deliver(api, contact, carrying(api, CHAT, kind))
        assert "只能读懂文字和按钮" in reply[0]["text"] and "贵企业注册在哪里" in reply[0]["text"]
        assert "抱歉" not in reply[0]["text"]


async def test_a_photo_caption_is_read_as_the_answer(api: FakeBotApi, database: str) -> None:
    async with started(api, database, CHAT) as contact:
        reply = await deliver(api, contact, carrying(api, CHAT, "photo", caption="長春"))
        assert reply[0]["text"].split("\n", 1)[1].startswith("贵企业属于哪些行业")


async def test_an_edited_message_is_answered_with_a_note_and_changes_nothing(
    api: FakeBotApi,
    database: str,
) -> None:
    async with started(api, database, CHAT) as contact:
        sent = api.make_message(CHAT, "長春")
        await deliver(api, contact, sent)
        edited = {"edited_message": {**sent["message"], "text": "广东省"}}  # push_update numbers it next
        edited["edited_message"]["edit_date"] = sent["message"]["date"] + 5
        reply = await deliver(api, contact, edited)
        assert "修改过的消息不会被采用" in reply[0]["text"]
        assert (await contact.say("/profile"))[0]["text"].count("长春") == 1


async def test_a_lone_slash_is_an_unknown_command_not_an_apology(api: FakeBotApi, database: str) -> None:
    async with running_bot(api, database):
        contact = Contact(api, CHAT)
        for text in ("/", "/ ", "/@"):
            reply = await contact.say(text)
            assert "没有这个命令" in reply[0]["text"] and "抱歉" not in reply[0]["text"]


async def test_a_button_on_an_inline_mode_message_is_acknowledged(api: FakeBotApi, database: str) -> None:
    async with running_bot(api, database):
        update = api.make_callback(CHAT, "a:produced_in_province:1", 1)
        query = update["callback_query"]
        del query["message"]
        query["inline_message_id"] = "AAAAAQ"
        api.push_update(update)
        for _ in range(200):
            if api.callback_answers:
                break
            await asyncio.sleep(0.025)
        assert api.callback_answers and api.messages_to(CHAT) == []


async def test_in_a_group_only_commands_for_this_bot_are_answered(api: FakeBotApi, database: str) -> None:
    async with running_bot(api, database):
        group = Contact(api, GROUP)
        for text in ("/start@otherbot", "長春", "十二亿"):
            update = api.make_message(GROUP, text)
            update["message"]["chat"] = {"id": GROUP, "type": "supergroup", "title": "园区企业群"}
            api.push_update(update)
        update = api.make_message(GROUP, "/start@fake_incentive_bot")
        update["message"]["chat"] = {"id": GROUP, "type": "supergroup", "title": "园区企业群"}
        reply = await deliver(api, group, update)
        assert len(api.messages_to(GROUP)) == 1 and "私聊" in reply[0]["text"]


async def test_forget_leaves_no_trace_of_the_answers_in_the_sqlite_files(api: FakeBotApi, tmp_path) -> None:
    database_file = tmp_path / "forget.sqlite3"
    async with running_bot(api, f"sqlite+aiosqlite:///{database_file}"):
        contact = Contact(api, CHAT)
        await contact.say("/start")
        await contact.say("东昌区")
        await contact.say("/profile")
        await contact.say("/forget")
        await contact.press("f:yes")
        stored = b"".join(path.read_bytes() for path in tmp_path.glob("forget.sqlite3*"))
    assert "东昌".encode() not in stored
