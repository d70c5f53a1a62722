"""The webhook endpoint on aiohttp: checks Telegram's secret header, queues the update; plus a health route."""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"


def webhook_app(application: Application, path: str, secret: str) -> web.Application:
    """An aiohttp app that feeds posted updates to the Application; a post without the secret gets 403."""

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("refused a webhook post without the right secret from %s", request.remote)
            return web.json_response({"ok": False, "error": "forbidden"}, status=403)
        if not application.running:
            # Stopping: an update queued now would never be handled; Telegram resends after a 503.
            return web.json_response({"ok": False, "error": "shutting down"}, status=503)
        try:
            data = await request.json()
            update = Update.de_json(data, application.bot)
        except (json.JSONDecodeError, ValueError, TypeError, KeyError):
            return web.json_response({"ok": False, "error": "not a Telegram update"}, status=400)
        if update is None:
            return web.json_response({"ok": False, "error": "not a Telegram update"}, status=400)
        await application.update_queue.put(update)
        return web.json_response({"ok": True})

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "running": application.running})

    app = web.Application()
    app.router.add_post(path, receive)
    app.router.add_get(HEALTH_PATH, health)
    return app
