"""Runs the bot: loads rules, opens the store, serves the web chat, and Telegram by polling or on a webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from typing import TextIO
from urllib.parse import urlparse

from aiohttp import web
from telegram import Bot, Update
from telegram.ext import Application

from bot import metrics
from bot.channels.aiohttp_request import AiohttpRequest
from bot.channels.telegram import (
    CHANNEL,
    TelegramChannel,
    TelegramSender,
    build_application,
    coalesce,
    register_commands,
)
from bot.channels.web import CHANNEL as WEB
from bot.channels.web import Arrivals, WebChannel, WebSender, json_errors
from bot.channels.webhook import HEALTH_PATH, MAX_UPDATE_BYTES, add_webhook_route
from bot.dispatcher import Dispatcher
from bot.engine.deadlines import china_today
from bot.loading import load_engine, settle_heap
from bot.logsafety import RedactingFormatter
from bot.messages import ChatKey, Incoming
from bot.notices import LiveEngine, NoticeDesk
from bot.outbox import Deliverer, DeliveryPolicy
from bot.paths import DEFAULT_DATABASE_FILE
from bot.reloading import Checked, Reloader, rules_at_start
from bot.reminders import ReminderScheduler
from bot.settings import Settings, SettingsError
from bot.store.base import Replies
from bot.store.sql import SqlChatStore, database_url, migrate
from handlers.admin import AdminHandler, reload_message
from handlers.enterprise import EnterpriseConversation
from handlers.official import NoticeDialogue
from handlers.reminders import ReminderPlan

log = logging.getLogger(__name__)

DEFAULT_DATABASE = DEFAULT_DATABASE_FILE
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Loggers that write what contacts answered, in forms the formatter cannot know: aiosqlite logs every statement
# with its parameters (the saved answers) at DEBUG.
_QUIET_LOGGERS = {"httpx": logging.WARNING, "aiosqlite": logging.INFO}


def configure_logging(level: str, secrets: Iterable[str] = (), stream: TextIO | None = None) -> None:
    """Logs to stderr (or stream) at level, with every secret in secrets, any bot token and answers redacted."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(LOG_FORMAT, secrets=secrets))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Warnings would otherwise be printed past the formatter, unredacted.
    logging.captureWarnings(True)
    # httpx logs every request URL, and Bot API URLs carry the token.
    for name, quiet_level in _QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet_level)


