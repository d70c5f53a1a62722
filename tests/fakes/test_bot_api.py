"""The fake Bot API server, driven by python-telegram-bot's real Bot and Application."""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    ChatMemberBanned,
    ChatMemberMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    Update,
)
from telegram.error import BadRequest, Conflict, EndPointNotFound, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.channels.aiohttp_request import AiohttpRequest
from tests.fakes.bot_api import FakeBotApi

CHAT = 4242


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as fake:
        yield fake


@pytest_asyncio.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url) as real_bot:
        yield real_bot


@pytest.mark.asyncio
async def test_get_me(api: FakeBotApi, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.id == 123456789 and me.username == api.bot_username
    assert api.token in api.seen_tokens
    assert [method for method, _ in api.calls] == ["getMe", "getMe"]  # Bot.initialize already called it


@pytest.mark.asyncio
async def test_send_message_records_parsed_keyboard(api: FakeBotApi, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("是", callback_data="yes")]])
    first = await bot.send_message(CHAT, "<b>你好</b>", parse_mode="HTML", reply_markup=keyboard)
    second = await bot.send_message(CHAT, "second")

    assert (first.message_id, second.message_id) == (1, 2)
    assert first.chat.id == CHAT and first.from_user.is_bot and first.text == "<b>你好</b>"
    assert first.reply_markup == keyboard  # echoed back and parsed by PTB
    record = api.sent[0]
    assert record["method"] == "sendMessage" and record["chat_id"] == CHAT
    assert record["parse_mode"] == "HTML"
    assert record["reply_markup"] == {"inline_keyboard": [[{"text": "是", "callback_data": "yes"}]]}
    assert record["time"] <= time.monotonic()
    assert api.sent[1]["reply_markup"] is None
    assert [m["text"] for m in await api.wait_for_messages(CHAT, 2, timeout=1)] == ["<b>你好</b>", "second"]


@pytest.mark.asyncio
async def test_edits_follow_telegram_rules(api: FakeBotApi, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]])
    sent = await bot.send_message(CHAT, "question", reply_markup=keyboard)
    edited = await bot.edit_message_text("answer", chat_id=CHAT, message_id=sent.message_id)
    assert edited.text == "answer" and edited.reply_markup is None  # no markup given: keyboard removed
    assert api.sent[-1]["method"] == "editMessageText"
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("answer", chat_id=CHAT, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
        await bot.send_message(CHAT, "long data", reply_markup=too_long)
    assert await bot.delete_message(CHAT, sent.message_id)


@pytest.mark.asyncio
async def test_get_updates_parses_and_confirms(api: FakeBotApi, bot: Bot) -> None:
    api.push_update(api.make_message(CHAT, "/start abc"))
    sent = await bot.send_message(CHAT, "pick one")
    api.push_update(api.make_callback(CHAT, "region:jl", sent.message_id))
    api.push_update(api.make_my_chat_member(CHAT, new_status="kicked"))

    updates = await bot.get_updates(timeout=1)
    assert len(updates) == 3
    message, callback, member = updates
    assert message.message.text == "/start abc"
    assert message.message.entities == (MessageEntity(MessageEntity.BOT_COMMAND, 0, len("/start")),)
    assert message.message.from_user.language_code == "zh-hans"
    assert message.effective_chat.type == "private"
    assert callback.callback_query.data == "region:jl"
    assert callback.callback_query.message.message_id == sent.message_id
    assert callback.callback_query.message.text == "pick one"
    assert isinstance(member.my_chat_member.new_chat_member, ChatMemberBanned)
    assert isinstance(member.my_chat_member.old_chat_member, ChatMemberMember)
    assert all(isinstance(update, Update) for update in updates)

    # Unconfirmed updates come again; an offset past them confirms them.
    assert len(await bot.get_updates()) == 3
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
    assert (await bot.get_webhook_info()).pending_update_count == 0


@pytest.mark.asyncio
async def test_long_poll_times_out_empty_and_wakes_on_push(api: FakeBotApi, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 3

    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    api.push_update(api.make_message(CHAT, "hi"))
    updates = await asyncio.wait_for(poll, 2)
    assert [u.message.text for u in updates] == ["hi"]


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # retry_after: int -> timedelta
async def test_fail_next_429_raises_retry_after(api: FakeBotApi, bot: Bot) -> None:
    api.fail_next("sendMessage")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT, "hello")
    assert caught.value.retry_after in (1, dtm.timedelta(seconds=1))
    assert api.sent == []
    await bot.send_message(CHAT, "hello")  # only the next call fails
    assert len(api.sent) == 1


@pytest.mark.asyncio
async def test_blocked_chat_raises_forbidden(api: FakeBotApi, bot: Bot) -> None:
    api.block_chat(CHAT)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "hello")
    await bot.send_message(CHAT + 1, "other chats still work")
    assert [m["chat_id"] for m in api.sent] == [CHAT + 1]


