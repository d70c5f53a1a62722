"""The webhook endpoint, served by aiohttp, in front of a real python-telegram-bot Application."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels.webhook import MAX_UPDATE_BYTES, SECRET_HEADER, webhook_app
from tests.fakes.bot_api import FakeBotApi

PATH = "/telegram"
SECRET = "webhook-Secret_for-tests"
HEADERS = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}


class Received:
    """The updates the Application handled."""

    def __init__(self) -> None:
        self.updates: list[Update] = []
        self.arrived = asyncio.Event()

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self.updates.append(update)
        self.arrived.set()


@pytest.fixture()
async def received() -> Received:
    return Received()


@pytest.fixture()
async def client(received: Received) -> AsyncIterator[TestClient]:
    """The webhook app on a real port, feeding an Application that was initialised against a fake Bot API."""
    async with FakeBotApi() as api:
        application = Application.builder().token(api.token).base_url(api.base_url).updater(None).build()
        application.add_handler(TypeHandler(Update, received))
        async with application:
            await application.start()
            async with TestClient(TestServer(webhook_app(application, PATH, SECRET))) as test_client:
                yield test_client
            await application.stop()


def message_update(update_id: int = 1, text: str = "十二亿") -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 5,
            "date": 1_700_000_000,
            "chat": {"id": 42, "type": "private", "first_name": "Li"},
            "from": {"id": 42, "is_bot": False, "first_name": "Li"},
            "text": text,
        },
    }


async def assert_refused(response, status: int) -> None:
    body = await response.read()
    assert response.status == status, body
    assert response.content_type == "application/json"
    assert len(body) < 200 and b"Traceback" not in body
    assert json.loads(body)["ok"] is False


async def test_a_real_update_is_accepted_and_handled(client: TestClient, received: Received) -> None:
    response = await client.post(PATH, data=json.dumps(message_update()), headers=HEADERS)
    assert response.status == 200 and (await response.json()) == {"ok": True}
    await asyncio.wait_for(received.arrived.wait(), 5)
    assert received.updates[0].message.text == "十二亿"


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"null",
        b"123",
        b'"x"',
        b"true",
        b"{}",
        b'{"update_id":1,"message":5}',
        b'{"update_id":1,"message":[]}',
        b'{"update_id":1,"message":null}',
        b'{"update_id":"a"}',
        b'{"update_id":true}',
        b'{"update_id":1.5}',
        b'{"update_id":-1}',
        b'{"update_id":123456789012345678901234567890}',
        b'{"update_id":1,"message":{}}',
        b'{"update_id":1,"message":{"message_id":1,"date":1,"chat":5}}',
        b'{"update_id":1,"callback_query":{"id":"1"}}',
        b'{"update_id":1,"message":{"message_id":"x","date":"y","chat":{"id":"z","type":7}}}',
        b"",
        b"{",
        b'{"update_id":1,',
        b"\xff\xfe{}",
        b'{"update_id":1,"message":{"text":"\xe5\x8d"}}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"update_id":1,"message":{"message_id":' + b"1" * 5000 + b',"date":1,"chat":{"id":1,"type":"private"}}}',
        b'{"update_id":' + b"7" * 5000 + b"}",
        b'{"update_id":1,"message":' * 5_000 + b"{}" + b"}" * 5_000,
    ],
    ids=lambda body: repr(body[:40]),
)
async def test_a_body_that_is_not_a_telegram_update_gets_400_and_a_small_json_error(
    client: TestClient, received: Received, body: bytes
) -> None:
    await assert_refused(await client.post(PATH, data=body, headers=HEADERS), 400)
    await asyncio.sleep(0.05)
    assert received.updates == []


def nested_replies(depth: int) -> bytes:
    """A message replying to a message replying to … depth times, as JSON (too deep for json.dumps to write)."""
    inner = '{"message_id":1,"date":1,"chat":{"id":42,"type":"private"},"text":"x"'
    message = (inner + ',"reply_to_message":') * depth + inner + "}" + "}" * depth
    return ('{"update_id":1,"message":' + message + "}").encode()


async def test_a_message_nested_deeper_than_json_can_read_gets_400(client: TestClient, received: Received) -> None:
    body = nested_replies(5_000)
    assert len(body) < MAX_UPDATE_BYTES
    await assert_refused(await client.post(PATH, data=body, headers=HEADERS), 400)
    assert received.updates == []


async def test_a_body_over_the_limit_gets_413_with_or_without_a_length(client: TestClient, received: Received) -> None:
    padding = "x" * MAX_UPDATE_BYTES
    big = json.dumps(message_update(text=padding)).encode()
    await assert_refused(await client.post(PATH, data=big, headers=HEADERS), 413)

    async def chunks() -> AsyncIterator[bytes]:  # sent chunked: no Content-Length to go by
        for start in range(0, len(big), 64 << 10):
            yield big[start : start + (64 << 10)]

    await assert_refused(await client.post(PATH, data=chunks(), headers=HEADERS), 413)
    assert received.updates == []


async def test_an_update_just_under_the_limit_is_accepted(client: TestClient, received: Received) -> None:
    update = message_update(text="")
    update["message"]["text"] = "x" * (MAX_UPDATE_BYTES - len(json.dumps(update)) - 16)
    response = await client.post(PATH, data=json.dumps(update), headers=HEADERS)
    assert response.status == 200
    await asyncio.wait_for(received.arrived.wait(), 5)


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b"x" * (MAX_UPDATE_BYTES + 1), json.dumps(message_update()).encode()]
)
async def test_the_secret_is_checked_before_anything_about_the_body(
    client: TestClient, received: Received, body: bytes
) -> None:
    await assert_refused(await client.post(PATH, data=body, headers={SECRET_HEADER: "wrong"}), 403)
    await assert_refused(await client.post(PATH, data=body), 403)
    assert received.updates == []


async def test_a_secret_header_that_is_not_utf8_gets_403_not_500(client: TestClient, received: Received) -> None:
    reader, writer = await asyncio.open_connection(client.host, client.port)
    body = json.dumps(message_update()).encode()
    writer.write(
        b"POST " + PATH.encode() + b" HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        b"X-Telegram-Bot-Api-Secret-Token: \xff\xfe\xc3\r\nConnection: close\r\n\r\n" + body
    )
    await writer.drain()
    response = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    status_line = response.split(b"\r\n", 1)[0]
    assert b" 403 " in status_line or b" 400 " in status_line, response
    assert received.updates == []


async def test_health_still_answers(client: TestClient) -> None:
    response = await client.get("/healthz")
    assert response.status == 200 and (await response.json()) == {"status": "ok", "running": True}
