"""The web chat in a real headless Chromium (the system's /usr/bin/chromium, driven by Playwright): an interview with
buttons, the keyboard and free text, the calendar file downloaded, a changed answer, and the same results after a
reload.

Without a browser the test is skipped, unless REQUIRE_BROWSER is set (.ci/run sets it): then it fails, so CI never
passes without having run it. Nothing here downloads a browser.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from bot.store.sql import migrate
from handlers.reminders import BEIJING
from tests.channels.test_reminders_e2e import TRIAL, open_call
from tests.channels.test_web_api import web_bot

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
LAST_BOT = "#log > li.bot >> nth=-1"


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_BROWSER"):
        pytest.fail(f"REQUIRE_BROWSER is set but {reason}")
    pytest.skip(reason)


@pytest.fixture()
async def browser() -> AsyncIterator[object]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    async with async_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


async def bot_messages(page) -> int:
    return await page.locator("#log > li.bot").count()


async def until_more_messages(page, than: int) -> None:
    await page.wait_for_function("n => document.querySelectorAll('#log > li.bot').length > n", arg=than)


async def results_text(page) -> str:
    return await page.locator("#log > li.bot", has_text="规则版本").last.inner_text()


async def test_an_interview_in_the_browser_keeps_its_results_across_a_reload(browser, tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    # An application call for the clinical-trial reward closing ahead of today, whatever day the test runs.
    closes = datetime.now(BEIJING).date() + timedelta(days=30)
    await migrate(database)
    await open_call(database, closes)
    async with web_bot(database) as base:
        context = await browser.new_context(viewport=PHONE, locale="zh-CN", accept_downloads=True)
        page = await context.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        await page.goto(f"{base}/")

        # The first question asks for a typed answer, so the text box has the keyboard: type and press Enter.
        await page.locator(LAST_BOT, has_text="问题 1 / 约").wait_for()
        assert await page.evaluate("document.activeElement.id") == "text"
        seen = await bot_messages(page)
        await page.keyboard.type("长春")
        await page.keyboard.press("Enter")
        await until_more_messages(page, seen)
        industries = page.locator(LAST_BOT)
        await industries.get_by_text("问题 2 / 约").wait_for()

        # Multi-choice: the first option has the keyboard; Enter toggles it in place, and a click toggles another.
        focused = page.locator(":focus")
        assert await focused.get_attribute("aria-pressed") == "false"
        await page.keyboard.press("Enter")
        pressed = industries.locator("button[aria-pressed='true']")
        await pressed.first.wait_for()
        await industries.get_by_role("button", name="生物药", exact=True).click()
        await pressed.nth(1).wait_for()
        seen = await bot_messages(page)
        await industries.get_by_role("button", name="完成").click()
        await until_more_messages(page, seen)

        # The approvals in free text, then 不清楚 (a button) to every other question until the results.
        seen = await bot_messages(page)
        await page.fill("#text", "临床试验许可")
        await page.get_by_role("button", name="发送").click()
        await until_more_messages(page, seen)
        for _ in range(40):
            last = page.locator(LAST_BOT)
            if "规则版本" in await last.inner_text():
                break
            seen = await bot_messages(page)
            await last.get_by_role("button", name="不清楚").click()
            await until_more_messages(page, seen)
        else:
            raise AssertionError("the interview never reached its results")
        first_results = await results_text(page)

        # The calendar button under the results offers deadlines.ics; the link downloads a file calendar apps read.
        seen = await bot_messages(page)
        await page.locator("#log > li.bot", has_text="规则版本").last.get_by_role("button", name="加入日历").click()
        await until_more_messages(page, seen)
        link = page.locator(LAST_BOT).get_by_role("link", name="下载 deadlines.ics")
        async with page.expect_download() as downloading:
            await link.click()
        download = await downloading.value
        assert download.suggested_filename == "deadlines.ics"
        calendar = Calendar.from_ical(Path(await download.path()).read_bytes())
        uids = {str(event["uid"]) for event in calendar.walk("VEVENT")}
        assert f"{TRIAL}-{closes:%Y%m%d}@incentive-bot" in uids

        # Change one answer: the region, from the answers list; the results are shown again at once.
        seen = await bot_messages(page)
        await page.get_by_role("navigation").get_by_role("button", name="修改回答").click()
        await until_more_messages(page, seen)
        seen = await bot_messages(page)
        await page.locator(LAST_BOT).get_by_role("button", name="所在地区", exact=True).click()
        await until_more_messages(page, seen)
        seen = await bot_messages(page)
        await page.fill("#text", "武汉市")
        await page.keyboard.press("Enter")
        await until_more_messages(page, seen)
        await page.locator("#log > li.bot", has_text="规则版本").nth(1).wait_for()
        changed_results = await results_text(page)
        # Jilin's rewards do not reach an enterprise in Wuhan.
        assert "✅ 可以申请" in first_results and "✅ 可以申请" not in changed_results

        # A reload shows the same conversation, the changed results included.
        await page.reload()
        await page.locator("#log > li.bot", has_text="规则版本").nth(1).wait_for()
        assert await results_text(page) == changed_results
        ARTIFACTS.mkdir(exist_ok=True)
        await page.locator("#log > li.bot", has_text="规则版本").last.scroll_into_view_if_needed()
        await page.screenshot(path=str(ARTIFACTS / "web-chat-results.png"))
        assert all(url.startswith(base) for url in requested), [u for u in requested if not u.startswith(base)]
        await context.close()


async def test_an_officials_notice_shows_its_formatting_its_link_and_escaped_text_as_text(
    browser, tmp_path: Path
) -> None:
    """A notice is written in Telegram's HTML (checked when it is sent: only Telegram's tags, links to web
    addresses): the page draws its bold and italic text and its link, which opens apart from the chat, and an
    escaped < as the character, not as markup."""
    database = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    await migrate(database)
    notice = tmp_path / "notice.html"
    notice.write_text(
        '<b>2026年度专精特新申报开始</b>\n详见 <a href="https://fgw.jl.gov.cn/call">申报通知</a>。'
        "<i>截止 12月31日</i>,营业收入 &lt;2000万元 的企业 <u>另行通知</u>&lt;script&gt;",
        encoding="utf-8",
    )
    async with web_bot(database) as base:
        context = await browser.new_context(viewport=PHONE, locale="zh-CN")
        page = await context.new_page()
        await page.goto(f"{base}/")
        await page.locator(LAST_BOT, has_text="问题 1 / 约").wait_for()

        sender = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "notice", "send", str(notice), "--all",
            env={**os.environ, "DATABASE_URL": database}, cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await sender.communicate()
        assert sender.returncode == 0, err.decode()

        shown = page.locator("#log > li.bot", has_text="专精特新申报开始")
        await shown.wait_for(timeout=20_000)
        assert await shown.locator("strong").inner_text() == "2026年度专精特新申报开始"
        assert await shown.locator("em").inner_text() == "截止 12月31日"
        link = shown.get_by_role("link", name="申报通知")
        assert await link.get_attribute("href") == "https://fgw.jl.gov.cn/call"
        assert await link.get_attribute("target") == "_blank"
        assert "noopener" in (await link.get_attribute("rel") or "")
        assert await shown.locator("u").inner_text() == "另行通知"
        text = await shown.inner_text()
        assert "营业收入 <2000万元 的企业" in text and "另行通知<script>\n" in text
        assert "<b>" not in text and await shown.locator("script").count() == 0
        await context.close()
