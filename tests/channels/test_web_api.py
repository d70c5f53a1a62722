"""The web chat's JSON API, page and operations routes, on the real server `serve` runs (real aiohttp, real store)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from icalendar import Calendar
from openapi_spec_validator import validate

from bot.channels.web import chat_of
from bot.service import run_bot
from bot.settings import load_settings
from bot.store.sql import migrate
from handlers.reminders import BEIJING
from tests.channels.test_reminders_e2e import TITLE, TRIAL, WHERE, open_call
from tests.channels.test_telegram_e2e import database  # noqa: F401  (the sqlite/postgresql fixture)
from tests.channels.web_driver import ApiError, WebContact, asking, interview

ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def web_bot(database: str, **settings: str) -> AsyncIterator[str]:
    """`serve` without a token (the web chat alone) on a free port, until the block ends; yields its base URL."""
    out, stop = io.StringIO(), asyncio.Event()
    environment = {
        "DATABASE_URL": database,
        "PORT": "0",
        "LOG_LEVEL": "WARNING",
        "RULES_WATCH": "off",
        **settings,
    }
    task = asyncio.create_task(run_bot(load_settings(environment), stop, out))
    for _ in range(600):
        if "http://" in out.getvalue() or task.done():
            break
        await asyncio.sleep(0.025)
    if task.done():
        task.result()  # surfaces a start-up failure
    base = re.search(r"http://\S+/", out.getvalue()).group(0).rstrip("/")
    try:
        yield base
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture()
async def sqlite(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"


@pytest.fixture()
async def server(sqlite: str) -> AsyncIterator[str]:
    async with web_bot(sqlite) as base:
        yield base


@pytest.fixture()
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def status_and_json(response: aiohttp.ClientResponse) -> tuple[int, dict]:
    assert response.content_type == "application/json", await response.text()
    return response.status, await response.json()


def assert_refused(status: int, body: dict, expected: int, *words: str) -> None:
    assert status == expected, body
    assert body["ok"] is False and isinstance(body["error"], str)
    assert "Traceback" not in body["error"]
    assert all(word in body["error"] for word in words), body["error"]


# The page


async def test_the_page_and_its_files_come_from_the_bot_itself(server: str, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{server}/") as response:
        page = await response.text()
        assert response.status == 200 and response.content_type == "text/html"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    references = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert references and all(ref.startswith("/") and not ref.startswith("//") for ref in references), references
    for reference in references:
        async with http.get(f"{server}{reference}") as response:
            assert response.status == 200, reference
            assert "http://" not in await response.text() and "https://" not in await response.text()
    async with http.get(f"{server}/assets/..%2f..%2fpyproject.toml") as response:
        assert_refused(*await status_and_json(response), 404)


# A whole conversation


async def test_a_session_starts_with_the_first_question_and_its_progress(server: str, http) -> None:
    async with http.post(f"{server}/api/sessions") as response:
        assert response.status == 201
        token = (await response.json())["token"]
        assert len(token) >= 43 and response.cookies["incentive_bot_session"]["httponly"]
    # The cookie alone names the chat, as the page uses it.
    async with http.post(f"{server}/api/messages", json={"command": "start"}) as response:
        status, body = await status_and_json(response)
    assert status == 200
    first = body["messages"][-1]
    question = first["question"]
    assert question["id"] == "region" and question["type"] == "region" and question["options"] == []
    number, total = question["progress"]
    assert number == 1 and total > 1
    assert first["text"].startswith(f"问题 1 / 约 {total}")
    assert any(b["label"] == "不清楚" for row in first["buttons"] for b in row)


async def test_a_whole_interview_reaches_the_results_and_the_chat_keeps_them(database: str, http) -> None:  # noqa: F811
    async with web_bot(database) as base:
        contact = await WebContact(http, base).open()
        results = await interview(contact, random.Random(3))
        last = results[-1]
        assert last["question"] is None and "规则版本" in last["text"]
        # Read back, as a page does after a reload: every message, in order, the results last.
        kept = await contact.read()
        assert [m["id"] for m in kept][-len(results) :] == [m["id"] for m in results]
        assert kept[-1]["text"] == last["text"]
        assert [m["id"] for m in kept] == sorted(m["id"] for m in kept)


async def test_choices_toggle_in_place_and_the_answer_moves_the_progress_on(server: str, http) -> None:
    contact = await WebContact(http, server).open()
    await contact.send(command="start")
    industries = asking(await contact.send(text="长春"))
    assert industries["question"]["id"] == "industries" and industries["question"]["progress"][0] == 2
    assert {"value": "biologics", "label": "生物药"} in industries["question"]["options"]
    toggled = (await contact.press(industries, "生物药"))[-1]
    assert toggled["replaces"] == industries["id"] and toggled["question"]["chosen"] == ["biologics"]
    assert any(b["label"] == "✓ 生物药" for row in toggled["buttons"] for b in row)
    following = asking(await contact.press(toggled, "完成"))
    assert following["question"]["id"] != "industries" and following["question"]["progress"][0] == 3


async def test_a_typed_slash_command_and_the_language_switch_work_as_in_telegram(server: str, http) -> None:
    contact = await WebContact(http, server).open()
    await contact.send(command="start")
    choose = (await contact.send(text="/lang"))[-1]
    assert [b["label"] for row in choose["buttons"] for b in row] == ["简体中文", "繁體中文", "English"]
    replies = await contact.press(choose, "English")
    assert replies[-1]["text"].startswith("Question 1 of about")


async def test_an_english_browser_starts_in_english(server: str, http) -> None:
    contact = await WebContact(http, server).open()
    async with http.post(
        f"{server}/api/messages", json={"command": "start"}, headers={**contact.headers, "Accept-Language": "en-GB,en"}
    ) as response:
        assert "Where is your enterprise registered" in (await response.json())["messages"][-1]["text"]


async def test_a_changed_answer_shows_new_results(server: str, http) -> None:
    contact = await WebContact(http, server).open()
    results = await interview(contact, random.Random(5))
    profile = (await contact.press(results[-1], "修改回答"))[-1]
    region = asking(await contact.press(profile, "地区"))
    assert region["question"]["id"] == "region"
    replies = await contact.send(text="通化市东昌区")
    assert any("结果" in m["text"] and "规则版本" in m["text"] for m in replies)


async def test_sessions_are_separate_chats_and_the_bearer_header_names_one(server: str, http) -> None:
    first, second = await WebContact(http, server).open(), await WebContact(http, server).open()
    assert chat_of(first.token) != chat_of(second.token)
    await first.send(command="start")
    await first.send(text="长春")
    assert asking(await second.send(command="start"))["question"]["id"] == "region"
    again = await first.send(command="start")
    assert asking(again)["question"]["id"] == "industries"  # welcome back, where it left off


async def test_forget_deletes_the_chat_and_a_new_start_asks_from_the_beginning(server: str, http) -> None:
    contact = await WebContact(http, server).open()
    await contact.send(command="start")
    await contact.send(text="长春")
    confirm = (await contact.send(command="forget"))[-1]
    done = (await contact.press(confirm, "删除"))[-1]
    assert done["replaces"] == confirm["id"]
    kept = await contact.read()
    assert not any("长春" in m["text"] for m in kept)
    assert asking(await contact.send(command="start"))["question"]["progress"][0] == 1


async def test_the_conversation_survives_a_restart(sqlite: str, http) -> None:
    async with web_bot(sqlite) as base:
        contact = await WebContact(http, base).open()
        await contact.send(command="start")
        await contact.send(text="长春")
    async with web_bot(sqlite) as base:
        contact.base = base
        kept = await contact.read()
        assert kept and asking(kept)["question"]["id"] == "industries"
        assert asking(await contact.send(command="start"))["question"]["id"] == "industries"


# The calendar file


async def biologics_firm_in_changchun(contact: WebContact) -> None:
    """A contact whose answers so far make the clinical-trial reward possible (it has a trial permit)."""
    await contact.send(command="start")
    industries = asking(await contact.send(text="长春"))
    toggled = (await contact.press(industries, "生物药"))[-1]
    await contact.press(toggled, "完成")
    await contact.send(text="临床试验许可")


async def test_the_calendar_file_downloads_with_its_session_alone(sqlite: str, http) -> None:
    closes = datetime.now(BEIJING).date() + timedelta(days=30)
    await migrate(sqlite)
    await open_call(sqlite, closes)
    async with web_bot(sqlite) as base:
        contact = await WebContact(http, base).open()
        await biologics_firm_in_changchun(contact)
        message = (await contact.send(command="calendar"))[-1]
        assert "申报截止日历" in message["text"]
        assert message["file"]["name"] == "deadlines.ics" and message["file"]["media_type"] == "text/calendar"

        async with http.get(f"{base}{message['file']['url']}", headers=contact.headers) as response:
            assert response.status == 200, await response.text()
            assert response.content_type == "text/calendar"
            assert response.headers["Content-Disposition"].startswith('attachment; filename="deadlines.ics"')
            calendar = Calendar.from_ical(await response.read())
        events = {str(event["uid"]): event for event in calendar.walk("VEVENT")}
        event = events[f"{TRIAL}-{closes:%Y%m%d}@incentive-bot"]
        assert event.decoded("dtstart") == closes and str(event["summary"]) == f"申报截止:{TITLE}"
        assert WHERE in str(event["description"])

        # The 📅 button under the results offers the same file, and a reload shows the link again.
        results = (await contact.send(command="results"))[-1]
        pressed = (await contact.press(results, "加入日历"))[-1]
        assert pressed["file"]["url"] != message["file"]["url"]
        kept = {m["id"]: m for m in await contact.read()}
        assert kept[message["id"]]["file"] == message["file"]

        # Another session, even knowing the url, gets nothing: as if there were no such message.
        stranger = await WebContact(http, base).open()
        async with http.get(f"{base}{message['file']['url']}", headers=stranger.headers) as response:
            assert_refused(*await status_and_json(response), 404, "/calendar")
        async with aiohttp.ClientSession() as fresh, fresh.get(f"{base}{message['file']['url']}") as response:
            assert_refused(*await status_and_json(response), 401)
        # A message without a file, and an id nobody used, have none either.
        async with http.get(f"{base}/api/messages/{results['id']}/file", headers=contact.headers) as response:
            assert_refused(*await status_and_json(response), 404)
        async with http.get(f"{base}/api/messages/987654321/file", headers=contact.headers) as response:
            assert_refused(*await status_and_json(response), 404)


@pytest.mark.parametrize("message_id", ["abc", "-1", "1.5", "99999999999999999999", "%D9%A3"])
async def test_a_file_asked_for_by_a_malformed_id_gets_400(server: str, http, message_id: str) -> None:
    contact = await WebContact(http, server).open()
    async with http.get(f"{server}/api/messages/{message_id}/file", headers=contact.headers) as response:
        assert_refused(*await status_and_json(response), 400, "whole number")


# Bad input


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"not json", ["JSON"]),
        (b"\xff\xfe", ["JSON"]),
        (b"[1, 2]", ["JSON object"]),
        (json.dumps({"text": 5}).encode(), ["text", "string"]),
        (json.dumps({"text": "   "}).encode(), ["empty"]),
        (json.dumps({"text": "长" * 4097}).encode(), ["4,096"]),
        (json.dumps({"text": "长春", "command": "start"}).encode(), ["exactly one"]),
        (json.dumps({}).encode(), ["exactly one"]),
        (json.dumps({"text": "长春", "colour": "red"}).encode(), ["colour"]),
        (json.dumps({"command": "rm -rf"}).encode(), ["command"]),
        (json.dumps({"button": "x" * 65}).encode(), ["64"]),
        (json.dumps({"button": "a:region:1", "message_id": -1}).encode(), ["message_id"]),
        (json.dumps({"button": "a:region:1", "message_id": "12"}).encode(), ["message_id"]),
        (json.dumps({"text": "长春", "after": True}).encode(), ["after"]),
    ],
)
async def test_a_message_that_is_not_one_gets_400_saying_why(server: str, http, body: bytes, words: list) -> None:
    contact = await WebContact(http, server).open()
    headers = {**contact.headers, "Content-Type": "application/json"}
    async with http.post(f"{server}/api/messages", data=body, headers=headers) as response:
        assert_refused(*await status_and_json(response), 400, *words)


async def test_text_of_exactly_4096_characters_is_read(server: str, http) -> None:
    contact = await WebContact(http, server).open()
    await contact.send(command="start")
    replies = await contact.send(text="长" * 4096)
    assert "没看懂" in replies[0]["text"]  # read, and answered with a hint, not refused


async def test_a_body_over_the_limit_gets_413(server: str, http) -> None:
    contact = await WebContact(http, server).open()
    body = json.dumps({"text": "x" * 40_000}).encode()
    async with http.post(f"{server}/api/messages", data=body, headers=contact.headers) as response:
        assert_refused(*await status_and_json(response), 413, "larger")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: refused as it arrives
        for _ in range(40):
            yield b"x" * 1024

    async with http.post(f"{server}/api/messages", data=chunks(), headers=contact.headers) as response:
        assert_refused(*await status_and_json(response), 413, "larger")


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        ({}, ["POST /api/sessions"]),
        ({"Authorization": "Bearer short"}, ["not a session token"]),
        ({"Authorization": "Bearer " + "é" * 43}, ["not a session token"]),
        ({"Cookie": "incentive_bot_session=../../etc"}, ["not a session token"]),
    ],
)
async def test_a_request_without_a_session_gets_401(server: str, headers: dict, words: list) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server}/api/messages", json={"command": "start"}, headers=headers) as response:
            assert_refused(*await status_and_json(response), 401, *words)
        async with http.get(f"{server}/api/messages", headers=headers) as response:
            assert_refused(*await status_and_json(response), 401, *words)


async def test_a_token_nobody_used_names_an_empty_chat(server: str, http) -> None:
    stranger = WebContact(http, server, token="A" * 43)
    assert await stranger.read() == []


@pytest.mark.parametrize("query", ["after=-1", "after=x", "wait=26", "wait=1.5", "after=99999999999999999999"])
async def test_a_read_with_bad_parameters_gets_400(server: str, http, query: str) -> None:
    contact = await WebContact(http, server).open()
    async with http.get(f"{server}/api/messages?{query}", headers=contact.headers) as response:
        assert_refused(*await status_and_json(response), 400, "whole number")


async def test_a_session_sending_too_fast_gets_429_with_retry_after(sqlite: str, http) -> None:
    # 0.5 requests a second in bursts of 2: the third of a quick run is refused.
    async with web_bot(sqlite, WEB_RATE_LIMIT="0.5") as base:
        contact = await WebContact(http, base).open()
        await contact.send(command="start")
        await contact.read()
        with pytest.raises(ApiError) as refused:
            await contact.read()
        assert refused.value.status == 429 and "try again" in refused.value.body["error"]
        async with http.get(f"{base}/api/messages", headers=contact.headers) as response:
            assert response.status == 429 and int(response.headers["Retry-After"]) >= 1
        # Another session is not held back by this one.
        other = await WebContact(http, base).open()
        assert await other.read() == []


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/nothing", 404),
        ("GET", "/nothing", 404),
        ("DELETE", "/api/messages", 405),
        ("GET", "/api/sessions", 405),
    ],
)
async def test_an_unknown_route_or_method_gets_a_json_error(server: str, method: str, path: str, status: int) -> None:
    async with aiohttp.ClientSession() as http, http.request(method, f"{server}{path}") as response:
        assert_refused(*await status_and_json(response), status)


# The API's description


async def test_the_openapi_document_validates_and_describes_every_api_route(server: str, http) -> None:
    async with http.get(f"{server}/api/openapi.json") as response:
        spec = await response.json()
    validate(spec)
    async with aiohttp.ClientSession() as fresh, fresh.get(f"{server}/api/nothing") as response:
        assert set(spec["components"]["schemas"]["Error"]["required"]) <= set(await response.json())
    from aiohttp import web

    from bot.channels.web import Arrivals, WebChannel

    app = web.Application()
    WebChannel(None, None, Arrivals()).add_routes(app)  # type: ignore[arg-type]  (routes only)
    served = {(route.method.lower(), route.resource.canonical) for route in app.router.routes()}
    documented = {(method, path) for path, item in spec["paths"].items() for method in item}
    api = {(method, path) for method, path in served if path.startswith("/api/") and method != "head"}
    assert api and api <= documented
    assert ("get", "/healthz") in documented and ("get", "/metrics") in documented


async def test_every_message_the_api_gives_has_the_documented_fields(server: str, http) -> None:
    async with http.get(f"{server}/api/openapi.json") as response:
        spec = await response.json()
    schemas = spec["components"]["schemas"]
    contact = await WebContact(http, server).open()
    await interview(contact, random.Random(11))
    for message in contact.messages:
        assert set(schemas["Message"]["required"]) <= set(message)
        if message["file"] is not None:
            assert set(schemas["File"]["required"]) <= set(message["file"])
        if message["question"] is not None:
            assert set(schemas["Question"]["required"]) <= set(message["question"])
            assert message["question"]["type"] in schemas["Question"]["properties"]["type"]["enum"]


# Operations


async def test_health_answers(server: str, http) -> None:
    async with http.get(f"{server}/healthz") as response:
        assert response.status == 200 and (await response.json())["status"] == "ok"


async def test_metrics_count_the_traffic_and_name_no_session_or_chat(server: str, http) -> None:
    contact = await WebContact(http, server).open()
    await interview(contact, random.Random(2))
    async with http.get(f"{server}/metrics") as response:
        assert response.status == 200 and response.content_type == "text/plain"
        text = await response.text()
    updates = re.search(r'^incentive_bot_updates_total\{channel="web"\} (\d+)', text, re.M)
    assert updates and int(updates.group(1).split(".")[0]) >= len([m for m in contact.messages if m["question"]])
    assert re.search(r'^incentive_bot_messages_sent_total\{channel="web",kind="reply"\} [1-9]', text, re.M)
    assert re.search(r'^incentive_bot_reply_seconds_bucket\{channel="web",le="0.1"\} [1-9]', text, re.M)
    assert re.search(r'^incentive_bot_outbox_messages\{state="sent"\} [1-9]', text, re.M)
    version = re.search(r"规则版本 (\w+)", contact.messages[-1]["text"]).group(1)
    assert re.search(rf'^incentive_bot_rules_info\{{version="{version}\w*"\}} 1', text, re.M)
    assert "incentive_bot_errors_total" in text or "incentive_bot_errors" in text
    assert contact.token not in text and str(chat_of(contact.token).id) not in text


async def test_serve_with_no_settings_starts_the_web_chat_and_prints_where(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "HOST", "PORT"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve",
        env=clean | {"PYTHONPATH": str(ROOT), "PORT": "0", "LOG_LEVEL": "WARNING"},
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 120)).decode()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, line + (await process.stderr.read()).decode()
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(f"{url.group(0)}healthz") as response:
                assert (await response.json())["status"] == "ok"
            contact = await WebContact(http, url.group(0)).open()
            assert asking(await contact.send(command="start"))["question"]["id"] == "region"
        assert (tmp_path / "incentive-bot.sqlite3").exists()  # the embedded default database
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
