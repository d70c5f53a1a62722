"""`incentive-bot notice …` as an official uses it: a dry run, sending, status, cancelling, and a notice that
carries an application call, which shows in matching contacts' deadlines."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from bot.loading import load_engine
from bot.messages import ChatKey
from bot.notices import LiveEngine
from bot.store.base import ChatState
from bot.store.sql import SqlChatStore, migrate
from handlers.render import deadlines_message


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database with three contacts: two in Changchun (one opted out), one in Wuhan."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)

    async def seed() -> None:
        await migrate(url)
        store = SqlChatStore.from_url(url)
        try:
            people = [(1, "吉林省/长春市", True), (2, "吉林省/长春市/南关区", False), (3, "湖北省/武汉市", True)]
            for chat, region, subscribed in people:
                answers = {"region": region, "industries": ["biologics"], "approvals": ["clinical_trial_permit"]}
                await store.save(ChatState(ChatKey("telegram", chat), answers=answers, subscribed=subscribed))
        finally:
            await store.close()

    asyncio.run(seed())
    return url


def test_a_dry_run_counts_and_shows_and_sends_nothing(database: str, tmp_path: Path, capsys) -> None:
    notice = tmp_path / "notice.html"
    notice.write_text("<b>2027年度申报通知</b>\n请于一月底前申报。", encoding="utf-8")
    code, out, err = run(["notice", "send", str(notice), "--region", "长春市", "--dry-run"], capsys)
    assert code == 0, err
    assert out.startswith("1 recipients (region 吉林省/长春市); left out: 1 opted out, 0 blocked the bot")
    assert "<b>2027年度申报通知</b>" in out and "/unsubscribe" in out and "nothing was sent" in out
    assert run(["notice", "list"], capsys)[1] == ""


def test_send_status_cancel_and_the_audit_log(database: str, tmp_path: Path, capsys) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text("申报通知:第一批", encoding="utf-8")
    code, _, err = run(["notice", "send", str(notice)], capsys)
    assert code == 2 and "--all" in err, "no audience given: nothing is sent to everyone by accident"
    code, out, err = run(["notice", "send", str(notice), "--all", "--at", "2099-01-01 09:00"], capsys)
    assert code == 2 and "at most 366 days" in err
    code, out, _ = run(["notice", "send", str(notice), "--all", "--at", "2026-12-30 09:00"], capsys)
    assert code == 0 and out.startswith("notice #1 queued: 2 recipients (all subscribers)")
    code, out, _ = run(["notice", "status", "1", "--json"], capsys)
    status = json.loads(out)
    assert (status["state"], status["recipients"], status["pending"], status["sent"]) == ("scheduled", 2, 2, 0)
    assert status["send_at"].startswith("2026-12-30T01:00") and status["excluded"] == {"opted_out": 1, "blocked": 0}
    code, out, _ = run(["notice", "cancel", "1"], capsys)
    assert code == 0 and "2 messages not yet sent will not be" in out
    assert run(["notice", "cancel", "1"], capsys)[0] == 1
    assert "Notice #1: cancelled" in run(["notice", "status", "1"], capsys)[1]
    assert run(["notice", "status", "7"], capsys)[2].strip() == "error: there is no notice #7"
    records = [json.loads(line) for line in run(["audit", "--json"], capsys)[1].splitlines()]
    assert [(r["action"], r["notice"]) for r in records] == [("notice", 1), ("cancel_notice", 1)]
    assert records[0]["recipients"] == 2 and records[1]["not_sent"] == 2


def test_a_bad_notice_file_is_refused_with_file_and_line(database: str, tmp_path: Path, capsys) -> None:
    notice = tmp_path / "notice.yaml"
    notice.write_text(
        "text: <b>申报通知</b>\ncall:\n  title: 2027年度申报\n"
        "  rules: [jilin-1-clinical-trail]\n  closes: 2027-02-30\n",
        encoding="utf-8",
    )
    code, _, err = run(["notice", "send", str(notice), "--all"], capsys)
    assert code == 1
    assert f"{notice}:4: unknown rule 'jilin-1-clinical-trail'" in err
    assert f"{notice}:5: a call needs 'closes: YYYY-MM-DD'" in err
    notice.write_bytes(b"\xff\xfe not utf-8")
    assert "not UTF-8" in run(["notice", "send", str(notice), "--all"], capsys)[2]
    html = tmp_path / "bad.html"
    html.write_text("<b>unclosed", encoding="utf-8")
    assert "is never closed" in run(["notice", "send", str(html), "--all"], capsys)[2]
    assert run(["notice", "list"], capsys)[1] == ""


def test_a_notice_carrying_a_call_puts_its_deadline_in_matching_results(database: str, tmp_path: Path, capsys) -> None:
    notice = tmp_path / "call.yaml"
    notice.write_text(
        "text: <b>2027年度临床试验奖励申报通知</b>\n"
        "call:\n  title: 2027年度临床试验奖励申报\n  rules: [jilin-1-clinical-trial]\n"
        "  opens: 2027-01-04\n  closes: 2027-02-26\n  where: 吉林省药品监督管理局\n  contact: 0431-00000000\n",
        encoding="utf-8",
    )
    code, out, err = run(["notice", "send", str(notice), "--region", "吉林省"], capsys)
    assert code == 0, err

    async def deadlines() -> tuple[str, str]:
        store = SqlChatStore.from_url(database)
        try:
            live = LiveEngine(load_engine(), store)
            before = live()
            await live.refresh()
            profile = (await store.load(ChatKey("telegram", 1))).answers
            today = date(2026, 12, 20)  # after the example call of rules/calls closes
            return (
                deadlines_message(before.match(profile, today), "zh-Hans").text,
                deadlines_message(live().match(profile, today), "zh-Hans").text,
            )
        finally:
            await store.close()

    without, with_call = asyncio.run(deadlines())
    assert "2027年度临床试验奖励申报" not in without
    assert "2027-02-26" in with_call and "2027年度临床试验奖励申报" in with_call
    run(["notice", "cancel", "1"], capsys)
    assert "2027年度临床试验奖励申报" not in asyncio.run(deadlines())[1], "a cancelled notice withdraws its call"


def test_a_finished_notice_cannot_be_cancelled(database: str, tmp_path: Path, capsys) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text("申报通知:第一批", encoding="utf-8")
    assert run(["notice", "send", str(notice), "--region", "湖北省"], capsys)[0] == 0

    async def deliver_all() -> None:
        store = SqlChatStore.from_url(database)
        try:
            for delivery in await store.claim_bulk("worker", 10, 30, (3.0, 1.0)):
                assert await store.start_sending(delivery.id, "worker", 30) == "sending"
                await store.finish_bulk(delivery.id, "worker", "sent")
        finally:
            await store.close()

    asyncio.run(deliver_all())
    code, out, _ = run(["notice", "cancel", "1"], capsys)
    assert code == 1 and "has finished" in out
    assert "Notice #1: finished" in run(["notice", "status", "1"], capsys)[1]
