"""The aiohttp transport under python-telegram-bot: what reaches the Bot API, and how failures surface."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut

from bot.channels.aiohttp_request import AiohttpRequest
from bot.channels.telegram import _retry_seconds
from tests.fakes.bot_api import FakeBotApi

pytestmark = pytest.mark.asyncio

TOKEN = "123456789:AAH-fake-token-for-tests_0123456789"


@pytest.fixture()
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN) as fake:
        yield fake


def bot_on(base_url: str, **timeouts: float) -> Bot:
    return Bot(TOKEN, base_url=base_url, request=AiohttpRequest(**timeouts))


async def test_a_message_with_chinese_text_and_buttons_arrives_as_sent(api: FakeBotApi) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("生物药 ✓", callback_data="t:industries:biologics")]])
    async with bot_on(api.base_url) as bot:
        sent = await bot.send_message(7001, "您的企业在哪个地区?<b>&", reply_markup=keyboard)
    received = api.messages_to(7001)[-1]
    assert received["text"] == "您的企业在哪个地区?<b>&"
    assert received["reply_markup"] == {
        "inline_keyboard": [[{"text": "生物药 ✓", "callback_data": "t:industries:biologics"}]]
    }
    assert sent.message_id == received["message_id"] and sent.chat.id == 7001


async def test_the_bot_api_errors_reach_the_caller_as_telegram_errors(api: FakeBotApi) -> None:
    async with bot_on(api.base_url) as bot:
        api.fail_next("sendMessage", 429, retry_after=3)
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(7001, "hi")
        api.block_chat(7002)
        with pytest.raises(Forbidden):
            await bot.send_message(7002, "hi")
    assert _retry_seconds(flood.value) == 3


async def test_a_server_that_does_not_answer_in_time_is_a_timeout() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.json_response({"ok": True, "result": True})

    async with _server(slow) as base_url, AiohttpRequest(read_timeout=0.2, write_timeout=0.1) as request:
        with pytest.raises(TimedOut):
            await request.post(f"{base_url}{TOKEN}/getMe")


async def test_a_refused_connection_is_a_network_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the request: nothing listens there
    request = AiohttpRequest()
    async with request:
        with pytest.raises(NetworkError, match="aiohttp"):
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")


async def test_a_file_goes_as_multipart_with_the_other_parameters_beside_it() -> None:
    received: dict[str, object] = {}

    async def upload(request: web.Request) -> web.Response:
        received["content_type"] = request.content_type
        form = await request.post()
        received["chat_id"] = form["chat_id"]
        received["file"] = (form["document"].filename, form["document"].file.read())
        message = {"message_id": 5, "date": 0, "chat": {"id": 7001, "type": "private"}}
        return web.json_response({"ok": True, "result": message})

    async with _server(upload) as base_url:
        bot = bot_on(base_url)
        await bot.request.initialize()  # not bot.initialize(): that would ask this one-route server getMe
        try:
            sent = await bot.send_document(7001, InputFile(b"%PDF-1.4", filename="materials.pdf"))
        finally:
            await bot.request.shutdown()
    assert sent.message_id == 5
    assert received == {
        "content_type": "multipart/form-data",
        "chat_id": "7001",
        "file": ("materials.pdf", b"%PDF-1.4"),
    }


async def test_parameters_travel_as_json_which_the_bot_api_reads_like_a_form() -> None:
    bodies: list[tuple[str, dict]] = []

    async def record(request: web.Request) -> web.Response:
        bodies.append((request.content_type, json.loads(await request.read())))
        return web.json_response({"ok": True, "result": True})

    async with _server(record) as base_url, AiohttpRequest() as request:
        bot = Bot(TOKEN, base_url=base_url, request=request)
        assert await bot.answer_callback_query("cb-1", text="按钮已过期") is True
    content_type, body = bodies[-1]
    assert content_type == "application/json"
    assert body == {"callback_query_id": "cb-1", "text": "按钮已过期"}


async def test_using_the_transport_before_it_is_initialized_says_so() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:9/", "POST")


class _server:
    """A one-route Bot API stand-in for what the fake cannot do (hang, take uploads); yields its base URL."""

    def __init__(self, handler) -> None:
        self.handler = handler

    async def __aenter__(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handler)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1)  # a hanging handler must not hold the test up
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/bot"

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()


async def test_requests_go_through_the_proxy_the_environment_names(
    api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake Bot API stands in for the proxy: a plain-HTTP proxy receives the absolute URL and answers it.
    proxy = api.base_url.split("/bot")[0]
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with bot_on("http://api.telegram.invalid/bot") as bot:
        await bot.send_message(4242, "经由代理")
    assert api.messages_to(4242)[0]["text"] == "经由代理"
