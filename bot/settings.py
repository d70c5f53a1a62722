"""Settings: a registry of (name, default, help) read from the environment; bad values stop start-up clearly."""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse


class SettingsError(ValueError):
    """A setting that cannot be used; the message names it and says how to fix it."""


def _url(value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError("must be an http(s) URL such as https://bot.example.org/telegram")
    return value.rstrip("/")


def _secret(value: str) -> str:
    # Telegram's own rule for secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -.
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
        raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
    return value


def _whole(value: str) -> int:
    if not value.strip().isdigit():
        raise ValueError("must be a whole number")
    return int(value)


def _port(value: str) -> int:
    port = _whole(value)
    if not 0 <= port < 65536:
        raise ValueError("must be a port number between 1 and 65535 (or 0 for any free port)")
    return port


def _positive(value: str) -> int:
    number = _whole(value)
    if number < 1:
        raise ValueError("must be a whole number of at least 1")
    return number


def _rate(value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        raise ValueError("must be a number of messages per second, e.g. 30 (0: no limit)") from None
    if not 0 <= rate <= 100_000:
        raise ValueError("must be between 0 (no limit) and 100000 messages per second")
    return rate


_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _switch(value: str) -> bool:
    word = value.strip().lower()
    if word not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
        raise ValueError("must be on or off (1/0, true/false, yes/no)")
    return word in ("1", "true", "yes", "on")


def _level(value: str) -> str:
    level = value.strip().upper()
    if level not in _LEVELS:
        raise ValueError(f"must be one of {', '.join(_LEVELS)}")
    return level


def _url_passwords(url: str) -> list[str]:
    """The passwords a database URL carries (in its credentials or a password= parameter), as written and decoded.

    Read the way the store masks them: the last '@' ends the credentials, so an unescaped '@' in a password is
    still all password.
    """
    scheme, separator, rest = url.partition("://")
    if not separator or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        rest = url
    credentials, at, _ = rest.rpartition("@")
    found = [credentials.partition(":")[2]] if at else []
    found += re.findall(r"(?i)password=([^&]*)", rest)
    return [form for password in found if password for form in dict.fromkeys((password, unquote(password)))]


def _database_url(value: str) -> str:
    """A URL the store can open; anything else stops start-up here, before rules are loaded or a server starts."""
    # Imported here: SQLAlchemy is only needed when a database URL is given.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from bot.store.sql import EXPECTED_URL_FORMS, database_url, mask_password

    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", value.strip()):
        # Not a URL at all, so nothing says which part is a password: none of it is shown.
        raise SettingsError(
            f"DATABASE_URL cannot be used: it does not start with a scheme such as postgresql://. "
            f"Expected {EXPECTED_URL_FORMS}."
        )
    try:
        url = make_url(database_url(value, Path("unused.sqlite3")))
    except ValueError as exc:
        # The store's message names the setting and shows the URL with its password masked.
        raise SettingsError(str(exc)) from None
    problem = None
    try:
        # What the driver would be called with; a port given as ?port=x only fails here, not in the parse above.
        options = url.get_dialect()().create_connect_args(url)[1]
    except (ArgumentError, ValueError):
        problem = "its parameters cannot be read (is the port a number?)"  # the parser's words may quote the URL
    else:
        ports = options.get("port")
        ports = [url.port, *(ports if isinstance(ports, list) else [ports])]  # the driver drops a port of 0
        unknown = _unknown_driver_options(url.get_backend_name(), options)
        if any(port is not None and not 0 < port < 65536 for port in ports):
            problem = "the port must be 1-65535"
        elif unknown:
            problem = f"the driver (asyncpg) takes no parameter {unknown[0][:40]!r}"
            if unknown[0] == "sslmode":
                problem += "; write ssl=require instead"
    if problem:
        raise SettingsError(f"DATABASE_URL {mask_password(value)!r} cannot be used: {problem}.")
    return value


# Taken by SQLAlchemy's asyncpg dialect itself rather than passed on to asyncpg.connect.
_ASYNCPG_DIALECT_OPTIONS = {"prepared_statement_cache_size", "prepared_statement_name_func", "async_creator_fn"}


def _unknown_driver_options(backend: str, options: Mapping[str, Any]) -> list[str]:
    """Parameters of a PostgreSQL URL that asyncpg does not take, which would fail only at the first connection."""
    if backend != "postgresql":
        return []
    import asyncpg

    accepted = set(inspect.signature(asyncpg.connect).parameters) | _ASYNCPG_DIALECT_OPTIONS
    return sorted(name for name in options if name not in accepted)


def _reminder_days(value: str) -> tuple[int, ...]:
    if value.strip().lower() in ("off", "none"):
        return ()
    parts = [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    if not parts or not all(part.isascii() and part.isdigit() and int(part) <= 366 for part in parts):
        raise ValueError("must be days before a deadline, 0 to 366, separated by commas, e.g. 30,7,1 (off: none)")
    return tuple(sorted({int(part) for part in parts}, reverse=True))


def _time_of_day(value: str) -> str:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError("must be a time of day as HH:MM, e.g. 09:30")
    return f"{int(match[1]):02d}:{match[2]}"


def _token(value: str) -> str:
    if not re.fullmatch(r"\d+:[A-Za-z0-9_-]{20,}", value):
        raise ValueError("does not look like a bot token (123456:ABC-…, from @BotFather)")
    return value


@dataclass(frozen=True)
class Setting:
    """One setting: environment name, default, what it is for, and how its text is checked."""

    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str
    secret: bool = False


def _user_ids(value: str) -> frozenset[int]:
    ids = [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    if not all(part.isascii() and part.isdigit() and len(part) <= 20 for part in ids):
        raise ValueError("must be Telegram user ids (numbers) separated by commas, e.g. 12345678,87654321")
    return frozenset(int(part) for part in ids)


REGISTRY: tuple[Setting, ...] = (
    Setting("TELEGRAM_BOT_TOKEN", None, "bot token from @BotFather; without it the bot cannot run", _token, True),
    Setting("TELEGRAM_WEBHOOK_URL", None, "public URL Telegram posts updates to; set it for webhook mode", _url),
    Setting("TELEGRAM_WEBHOOK_SECRET", None, "secret Telegram sends in X-Telegram-Bot-Api-Secret-Token", _secret, True),
    Setting("TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot", "Bot API base URL (a self-hosted server)", _url),
    Setting("DATABASE_URL", None, "database URL; default: a SQLite file incentive-bot.sqlite3", _database_url, True),
    Setting("DATABASE_POOL_SIZE", 20, "PostgreSQL connections each bot process keeps open", _positive),
    Setting(
        "HOST",
        "127.0.0.1",
        "address the web server (web chat, API, metrics, Telegram webhook) listens on; 0.0.0.0 for every interface",
    ),
    Setting("PORT", 8080, "port the web server listens on; 0 for any free port (the URL printed says which)", _port),
    Setting(
        "WEB_RATE_LIMIT",
        5.0,
        "requests per second each web chat session may make, in bursts of up to four times that (0: no limit)",
        _rate,
    ),
    Setting("MAX_CONCURRENT_UPDATES", 256, "updates handled at once (one at a time per chat)", _positive),
    Setting(
        "REPLY_RETRY_SECONDS",
        900,
        "how long a reply is retried while the Bot API fails; after that the contact is asked again",
        _positive,
    ),
    Setting(
        "TELEGRAM_RATE_LIMIT",
        30.0,
        "messages per second the bot sends on Telegram, all processes together; replies go before notices (0: none)",
        _rate,
    ),
    Setting(
        "DELIVERY_LEASE_SECONDS",
        30,
        "how long a worker holds messages it took; a notice still being sent after twice this is ambiguous",
        _positive,
    ),
    Setting("RULES_DIR", None, "folder of rule files; default: the rules shipped with the bot", Path),
    Setting("DATA_DIR", None, "folder of source documents and regions; default: the data shipped with the bot", Path),
    Setting(
        "RULES_WATCH",
        True,
        "reload the rules when a file under the rules folder changes (off: /reload, SIGHUP)",
        _switch,
    ),
    Setting(
        "REMINDER_DAYS",
        (30, 7, 1),
        "days before each deadline a subscribed contact is reminded of it, comma-separated (off: no reminders)",
        _reminder_days,
    ),
    Setting(
        "REMINDER_TIME",
        "09:30",
        "time of day (Beijing time, Asia/Shanghai) reminders go out; none is sent earlier in the day",
        _time_of_day,
    ),
    Setting("LOG_LEVEL", "INFO", "logging level: DEBUG, INFO, WARNING, ERROR", _level),
    Setting(
        "ADMIN_TELEGRAM_IDS",
        frozenset(),
        "Telegram user ids of the first admins (comma-separated); they grant every other role in the bot",
        _user_ids,
    ),
)


class Settings(dict):
    """Resolved settings by name."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name.upper()]
        except KeyError:
            raise AttributeError(name) from None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Reads every registered setting; a malformed one raises SettingsError naming it (never its value)."""
    environ = os.environ if environ is None else environ
    settings = Settings()
    for setting in REGISTRY:
        raw = environ.get(setting.name)
        if raw is None or raw == "":
            settings[setting.name] = setting.default
            continue
        try:
            settings[setting.name] = setting.parse(raw)
        except SettingsError:
            raise  # already names the setting, and masks what must not be shown
        except ValueError as exc:
            shown = "" if setting.secret else f" ('{raw}')"
            raise SettingsError(f"{setting.name}{shown} {exc}. ({setting.help})") from None
    if settings["TELEGRAM_WEBHOOK_URL"] and not settings["TELEGRAM_WEBHOOK_SECRET"]:
        raise SettingsError(
            "TELEGRAM_WEBHOOK_SECRET must be set in webhook mode, so forged posts to the webhook are refused."
        )
    return settings


def secret_values(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """What no log line may show: the value of every secret setting, and of a URL its password.

    The rest of a database URL stays visible, so a log can still say which host a failure was about.
    """
    values: list[str] = []
    for setting in REGISTRY:
        value = settings.get(setting.name)
        if not setting.secret or not isinstance(value, str) or not value:
            continue
        values.extend(_url_passwords(value) if setting.name == "DATABASE_URL" else [value])
    return tuple(values)


def describe_settings() -> str:
    """The settings table for --help and the README."""
    return "\n".join(f"  {s.name:<24} {s.help} (default: {s.default})" for s in REGISTRY)