@pytest.mark.asyncio
async def test_set_my_commands_per_language(api: FakeBotApi, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "开始")], language_code="zh")
    await bot.set_my_commands([BotCommand("start", "Start")])
    await bot.set_my_commands([BotCommand("help", "Help")], scope=BotCommandScopeAllPrivateChats())
    assert api.commands == {
        "zh": [{"command": "start", "description": "开始"}],
        "": [{"command": "start", "description": "Start"}],
    }
    assert await bot.get_my_commands(language_code="zh") == (BotCommand("start", "开始"),)
    assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats()) == (BotCommand("help", "Help"),)
    assert await bot.delete_my_commands(language_code="zh")
    assert "zh" not in api.commands
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("start", "x")], language_code="zh-hans")


@pytest.mark.asyncio
async def test_webhook_and_unknown_method(api: FakeBotApi, bot: Bot) -> None:
    assert await bot.set_webhook("https://example.test/hook", secret_token="s3cret")
    assert (api.webhook_url, api.webhook_secret) == ("https://example.test/hook", "s3cret")
    assert (await bot.get_webhook_info()).url == "https://example.test/hook"
    assert await bot.delete_webhook()
    assert api.webhook_url == ""
    assert await bot.send_chat_action(CHAT, "typing")

    with pytest.raises(EndPointNotFound):  # PTB turns the 404 for an unknown method into this
        await bot.do_api_request("sendTeleportation", api_kwargs={"chat_id": CHAT})
    assert api.unknown_methods == ["sendTeleportation"]


