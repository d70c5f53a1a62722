"""A bare python-telegram-bot echo bot on the same webhook stack: the ceiling the interview bot is compared with.

Reads the same settings as `incentive-bot serve` (token, Bot API base URL, webhook URL/secret, host, port).
With --aiohttp it sends through the bot's aiohttp transport instead of PTB's default (httpx), to show how much
of the difference is the transport.
"""

from __future__ import annotations

import asyncio
import sys
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.channels.aiohttp_request import AiohttpRequest
from bot.channels.telegram import PerChatUpdateProcessor
from bot.channels.webhook import webhook_app
from bot.service import configure_logging
from bot.settings import load_settings


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends the text straight back."""
    await context.bot.send_message(update.effective_chat.id, update.message.text)


async def main() -> None:
    settings = load_settings()
    configure_logging(settings.LOG_LEVEL)
    builder = (
        Application.builder()
        .token(settings.TELEGRAM_BOT_TOKEN)
        .base_url(settings.TELEGRAM_API_BASE_URL)
        .updater(None)
        .concurrent_updates(PerChatUpdateProcessor(settings.MAX_CONCURRENT_UPDATES))
    )
    if "--aiohttp" in sys.argv[1:]:
        builder = builder.request(AiohttpRequest(connection_pool_size=settings.MAX_CONCURRENT_UPDATES))
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    path = urlparse(settings.TELEGRAM_WEBHOOK_URL).path
    runner = web.AppRunner(webhook_app(application, path, settings.TELEGRAM_WEBHOOK_SECRET))
    async with application:
        await application.start()
        await runner.setup()
        await web.TCPSite(runner, settings.HOST, settings.PORT).start()
        await application.bot.set_webhook(settings.TELEGRAM_WEBHOOK_URL, secret_token=settings.TELEGRAM_WEBHOOK_SECRET)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
            await application.stop()


if __name__ == "__main__":
    asyncio.run(main())
