"""Pieces of the Telegram channel that need no server: message splitting, joining, escaping, per-chat order."""

from __future__ import annotations

import asyncio
import html

from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Chat, Message, Update

from bot.channels.telegram import PerChatUpdateProcessor, coalesce, split_message, to_incoming
from bot.messages import Attachment, Button, ChatKey, Incoming, Outgoing

LIMIT = 4096


def test_a_long_result_is_split_at_line_ends_within_the_limit() -> None:
    lines = [f"{i}. 新取得临床试验许可的奖励 <最高200万元> & more" for i in range(400)]
    text = "\n".join(lines)
    pieces = split_message(text)
    assert len(pieces) > 1
    assert all(len(html.escape(p)) <= LIMIT for p in pieces)
    assert "\n".join(pieces) == text


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab&<>\n中文 "), max_size=12000))
def test_any_text_splits_into_pieces_that_fit_and_lose_nothing(text: str) -> None:
    pieces = split_message(text)
    assert all(len(html.escape(p)) <= LIMIT for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_a_text_only_message_is_joined_to_the_question_after_it() -> None:
    question = Outgoing("问题?", ((Button("是", "a:x:1"),),))
    joined = coalesce([Outgoing("欢迎"), question])
    assert len(joined) == 1 and joined[0].text == "欢迎\n\n问题?" and joined[0].buttons == question.buttons


def test_messages_with_buttons_or_edits_stay_separate() -> None:
    first = Outgoing("结果", ((Button("详情", "r:x"),),))
    edit = Outgoing("已切换", edit=True)
    assert len(coalesce([first, Outgoing("问题")])) == 2
    assert len(coalesce([Outgoing("提示"), edit])) == 2
    assert len(coalesce([Outgoing("x" * 3000), Outgoing("y" * 3000)])) == 2


def _update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, "private")
    return Update(update_id, message=Message(update_id, None, chat, text="t"))


async def test_updates_of_one_chat_run_in_order_and_chats_run_concurrently() -> None:
    processor = PerChatUpdateProcessor(64)
    log: list[tuple[int, int]] = []
    running = {"now": 0, "peak": 0}

    async def work(chat_id: int, number: int) -> None:
        running["now"] += 1
        running["peak"] = max(running["peak"], running["now"])
        await asyncio.sleep(0.01 * (3 - number % 3))  # later updates finish faster if unordered
        log.append((chat_id, number))
        running["now"] -= 1

    async with processor:
        await asyncio.gather(
            *(processor.process_update(_update(n, chat), work(chat, n)) for n in range(6) for chat in (1, 2, 3))
        )
    for chat in (1, 2, 3):
        assert [n for c, n in log if c == chat] == list(range(6))
    assert running["peak"] == 3
    assert processor._locks == {}


def test_a_rule_file_with_a_caption_is_still_a_rule_file() -> None:
    """An admin who types a few words with the file still sends the file, not an answer to the interview."""
    update = Update.de_json(
        {
            "update_id": 7,
            "message": {
                "message_id": 3, "date": 1_700_000_000, "caption": "新规则",
                "chat": {"id": 42, "type": "private"}, "from": {"id": 42, "is_bot": False, "first_name": "A"},
                "document": {"file_id": "f1", "file_unique_id": "u1", "file_name": "new.yaml", "file_size": 120},
            },
        },
        None,
    )  # fmt: skip
    incoming = to_incoming(update)
    assert incoming is not None and incoming.attachment == Attachment("new.yaml", 120, "f1") and not incoming.text


def test_an_update_kept_by_a_newer_process_is_still_read() -> None:
    """During a rolling deploy an older process may read an inbox row written by a newer one."""
    data = {"text": "3亿", "update_id": 5, "attachment": {"name": "a.yaml", "size": 1, "ref": "x", "mime": "?"},
            "sticker_set": "new-field"}  # fmt: skip
    incoming = Incoming.from_json(ChatKey("telegram", 1), data)
    assert incoming.text == "3亿" and incoming.attachment == Attachment("a.yaml", 1, "x")
    assert Incoming.from_json(ChatKey("telegram", 1), incoming.to_json()) == incoming


def test_an_outgoing_with_its_question_round_trips_through_the_outboxs_json() -> None:
    import json

    from bot.messages import AskedQuestion, Button, Outgoing

    asked = AskedQuestion("industries", "multi_choice", (("tcm", "中药"), ("biologics", "生物药")), (2, 7), ("tcm",))
    message = Outgoing("问题 2 / 约 7\n行业?", ((Button("中药", "t:industries:tcm"),),), edit=True, question=asked)
    assert Outgoing.from_json(json.loads(json.dumps(message.to_json()))) == message


def test_an_outbox_row_written_before_questions_were_carried_still_loads() -> None:
    from bot.messages import Outgoing

    old = {"text": "贵企业注册在哪里?", "buttons": [[["不清楚", "s:region"]]]}
    loaded = Outgoing.from_json(old)
    assert loaded.question is None and loaded.buttons[0][0].data == "s:region"