@pytest.mark.asyncio
async def test_post_webhook_and_polling_conflict(api: FakeBotApi, bot: Bot) -> None:
    received: list[tuple[str | None, dict]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        await bot.set_webhook(url, secret_token="s3cret")
        update = api.make_message(CHAT, "/start")
        assert await api.post_webhook(None, update, secret_token=api.webhook_secret) == 200
        assert received == [("s3cret", update)]
        with pytest.raises(Conflict):  # as on Telegram, no polling while a webhook is set
            await bot.get_updates()
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_wait_for_messages_reports_what_arrived(api: FakeBotApi, bot: Bot) -> None:
    await bot.send_message(CHAT, "only one")
    with pytest.raises(AssertionError, match="only one"):
        await api.wait_for_messages(CHAT, 2, timeout=0.05)


@pytest.mark.asyncio
async def test_real_application_echoes_over_polling(api: FakeBotApi) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    app = Application.builder().token(api.token).base_url(api.base_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        try:
            api.push_update(api.make_message(CHAT, "你好"))
            api.push_update(api.make_message(CHAT + 1, "second user"))
            echoed = await api.wait_for_messages(CHAT, 1, timeout=5)
            assert echoed[0]["text"] == "echo: 你好"
            assert (await api.wait_for_messages(CHAT + 1, 1, timeout=5))[0]["text"] == "echo: second user"
        finally:
            await app.updater.stop()
            await app.stop()
    assert api.confirmed_offset > 0  # the updater confirmed what it fetched on stop
    assert (await asyncio.wait_for(_pending_count(api), 1)) == 0


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # retry_after: int -> timedelta
async def test_a_429_outage_answers_every_send_like_flood_control_until_it_is_ended(api: FakeBotApi, bot: Bot) -> None:
    outage = api.outage("429")
    for _ in range(2):
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(CHAT, "hello")
        assert caught.value.retry_after in (1, dtm.timedelta(seconds=1))
    assert (await bot.get_me()).id == 123456789  # start-up and updates are not part of the outage
    assert api.sent == [] and [method for method, _ in outage.failed] == ["sendMessage", "sendMessage"]
    outage.end()
    await bot.send_message(CHAT, "hello")
    assert [m["text"] for m in api.sent] == ["hello"] and not outage.active


@pytest.mark.asyncio
@pytest.mark.parametrize(("kind", "description"), [("500", "Internal Server Error"), ("502", "Bad Gateway")])
async def test_a_5xx_outage_answers_with_telegrams_error_body(
    api: FakeBotApi, bot: Bot, kind: str, description: str
) -> None:
    api.outage(kind, seconds=5)
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{api.base_url}{api.token}/sendMessage", json={"chat_id": CHAT, "text": "x"}) as response,
    ):
        assert response.status == int(kind)
        assert await response.json() == {"ok": False, "error_code": int(kind), "description": description}
    with pytest.raises(NetworkError, match=description):
        await bot.send_message(CHAT, "hello")
    assert api.sent == []


@pytest.mark.asyncio
async def test_an_outage_ends_by_itself_after_its_duration(api: FakeBotApi, bot: Bot) -> None:
    api.outage("502", seconds=0.3)
    with pytest.raises(NetworkError):
        await bot.send_message(CHAT, "during")
    await asyncio.sleep(0.4)
    await bot.send_message(CHAT, "after")
    assert [m["text"] for m in api.sent] == ["after"]


@pytest.mark.asyncio
async def test_an_outage_fails_only_the_methods_it_names(api: FakeBotApi, bot: Bot) -> None:
    api.outage("502", methods=["getMe"])
    await bot.send_message(CHAT, "still sent")
    with pytest.raises(NetworkError):
        await bot.get_me()
    assert [m["text"] for m in api.sent] == ["still sent"]
    api.end_outages()
    assert (await bot.get_me()).is_bot


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_a_hanging_send_gets_no_answer_until_the_outage_ends_and_then_fails_unrecorded(
    api: FakeBotApi, transport: str
) -> None:
    request = AiohttpRequest() if transport == "aiohttp" else None
    async with Bot(api.token, base_url=api.base_url, request=request) as bot:
        outage = api.outage("hang", seconds=0.5)
        started = time.monotonic()
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(CHAT, "lost in the outage")
        assert 0.45 <= time.monotonic() - started < 3
        assert not isinstance(caught.value, TimedOut)  # the connection was closed, not timed out
        assert api.sent == [] and len(outage.failed) == 1
        await bot.send_message(CHAT, "after")
        assert [m["text"] for m in api.sent] == ["after"]


@pytest.mark.asyncio
async def test_a_hanging_send_that_the_client_gives_up_on_is_not_recorded(api: FakeBotApi) -> None:
    async with Bot(api.token, base_url=api.base_url, request=AiohttpRequest(read_timeout=0.2, write_timeout=0)) as bot:
        outage = api.outage("hang")
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "given up")
        outage.end()
        await asyncio.sleep(0.05)
        assert api.sent == []


@pytest.mark.asyncio
async def test_a_dropping_outage_closes_the_connection_at_once(api: FakeBotApi, bot: Bot) -> None:
    api.outage("drop", seconds=5)
    started = time.monotonic()
    with pytest.raises(NetworkError):
        await bot.send_message(CHAT, "dropped")
    assert time.monotonic() - started < 1 and api.sent == []


