"""What every HTTP route of the bot shares: a small JSON error body, and reading a JSON body within a limit."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web


class BadBody(Exception):
    """A request body that cannot be read as JSON: too large (413) or not UTF-8 JSON (400)."""

    def __init__(self, status: int, error: str):
        super().__init__(error)
        self.status, self.error = status, error


def refuse(status: int, error: str, headers: Mapping[str, str] | None = None) -> web.Response:
    """A refusal as a small JSON object that says why; never a stack trace or the request's content."""
    return web.json_response({"ok": False, "error": error}, status=status, headers=headers)


async def read_json(request: web.Request, limit: int) -> Any:
    """The body decoded as JSON; raises BadBody when it is over `limit` bytes or not UTF-8 JSON that can be read."""
    too_large = BadBody(413, f"the body is larger than {limit} bytes")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:  # no Content-Length, but the body ran past the app's client_max_size
        raise too_large from None
    if len(body) > limit:
        raise too_large
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        # Not UTF-8, not JSON, an integer of over 4,300 digits (which Python refuses to read), or nested deeper
        # than the decoder goes.
        raise BadBody(400, "the body is not UTF-8 JSON that can be read") from None