async def run_bot(settings: Settings, stop: asyncio.Event | None = None, out: TextIO | None = None) -> None:
    """Serves until `stop` is set (or SIGINT/SIGTERM): the web chat, its API, health and metrics on HOST:PORT, and
    with a token the Telegram bot too (its webhook on the same server when a webhook URL is set, else polling).
    The web chat's address is printed to `out` (stdout) once the server listens."""
    token = settings.TELEGRAM_BOT_TOKEN
    load_engine(settings.RULES_DIR, settings.DATA_DIR)  # a broken rules folder stops the bot before anything else
    try:
        url = database_url(settings.DATABASE_URL, DEFAULT_DATABASE)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    if url.startswith("sqlite"):
        await migrate(url)  # one machine, one file: keep it current; PostgreSQL is migrated by the release step
    store = SqlChatStore.from_url(url, pool_size=settings.DATABASE_POOL_SIZE)
    try:
        # The folder with the rule files admins sent to the bot: what every process on the database runs.
        engine, checked_sources = await rules_at_start(store, settings.RULES_DIR, settings.DATA_DIR)
    except BaseException:
        await store.close()
        raise
    settle_heap()
    policy = delivery_policy(settings)
    rates = {CHANNEL: settings.TELEGRAM_RATE_LIMIT} if settings.TELEGRAM_RATE_LIMIT else {}
    arrivals = Arrivals()
    deliverer = Deliverer(store, {WEB: WebSender(arrivals)}, policy, rates)
    # The rules plus the application calls notices carry, kept current for every process on the database.
    live = LiveEngine(engine, store)
    await live.refresh()
    reloader = Reloader(live, store, settings.RULES_DIR, settings.DATA_DIR)
    if checked_sources is not None:
        await reloader.start(checked_sources, f"start:{os.getpid()}")
    reminders = reminder_scheduler(settings, store, live, deliverer)
    conversation = EnterpriseConversation(live, china_today)
    dispatcher = Dispatcher(
        store,
        conversation,
        owner=deliverer.owner,
        lease_seconds=policy.lease_seconds,
        combine={CHANNEL: coalesce},
        admin=AdminHandler(),
        first_admins=settings.ADMIN_TELEGRAM_IDS,
        dialogue=NoticeDialogue(live),
        desk=NoticeDesk(store, live, china_today, live.refresh),
        reloader=reloader,
        shown_from_outbox=frozenset({WEB}),
    )
    application: Application | None = None
    if token:
        application = build_application(
            token,
            TelegramChannel(dispatcher, deliverer),
            settings.TELEGRAM_API_BASE_URL,
            bool(settings.TELEGRAM_WEBHOOK_URL),
            settings.MAX_CONCURRENT_UPDATES,
        )
        deliverer.senders[CHANNEL] = TelegramSender(application.bot)
    app = server_app(WebChannel(dispatcher, deliverer, arrivals, settings.WEB_RATE_LIMIT), live, application)
    if application is not None and settings.TELEGRAM_WEBHOOK_URL:
        path = urlparse(settings.TELEGRAM_WEBHOOK_URL).path or "/"
        add_webhook_route(app, application, path, settings.TELEGRAM_WEBHOOK_SECRET)
    stop = stop or _stop_on_signals()
    announce = _announcer(dispatcher, deliverer)
    _reload_on_hangup(reloader, announce)
    runner: web.AppRunner | None = None
    tasks: list[asyncio.Task] = []
    try:
        async with contextlib.AsyncExitStack() as telegram:
            if application is not None:
                # Checks the token with Telegram before anything listens.
                await telegram.enter_async_context(application)
                await register_commands(application, await dispatcher.role_holders())
                await application.start()
                telegram.push_async_callback(_stop_application, application)
            tasks = [
                # Replies left undelivered by an outage (or by a process that stopped) go out from here.
                asyncio.create_task(deliverer.run(stop)),
                asyncio.create_task(live.run(stop)),
                # The rule set another process put in use, and rule files edited under the rules folder.
                asyncio.create_task(reloader.run(stop)),
                asyncio.create_task(reminders.run(stop)),
            ]
            if settings.RULES_WATCH:
                tasks.append(asyncio.create_task(reloader.watch(stop, announce)))
            runner = await _listen(app, settings, out)
            if application is not None:
                await _receive_updates(application, settings)
            await stop.wait()
            # Stop taking requests first, so nothing is acknowledged that will not be handled.
            await runner.cleanup()
            runner = None
        stop.set()
        await asyncio.gather(*tasks)
        tasks = []
    finally:
        with suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        for task in tasks:
            task.cancel()
        if runner is not None:
            await runner.cleanup()
        await store.close()


def reminder_scheduler(
    settings: Settings, store: SqlChatStore, live: LiveEngine, deliverer: Deliverer
) -> ReminderScheduler:
    """Queues due deadline reminders, and has the deliverer check each again just before it is sent."""
    plan = ReminderPlan.from_settings(settings.REMINDER_DAYS, settings.REMINDER_TIME)
    scheduler = ReminderScheduler(store, live, plan, queued=deliverer.wake)
    deliverer.confirm["reminder"] = scheduler.confirm
    return scheduler


async def _stop_application(application: Application) -> None:
    # Also when start-up failed half way (a port in use): the application must be stopped before it is shut
    # down, or PTB's complaint about that would hide the real error.
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    await application.stop()


def server_app(channel: WebChannel, live: LiveEngine, application: Application | None = None) -> web.Application:
    """The one web server: the web chat and its API, /healthz and /metrics (the webhook route is added to it)."""
    app = web.Application(client_max_size=MAX_UPDATE_BYTES, middlewares=[json_errors])
    channel.add_routes(app)

    async def health(request: web.Request) -> web.Response:
        telegram = None if application is None else application.running
        return web.json_response({"status": "ok", "running": True, "telegram": telegram})

    async def exposition(request: web.Request) -> web.Response:
        body = await metrics.exposition(channel.dispatcher.store, live().version)
        return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})

    app.router.add_get(HEALTH_PATH, health)
    app.router.add_get("/metrics", exposition)
    return app