@pytest.mark.asyncio
async def test_an_unknown_outage_kind_is_refused(api: FakeBotApi) -> None:
    with pytest.raises(ValueError, match="hang"):
        api.outage("503")


@pytest.mark.asyncio
async def test_a_message_sent_twice_in_a_row_is_listed_as_repeated(api: FakeBotApi, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("是", callback_data="yes")]])
    await bot.send_message(CHAT, "question", reply_markup=keyboard)
    await bot.send_message(CHAT, "question")  # another keyboard: not the same message
    await bot.send_message(CHAT, "question")
    await bot.edit_message_text("question!", chat_id=CHAT, message_id=1)
    assert [m["text"] for m in api.sends_to(CHAT)] == ["question"] * 3
    assert [m["message_id"] for m in api.repeated_sends(CHAT)] == [3]


@pytest.mark.asyncio
async def test_a_webhook_that_never_answers_fails_the_post_after_its_timeout(api: FakeBotApi) -> None:
    async def never(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", never)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await api.post_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook", {"update_id": 1}, timeout=0.2)
        assert time.monotonic() - started < 2
    finally:
        await runner.cleanup()


async def _pending_count(api: FakeBotApi) -> int:
    async with Bot(api.token, base_url=api.base_url) as bot:
        return (await bot.get_webhook_info()).pending_update_count


# ------------------------------------------------------------------------------------------- send limits


