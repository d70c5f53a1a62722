"""`serve` and `db upgrade` stop on a bad setting or an unreachable service with one line and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456789:AAH-real-looking-token_0123456789abcd"
PASSWORD = "pa55-w0rd_xyzzy"

BAD_DATABASE_URLS = [
    "postgresql://user:pa@ss@host:notaport/db",
    f"postgresql://user:{PASSWORD}@host:notaport/db",
    f"postgresql://user:{PASSWORD}@host:99999/db",
    f"postgresql://user:{PASSWORD}@host:0/db",
    f"postgresql://user:{PASSWORD}@[::1/db",
    f"mysql://user:{PASSWORD}@host/db",
    "mysql://x",
    ":::",
    PASSWORD,
    f"user:{PASSWORD}@host/db",
    "sqlite:///",
    f"postgresql://user:{PASSWORD}@host/db?password={PASSWORD}&port=x\nsecond line",
    f"postgresql://user:{PASSWORD}@127.0.0.1:1/db?sslmode=require",
    f"postgresql://user:{PASSWORD}@127.0.0.1:1/db?foo=bar",
]


def run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("TELEGRAM_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *command],
        env=clean | {"PYTHONPATH": str(ROOT)} | env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line(proc: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """The one line on stderr, after checking the exit code and that it holds every word."""
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    assert all(word in lines[0] for word in words), lines[0]
    return lines[0]


def assert_names_the_url_but_not_its_password(line: str) -> None:
    assert "DATABASE_URL" in line
    assert PASSWORD not in line and "pa@ss" not in line and "ss@host" not in line


@pytest.mark.parametrize("url", BAD_DATABASE_URLS[:1] + ["mysql://x", ":::"])
@pytest.mark.parametrize("command", [["serve"], ["db", "upgrade"]], ids=" ".join)
def test_an_unusable_database_url_stops_the_command_with_one_line_and_exit_code_2(
    tmp_path: Path, command: list[str], url: str
) -> None:
    proc = run(command, {"DATABASE_URL": url, "TELEGRAM_BOT_TOKEN": TOKEN}, tmp_path)
    assert_names_the_url_but_not_its_password(assert_one_line(proc, 2))
    assert proc.stdout == ""
    assert not (tmp_path / "incentive-bot.sqlite3").exists()


@pytest.mark.parametrize("url", BAD_DATABASE_URLS, ids=range(len(BAD_DATABASE_URLS)))
@pytest.mark.parametrize("command", [["serve"], ["db", "upgrade"]], ids=" ".join)
def test_no_unusable_database_url_gets_past_the_settings_or_shows_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str], url: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    assert main(command) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert_names_the_url_but_not_its_password(err)
    assert not (tmp_path / "incentive-bot.sqlite3").exists()


def test_an_unusable_database_url_is_refused_when_the_settings_are_read() -> None:
    for url in BAD_DATABASE_URLS:
        with pytest.raises(SettingsError) as caught:
            load_settings({"DATABASE_URL": url})
        assert "DATABASE_URL" in str(caught.value) and PASSWORD not in str(caught.value)
        assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bot:secret@db.example.org:5432/incentives",
        "postgres://bot@db/x",
        "postgresql://bot:secret@db/x?ssl=require&command_timeout=5",
        "postgresql://bot@/x?host=/var/run/postgresql",
        "sqlite:///bot.sqlite3",
    ],
)
def test_a_usable_database_url_is_kept_as_written(url: str) -> None:
    assert load_settings({"DATABASE_URL": url})["DATABASE_URL"] == url


def test_an_unknown_log_level_stops_serve_with_one_line_naming_it(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "LOG_LEVEL" in err and "DEBUG, INFO" in err


def test_a_database_server_that_cannot_be_reached_stops_db_upgrade_with_one_line(tmp_path: Path) -> None:
    # Port 1 on this machine: nothing listens there, so the connection is refused at once.
    proc = run(["db", "upgrade"], {"DATABASE_URL": f"postgresql://bot:{PASSWORD}@127.0.0.1:1/db"}, tmp_path)
    line = assert_one_line(proc, 1, "cannot migrate", "DATABASE_URL", "127.0.0.1:1")
    assert PASSWORD not in line


def test_a_bot_api_that_cannot_be_reached_stops_serve_with_one_line(tmp_path: Path) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:1/bot",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "LOG_LEVEL": "WARNING",
    }
    line = assert_one_line(run(["serve"], env, tmp_path), 1, "cannot reach the Bot API", "TELEGRAM_API_BASE_URL")
    assert TOKEN not in line and TOKEN.split(":")[1] not in line


def test_a_webhook_port_in_use_stops_serve_with_one_line_saying_so(tmp_path: Path) -> None:
    import asyncio
    import socket
    import threading

    from tests.fakes.bot_api import FakeBotApi

    started, stop = threading.Event(), threading.Event()
    holder: dict[str, object] = {}

    def serve_fake() -> None:
        async def main() -> None:
            async with FakeBotApi(token=TOKEN) as api:
                holder["base_url"] = api.base_url
                started.set()
                while not stop.is_set():
                    await asyncio.sleep(0.05)

        asyncio.run(main())

    thread = threading.Thread(target=serve_fake, daemon=True)
    thread.start()
    assert started.wait(10)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": str(holder["base_url"]),
            "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
            "TELEGRAM_WEBHOOK_SECRET": "port-test-secret",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
            "LOG_LEVEL": "WARNING",
        }
        try:
            assert_one_line(run(["serve"], env, tmp_path), 1, "OSError", str(port))
        finally:
            stop.set()
            thread.join(10)
