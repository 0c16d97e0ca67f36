"""The bot's HTTP client for the Bot API: python-telegram-bot's request interface over aiohttp.

Why not PTB's default (httpx): measured against the fake Bot API, one sendMessage costs the
client about 1.4 ms of CPU through httpx and about 0.2 ms through aiohttp, and the bot spends
more than half of its CPU on HTTP (profile in benchmarks/load.py's notes). aiohttp is already a
dependency (the fake Bot API, webhooks), so this costs one small module.

The contract is PTB's `BaseRequest.do_request`: return the status and body of any HTTP answer
(PTB turns 4xx/5xx into its own errors), raise `TimedOut` when a timeout expired and
`NetworkError` when the connection failed, so PTB's retry loop, the outbox and the fault tests
see the same exceptions as with httpx.
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

_TOKEN_IN_URL = re.compile(r"/bot[^/\s]+/")


def _chosen(value: ODVInput[float], default: float | None) -> float | None:
    """A per-call timeout, or this client's default where the caller left PTB's marker."""
    return default if isinstance(value, DefaultValue) else value


class AiohttpRequest(BaseRequest):
    """One pooled aiohttp session; timeouts default to PTB's (5 s; 20 s to write media)."""

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxies",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

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
        self._proxies: dict[tuple[str, str | None], _Proxy] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
                # Telegram's answers are JSON; nothing to keep between requests.
                cookie_jar=aiohttp.DummyCookieJar(),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _proxy_for(self, url: str) -> _Proxy:
        # Looked up once per host, not per request: aiohttp's trust_env reads the environment
        # (and ~/.netrc) on every call, which doubled the CPU a request costs.
        try:
            target = URL(url)
        except ValueError:
            return None, None  # aiohttp refuses the URL itself, as a NetworkError below
        key = (target.scheme, target.host)
        if key not in self._proxies:
            self._proxies[key] = _env_proxy(target)
        return self._proxies[key]

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        read = _chosen(read_timeout, self._read_timeout)
        write = _chosen(write_timeout, self._media_write_timeout if files else self._write_timeout)
        connect = _chosen(connect_timeout, self._connect_timeout)
        pool = _chosen(pool_timeout, self._pool_timeout)
        # aiohttp has no write timeout of its own: sending the body and waiting for the answer
        # are bounded together by both budgets (read alone bounds each wait for data).
        total = None if read is None or write is None else read + write
        timeout = aiohttp.ClientTimeout(
            total=total,
            # aiohttp's `connect` covers waiting for a pooled connection and opening a new one.
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        proxy, proxy_auth = self._proxy_for(url)
        try:
            async with self._session.request(
                method,
                url,
                data=_body(request_data),
                timeout=timeout,
                proxy=proxy,
                proxy_auth=proxy_auth,
            ) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            # Some aiohttp errors quote the URL, which carries the token; these messages end up
            # in logs and in the outbox's last_error.
            detail = _TOKEN_IN_URL.sub("/bot<token>/", str(error))
            raise NetworkError(f"aiohttp.{type(error).__name__}: {detail}") from error


_Proxy = tuple[URL | None, aiohttp.BasicAuth | None]


def _env_proxy(url: URL) -> _Proxy:
    """HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as PTB's httpx client honoured them: where
    Telegram is blocked, the bot reaches it through a proxy."""
    try:
        return get_env_proxy_for_url(url)
    except LookupError:
        return None, None


def _body(request_data: RequestData | None) -> Any:
    """Form fields as PTB encodes them (nested objects as JSON strings), or multipart if files."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    files = request_data.multipart_data
    if not files:
        return fields or None
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
