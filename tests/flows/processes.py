"""The bot as its own process, and a TCP proxy that misbehaves, for crash and fault tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path

from bot.sandbox.fake_api import FakeBotApi

ROOT = Path(__file__).resolve().parents[2]


def bot_environment(api: FakeBotApi, database: Path) -> dict[str, str]:
    """The environment of a `matchmaker run` pointed at the fake Bot API, pacing off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHMAKER_")}
    env.update(
        MATCHMAKER_TOKEN=api.token,
        MATCHMAKER_API_BASE_URL=api.base_url,
        MATCHMAKER_DB=str(database),
        MATCHMAKER_RATE_LIMIT="off",
        PTB_TIMEDELTA="1",
    )
    return env


async def run_bot(env: dict[str, str], log: Path, *args: str) -> asyncio.subprocess.Process:
    """`python -m bot run [args]`, the production entry point, in its own process."""
    with log.open("wb") as sink:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", *args, env=env, cwd=ROOT, stdout=sink, stderr=sink
        )


class FaultProxy:
    """A TCP proxy before the fake Bot API that cuts or holds requests for chosen methods."""

    def __init__(self, base_url: str, *, delay: float = 0.0) -> None:
        host_port, path = base_url.split("//", 1)[1].split("/", 1)
        self._target_host, port = host_port.rsplit(":", 1)
        self._target_port = int(port)
        self._path = "/" + path
        self._server: asyncio.Server | None = None
        self.drop: set[str] = set()  # methods whose connections are cut
        self.slow: set[str] = set()  # methods held for `delay` seconds
        self.delay = delay
        self.dropped = 0
        self.held = 0  # requests held so far, so a test knows its fault has struck
        self.holding = 0  # requests being held right now
        self.url = ""

    async def __aenter__(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}{self._path}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self._target_host, self._target_port)

        async def upstream() -> None:
            # However the client's side ends (closed, or reset as aiohttp does when a request
            # is cancelled), the server's side is closed too, so it sees the client go.
            try:
                await pass_requests()
            finally:
                up_writer.close()

        async def pass_requests() -> None:
            while data := await reader.read(65536):
                method = method_of(data)
                if method in self.drop:
                    self.dropped += 1
                    writer.close()
                    up_writer.close()
                    return
                if method in self.slow:
                    # Held, then passed on even if the client gave up: Telegram may act on a
                    # request whose answer never came back.
                    self.held += 1
                    self.holding += 1
                    try:
                        await asyncio.sleep(self.delay)
                    finally:
                        self.holding -= 1
                up_writer.write(data)
                await up_writer.drain()

        async def downstream() -> None:
            try:
                while data := await up_reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            finally:
                writer.close()

        await asyncio.gather(upstream(), downstream(), return_exceptions=True)


def method_of(chunk: bytes) -> str | None:
    """The Bot API method an HTTP request starts with, if this chunk starts a request."""
    first_line = chunk.split(b"\r\n", 1)[0].decode("latin-1")
    parts = first_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return None
    return parts[1].rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
