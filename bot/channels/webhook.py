"""The webhook endpoint on aiohttp: checks Telegram's secret header, queues the update; plus a health route."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.channels.http import BadBody, read_json, refuse

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
# The largest update Telegram sends is a message of 4,096 characters (24 KB as JSON \u escapes) with its
# entities, the message it replies to, a quote and an inline keyboard: well under 200 KB. 1 MiB leaves room for
# fields Telegram adds later while a post that only the secret's holder can send cannot make the process
# buffer more than that; it is also aiohttp's own default request size.
MAX_UPDATE_BYTES = 1 << 20
# Telegram's ids are 64-bit at most; anything larger would fail wherever it is stored.
_MAX_UPDATE_ID = 2**63 - 1


def _shape_problem(data: Any) -> str | None:
    """Why a decoded body is not an update object, or None if it is one.

    An update is an object with a whole-number update_id whose other fields (message, callback_query, …) are
    all objects, as in every update type of the Bot API.
    """
    if not isinstance(data, dict):
        return "the body is not a JSON object"
    update_id = data.get("update_id")
    if isinstance(update_id, bool) or not isinstance(update_id, int) or not 0 <= update_id <= _MAX_UPDATE_ID:
        return "update_id is not a whole number"
    if any(not isinstance(value, dict) for key, value in data.items() if key != "update_id"):
        return "a field of the update is not an object"
    return None


def webhook_app(application: Application, path: str, secret: str) -> web.Application:
    """An aiohttp app with the webhook route (add_webhook_route) and a health route."""

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "running": application.running})

    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    add_webhook_route(app, application, path, secret)
    app.router.add_get(HEALTH_PATH, health)
    return app


def add_webhook_route(app: web.Application, application: Application, path: str, secret: str) -> None:
    """A route that feeds posted updates to the Application; a post without the secret gets 403.

    A body that is not a Telegram update gets 400 and one over MAX_UPDATE_BYTES gets 413, each with a small
    JSON error; nothing a client sends makes it answer 500.
    """

    async def receive(request: web.Request) -> web.Response:
        # aiohttp keeps header bytes that are not UTF-8 as surrogates; they must compare unequal, not fail.
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, secret.encode()):
            log.warning("refused a webhook post without the right secret from %s", request.remote)
            return refuse(403, "forbidden")
        if not application.running:
            # Stopping: an update queued now would never be handled; Telegram resends after a 503.
            return refuse(503, "shutting down")
        try:
            data = await read_json(request, MAX_UPDATE_BYTES)
        except BadBody as exc:
            return _too_large(request) if exc.status == 413 else _not_an_update(request, exc.error)
        problem = _shape_problem(data)
        if problem is not None:
            return _not_an_update(request, problem)
        try:
            update = Update.de_json(data, application.bot)
        except Exception as exc:
            # python-telegram-bot reads nested objects without checking them, so a malformed one fails with
            # whatever error its value causes (KeyError, TypeError, AttributeError, RecursionError, …).
            return _not_an_update(request, f"python-telegram-bot cannot read it ({type(exc).__name__})")
        await application.update_queue.put(update)
        return web.json_response({"ok": True})

    app.router.add_post(path, receive)


def _too_large(request: web.Request) -> web.Response:
    log.warning("refused a webhook post of more than %s bytes from %s", f"{MAX_UPDATE_BYTES:,}", request.remote)
    return refuse(413, f"the body is larger than {MAX_UPDATE_BYTES} bytes")


def _not_an_update(request: web.Request, problem: str) -> web.Response:
    # The body is not logged: it may hold what a contact wrote.
    log.warning("refused a webhook post from %s: %s", request.remote, problem)
    return refuse(400, "not a Telegram update")