async def _listen(app: web.Application, settings: Settings, out: TextIO | None) -> web.AppRunner:
    """Starts the web server on HOST:PORT and prints where the web chat is."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.HOST, settings.PORT)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    port = runner.addresses[0][1] if runner.addresses else settings.PORT
    host = "127.0.0.1" if settings.HOST in ("0.0.0.0", "", "::") else settings.HOST
    host = f"[{host}]" if ":" in host else host
    print(f"The web chat is at http://{host}:{port}/ (Ctrl+C stops the bot)", file=out or sys.stdout, flush=True)
    log.info("serving the web chat, API, /healthz and /metrics on %s:%s", settings.HOST, port)
    return runner


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    lease = float(settings.DELIVERY_LEASE_SECONDS)
    return DeliveryPolicy(
        give_up_after_seconds=settings.REPLY_RETRY_SECONDS,
        lease_seconds=lease,
        bulk_lease_seconds=lease,
        sending_lease_seconds=2 * lease,
    )


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """A delivery worker alone: sends what the outbox holds (replies left over, notices, reminders) until `stop`
    is set (or SIGINT/SIGTERM). Run several beside the bot processes on one PostgreSQL to send more at once;
    they share the rows and the sending budget."""
    token = settings.TELEGRAM_BOT_TOKEN
    if not token:
        raise SettingsError("TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and set it to run the bot.")
    try:
        url = database_url(settings.DATABASE_URL, DEFAULT_DATABASE)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    if url.startswith("sqlite"):
        await migrate(url)
    store = SqlChatStore.from_url(url, pool_size=4)
    try:
        # Reminders are checked against the rules in use just before they are sent, so a worker follows them too.
        engine, _ = await rules_at_start(store, settings.RULES_DIR, settings.DATA_DIR)
    except BaseException:
        await store.close()
        raise
    policy = delivery_policy(settings)
    rates = {CHANNEL: settings.TELEGRAM_RATE_LIMIT} if settings.TELEGRAM_RATE_LIMIT else {}
    bot = Bot(token, base_url=settings.TELEGRAM_API_BASE_URL, request=AiohttpRequest(connection_pool_size=8))
    # Web chats' messages left over are marked delivered here too, for their browsers to read.
    deliverer = Deliverer(store, {CHANNEL: TelegramSender(bot), WEB: WebSender(Arrivals())}, policy, rates)
    live = LiveEngine(engine, store)
    reloader = Reloader(live, store, settings.RULES_DIR, settings.DATA_DIR)
    reminders = reminder_scheduler(settings, store, live, deliverer)
    stop = stop or _stop_on_signals()
    try:
        async with bot:
            log.info("delivery worker %s started", deliverer.owner)
            await live.refresh()
            await asyncio.gather(deliverer.run(stop), live.run(stop), reloader.run(stop), reminders.run(stop))
    finally:
        await store.close()


async def _receive_updates(application: Application, settings: Settings) -> None:
    """Tells Telegram where the webhook is, or starts long polling, as the settings say."""
    webhook_url = settings.TELEGRAM_WEBHOOK_URL
    if not webhook_url:
        await application.updater.start_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0.0)
        log.info("polling for updates")
        return
    await application.bot.set_webhook(
        webhook_url, secret_token=settings.TELEGRAM_WEBHOOK_SECRET, allowed_updates=Update.ALL_TYPES
    )
    log.info("serving the Telegram webhook at %s", urlparse(webhook_url).path or "/")


def _announcer(dispatcher: Dispatcher, deliverer: Deliverer) -> Callable[[Checked], Awaitable[None]]:
    """Tells every admin what a reload nobody asked for in a chat (a file change, SIGHUP) came to: the problems
    of refused rules, or whose results new rules changed. Only the process that refused or switched first tells,
    so admins hear it once however many processes saw the change."""

    async def announce(checked: Checked) -> None:
        if not checked.announce:
            return
        for admin in sorted(await dispatcher.admins()):
            incoming = Incoming(ChatKey(CHANNEL, admin))
            message = reload_message(checked, "zh-Hans")
            await dispatcher.store.queue_replies(Replies([(incoming, message)], deliverer.owner, 0))
        deliverer.wake()

    return announce


def _reload_on_hangup(reloader: Reloader, announce: Callable[[Checked], Awaitable[None]]) -> None:
    """SIGHUP reloads the rules, as /reload does, and the admins are told what came of it."""

    async def reload() -> None:
        await announce(await reloader.reload(f"signal:{os.getpid()}"))

    def hangup() -> None:
        task = asyncio.ensure_future(reload())
        _background.add(task)
        task.add_done_callback(_background.discard)

    with suppress(NotImplementedError, RuntimeError):  # no signals outside the main thread, nor on Windows
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, hangup)


_background: set[asyncio.Task] = set()  # running reloads, kept referenced until they end


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop
