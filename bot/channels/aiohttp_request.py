"""python-telegram-bot's networking on aiohttp's client instead of httpx: the same requests for less CPU.

python-telegram-bot lets an application swap its HTTP backend by subclassing BaseRequest. Its default,
httpx, spends several times more CPU per Bot API call than aiohttp's client, and a chat bot makes one or two
calls per update, so on a busy bot the transport costs more than everything the bot itself does. The bot
already runs aiohttp for its webhook server, so this adds no dependency.
"""

from __future__ import annotations

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

# The class of BaseRequest.DEFAULT_NONE: a timeout of that type means "not given, use this transport's default".
DefaultValue = type(BaseRequest.DEFAULT_NONE)


# aiohttp 3.10 and later tell a connect (or pool) timeout apart from a read timeout.
CONNECT_TIMEOUT: tuple[type[Exception], ...] = tuple(
    error for error in (getattr(aiohttp, "ConnectionTimeoutError", None),) if error is not None
)


class AiohttpRequest(BaseRequest):
    """Sends Bot API requests with one pooled aiohttp ClientSession; timeouts and errors as HTTPXRequest's."""

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], tuple[URL | None, aiohttp.BasicAuth | None]] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size)
            # Proxies from HTTPS_PROXY/NO_PROXY as with PTB's default transport, but looked up once per host
            # (_proxy_for) rather than by trust_env, which reads the environment and ~/.netrc on every request:
            # that cost a tenth of the bot's CPU.
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            self._proxies.clear()

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | None | DefaultValue = BaseRequest.DEFAULT_NONE,
        write_timeout: float | None | DefaultValue = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | None | DefaultValue = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | None | DefaultValue = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Makes the request and returns the status and body; raises TimedOut or NetworkError as PTB expects."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data and request_data.contains_files else None
        timeout = self._timeout(read_timeout, write_timeout, connect_timeout, pool_timeout, bool(files))
        try:
            proxy, proxy_auth = self._proxy_for(URL(url))
            async with self._session.request(
                method, url, data=self._body(request_data, files), timeout=timeout, proxy=proxy, proxy_auth=proxy_auth
            ) as response:
                return response.status, await response.read()
        except CONNECT_TIMEOUT as exc:
            # No connection was made (or none was free in the pool): the request never left.
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: could not connect in time") from exc
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            # The class name helps when the message is empty, as it often is for dropped connections.
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc

    def _proxy_for(self, url: URL) -> tuple[URL | None, aiohttp.BasicAuth | None]:
        """The environment's proxy for the URL's host (None for none), read once per scheme and host."""
        key = (url.scheme, url.host or "")
        if key not in self._proxies:
            try:
                self._proxies[key] = get_env_proxy_for_url(url)
            except LookupError:
                self._proxies[key] = (None, None)
        return self._proxies[key]

    def _timeout(
        self,
        read: float | None | DefaultValue,
        write: float | None | DefaultValue,
        connect: float | None | DefaultValue,
        pool: float | None | DefaultValue,
        with_files: bool,
    ) -> aiohttp.ClientTimeout:
        read = self._read_timeout if isinstance(read, DefaultValue) else read
        if isinstance(write, DefaultValue):
            write = self._media_write_timeout if with_files else self._write_timeout
        connect = self._connect_timeout if isinstance(connect, DefaultValue) else connect
        pool = self._pool_timeout if isinstance(pool, DefaultValue) else pool
        # aiohttp's `connect` covers waiting for a pooled connection plus opening one; it has no separate write
        # timeout, so sending a body counts against the read timeout, stretched by the write timeout.
        waiting = None if connect is None or pool is None else connect + pool
        reading = None if read is None or write is None else read + write
        return aiohttp.ClientTimeout(total=None, connect=waiting, sock_connect=connect, sock_read=reading)

    @staticmethod
    def _body(request_data: RequestData | None, files: dict | None) -> aiohttp.FormData | aiohttp.BytesPayload | None:
        """A JSON body, which the Bot API accepts for every method but file uploads; those go as multipart.

        JSON costs a fraction of the CPU of form-encoding Chinese text, and carries the same fields: the Bot API
        reads a JSON-serialised parameter (reply_markup, say) from a JSON string exactly as from a form value.
        """
        if request_data is None:
            return None
        if not files:
            return aiohttp.BytesPayload(request_data.json_payload, content_type="application/json")
        form = aiohttp.FormData()
        for name, value in request_data.json_parameters.items():
            form.add_field(name, value)
        for name, part in files.items():
            filename, content, *mimetype = part
            form.add_field(name, content, filename=filename, content_type=mimetype[0] if mimetype else None)
        return form