async def _post(api: FakeBotApi, method: str, **params: object) -> tuple[int, dict]:
    """One raw call, for the status and body that PTB turns into an exception."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{api.base_url}{api.token}/{method}", json=params) as response,
    ):
        return response.status, await response.json()


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # retry_after: int -> timedelta
async def test_a_global_limit_refuses_the_call_over_it_like_flood_control(api: FakeBotApi, bot: Bot) -> None:
    api.limit(per_second=3)
    for chat in (CHAT, CHAT + 1, CHAT + 2):
        await bot.send_message(chat, "within the limit")
    status, body = await _post(api, "sendMessage", chat_id=CHAT + 3, text="one too many")
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT + 4, "still too many")
    assert caught.value.retry_after in (1, dtm.timedelta(seconds=1))
    assert [m["chat_id"] for m in api.sent] == [CHAT, CHAT + 1, CHAT + 2]  # the refused calls were not sent
    assert [(reason, chat) for reason, chat, _ in api.throttled] == [("global", CHAT + 3), ("global", CHAT + 4)]
    assert all(when <= time.monotonic() for _, _, when in api.throttled)
    # Only the methods that show a message are limited.
    assert (await bot.get_me()).is_bot and await bot.send_chat_action(CHAT, "typing")
    assert await bot.get_updates() == ()


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # retry_after: int -> timedelta
async def test_the_global_limit_is_a_sliding_second(api: FakeBotApi, bot: Bot) -> None:
    api.limit(per_second=2)
    started = time.monotonic()
    await bot.send_message(CHAT, "first")
    await asyncio.sleep(0.5)
    await bot.send_message(CHAT, "second")
    with pytest.raises(RetryAfter):
        await bot.send_message(CHAT, "third, in the same second")
    await asyncio.sleep(max(0.0, started + 1.05 - time.monotonic()))
    await bot.send_message(CHAT, "third, once the first left the window")
    with pytest.raises(RetryAfter):  # the second is still in the window: it slides, it does not restart
        await bot.send_message(CHAT, "fourth")
    assert [m["text"] for m in api.sent] == ["first", "second", "third, once the first left the window"]
    assert len(api.throttled) == 2


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # retry_after: int -> timedelta
async def test_edits_count_towards_the_limit_and_a_refused_edit_is_not_applied(api: FakeBotApi, bot: Bot) -> None:
    api.limit(per_second=2)
    sent = await bot.send_message(CHAT, "question")
    await bot.edit_message_text("answer", chat_id=CHAT, message_id=sent.message_id)
    with pytest.raises(RetryAfter):
        await bot.edit_message_text("answer again", chat_id=CHAT, message_id=sent.message_id)
    assert [m["method"] for m in api.sent] == ["sendMessage", "editMessageText"]
    api.push_update(api.make_callback(CHAT, "pick", sent.message_id))
    update = (await bot.get_updates())[0]
    assert await update.callback_query.answer()  # answerCallbackQuery is not limited
    assert api.make_callback(CHAT, "pick", sent.message_id)["callback_query"]["message"]["text"] == "answer"


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # retry_after: int -> timedelta
async def test_a_call_the_method_refuses_still_counts_towards_the_limit(api: FakeBotApi, bot: Bot) -> None:
    api.limit(per_second=1)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(CHAT, " ")
    with pytest.raises(RetryAfter):
        await bot.send_message(CHAT, "a fine message, but the empty one took the room")


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # retry_after: int -> timedelta
async def test_a_chat_may_burst_and_then_gets_429_until_its_bucket_refills(api: FakeBotApi, bot: Bot) -> None:
    api.limit(per_chat_per_second=5, per_chat_burst=3)
    for n in range(3):
        await bot.send_message(CHAT, f"burst {n}")
    status, body = await _post(api, "sendMessage", chat_id=CHAT, text="over the burst")
    assert (status, body["parameters"]) == (429, {"retry_after": 1})
    await bot.send_message(CHAT + 1, "another chat has its own bucket")
    assert [(reason, chat) for reason, chat, _ in api.throttled] == [("chat", CHAT)]
    await asyncio.sleep(0.25)  # one call's worth at 5 per second
    await bot.send_message(CHAT, "refilled")
    with pytest.raises(RetryAfter):
        await bot.send_message(CHAT, "only one was refilled")
    assert [m["text"] for m in api.sends_to(CHAT)] == ["burst 0", "burst 1", "burst 2", "refilled"]


@pytest.mark.asyncio
async def test_a_group_gets_its_limit_per_minute(api: FakeBotApi, bot: Bot) -> None:
    group = -1001234567890
    api.limit(group_per_minute=2)
    await bot.send_message(group, "one")
    await bot.send_message(group, "two")
    status, body = await _post(api, "sendMessage", chat_id=group, text="three")
    assert status == 429 and 59 <= body["parameters"]["retry_after"] <= 60
    assert body["description"] == f"Too Many Requests: retry after {body['parameters']['retry_after']}"
    for n in range(3):  # private chats are not groups
        await bot.send_message(CHAT, f"private {n}")
    assert [(reason, chat) for reason, chat, _ in api.throttled] == [("group", group)]
    assert [m["text"] for m in api.sends_to(group)] == ["one", "two"]


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # retry_after: int -> timedelta
async def test_limit_without_arguments_lifts_the_limits_and_clear_records_empties_the_windows(
    api: FakeBotApi, bot: Bot
) -> None:
    api.limit(per_second=1)
    await bot.send_message(CHAT, "one")
    with pytest.raises(RetryAfter):
        await bot.send_message(CHAT, "two")
    api.clear_records()
    assert api.throttled == []
    await bot.send_message(CHAT, "after clear_records")  # the window is empty again, the limit still holds
    with pytest.raises(RetryAfter):
        await bot.send_message(CHAT, "over it again")
    api.limit(per_chat_per_second=1)  # replaces the overall limit
    await bot.send_message(CHAT + 1, "no overall limit any more")
    api.limit()
    for n in range(5):
        await bot.send_message(CHAT, f"unlimited {n}")
    assert len(api.sent) == 7 and len(api.throttled) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "limits", [{"per_second": 0}, {"per_chat_per_second": -1}, {"per_chat_burst": 0}, {"group_per_minute": 0}]
)
async def test_a_limit_that_lets_nothing_through_is_refused(api: FakeBotApi, limits: dict) -> None:
    with pytest.raises(ValueError):
        api.limit(**limits)


# ---------------------------------------------------------------------------------------------- HTML


@pytest.mark.asyncio
async def test_html_that_telegram_accepts_is_sent(api: FakeBotApi, bot: Bot) -> None:
    texts = [
        "<b>bold <i>italic <u>under</u></i></b> <strong>s</strong><em>e</em><ins>i</ins><s>s</s><strike>s</strike>"
        "<del>d</del>",
        '<a href="https://example.test/?a=1&amp;b=2">link</a> <span class="tg-spoiler">hidden</span>'
        "<tg-spoiler>hidden</tg-spoiler>",
        '<pre><code class="language-python">print(1 &lt; 2)</code></pre> <code>x</code>',
        "<blockquote>quote</blockquote><blockquote expandable>long quote</blockquote>",
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> &lt;&gt;&amp;&quot;&#39;&#x27; 1 > 0',
        "<B>tags are not case-sensitive</B>",
    ]
    for text in texts:
        await bot.send_message(CHAT, text, parse_mode="HTML")
    assert [m["text"] for m in api.sent] == texts


@pytest.mark.asyncio
async def test_the_bots_escaped_text_passes(api: FakeBotApi, bot: Bot) -> None:
    plain = "没看懂这个回答:不认识“<长春>”这个地方。 A & B, 1 < 2 > 0, \"quoted\" 'single' &amp; <b>"
    sent = await bot.send_message(CHAT, html.escape(plain), parse_mode="HTML")
    await bot.edit_message_text(html.escape(plain + "!"), chat_id=CHAT, message_id=sent.message_id, parse_mode="HTML")
    assert [m["text"] for m in api.sent] == [html.escape(plain), html.escape(plain + "!")]
    # The length limit is on what shows: escaping does not make a message too long, more text does.
    await bot.send_message(CHAT, html.escape("<" * 4096), parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(CHAT, html.escape("<" * 4097), parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(CHAT, "<b> </b>", parse_mode="HTML")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("你好 < b", 'Unsupported start tag "" at byte offset 7'),  # a stray "<"; the offset counts UTF-8 bytes
        ("1 <2", "Unclosed start tag at byte offset 2"),
        ("AT&T", 'Character "&" at byte offset 2 starts no entity and must be escaped as "&amp;"'),
        ("&nbsp;", 'Character "&" at byte offset 0 starts no entity'),
        ("&#0;", 'Character "&" at byte offset 0 starts no entity'),
        ("<a>no link</a>", 'Tag "a" must have attribute "href" at byte offset 0'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<tg-emoji>x</tg-emoji>", "Invalid custom emoji identifier specified"),
        ("<b open>x</b>", 'Expected equal sign in declaration of an attribute of the tag "b" at byte offset 0'),
        ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
    ],
)
async def test_html_that_telegram_cannot_parse_is_refused(api: FakeBotApi, text: str, description: str) -> None:
    status, body = await _post(api, "sendMessage", chat_id=CHAT, text=text, parse_mode="HTML")
    assert status == 400 and body["error_code"] == 400
    assert body["description"].startswith(f"Bad Request: can't parse entities: {description}")
    assert api.sent == []


@pytest.mark.asyncio
async def test_html_is_only_parsed_in_html_parse_mode_whatever_its_case(api: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "<b>bold</b>", parse_mode="HTML")
    status, body = await _post(api, "sendMessage", chat_id=CHAT, text="AT&T", parse_mode="html")
    assert status == 400
    assert body["description"].startswith("Bad Request: can't parse entities: ")
    with pytest.raises(BadRequest, match="(?i)can.t parse entities"):
        await bot.edit_message_text("<b>x", chat_id=CHAT, message_id=sent.message_id, parse_mode="HTML")
    await bot.send_message(CHAT, "<foo> & AT&T")  # no parse mode: shown as it is
    assert [m["text"] for m in api.sent] == ["<b>bold</b>", "<foo> & AT&T"]
