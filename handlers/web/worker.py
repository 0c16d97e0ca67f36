"""The web server in a process of its own, so that web load does not slow the chat's replies.

In one process, the board's 200 streams and the Mini App's hundred calls a second share the
bot's event loop with the chat: a chat update arriving while a grid is being computed waits
for it, and `benchmarks.web` measured chat p99 twice as long under web load. So `matchmaker
run` starts the web server in a child process (`WebWorker`) and keeps the chat in its own.

The child reads through its own read-only connection (what the pages mostly do: the board, the
day grids). Everything that writes, sends or needs the match index (a meeting request, Save,
the catalogue search, my counterparts) is called in the bot process over the child's pipes
(`Remote`), so there is still one writer, one outbox and one index, and the chat's rules apply
as they are. In webhook mode the child receives Telegram's updates and hands them over the
same pipe.

The protocol: length-prefixed pickles both ways, between two processes of the same program
(never across a network). The parent sends the settings first; the child answers `ready` with
its port. EOF on its stdin tells the child to stop (also when the bot dies); a child that dies
is started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import pickle
import signal
import struct
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from bot.config import Settings
from bot.domain.clock import Clock
from bot.services import Services, build_services
from bot.services.exhibits import ExhibitService
from bot.services.matching import MatchingService
from bot.services.meetings import MeetingService
from bot.services.web import TICK
from handlers.web import Webhook, WebServer

log = logging.getLogger(__name__)

UpdateSink = Callable[[dict[str, Any]], Awaitable[None]]
_HEADER = struct.Struct("!I")
START_TIMEOUT = 120.0  # seconds for the child to import, open the database and listen
STOP_GRACE = 10.0
RESTART_DELAY = 1.0
# The chat first: when the machine's cores are busy, the scheduler gives the bot process the
# CPU before the web server's (a board refresh can wait a few milliseconds; a reply should not).
WORKER_NICENESS = 5

# What the child may ask the bot process to do: (service, method). Nothing else is called.
CALLS: dict[str, frozenset[str]] = {
    "exhibits": frozenset({"facets", "find", "get", "save", "saved", "size"}),
    "matching": frozenset({"top"}),
    "meetings": frozenset({"request"}),
}
# Reads that take no caller and change only with an import: kept in the web process a tick.
KEPT_FOR_A_TICK = frozenset({("exhibits", "size"), ("exhibits", "facets")})


@dataclass(frozen=True)
class WorkerStart:
    """What the parent tells the child first."""

    settings: Settings
    clock: Clock
    host: str
    port: int
    webhook: tuple[str, str] | None  # (path, secret)


def _frame(message: object) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


async def _read(stream: asyncio.StreamReader) -> Any:
    """The next message, or None at EOF."""
    try:
        header = await stream.readexactly(_HEADER.size)
        (size,) = _HEADER.unpack(header)
        return pickle.loads(await stream.readexactly(size))  # noqa: S301 - our own child
    except asyncio.IncompleteReadError:
        return None


def _portable(error: BaseException) -> BaseException:
    """The error itself when it crosses the pipe intact, else a RuntimeError naming it."""
    try:
        pickle.loads(pickle.dumps(error))  # noqa: S301 - made just now
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


# --- the bot's side ------------------------------------------------------------------------------


class WebWorker:
    """Starts the web server's process, answers its calls, starts it again if it dies."""

    def __init__(self, services: Services, *, deliver: UpdateSink | None = None,
                 webhook: tuple[str, str] | None = None) -> None:  # fmt: skip
        self.services = services
        self.port = 0
        self._deliver = deliver
        self._webhook = webhook
        self._process: asyncio.subprocess.Process | None = None
        self._monitor: asyncio.Task[None] | None = None
        self._calls: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._targets: dict[str, object] = {
            "exhibits": services.exhibits,
            "matching": services.matching,
            "meetings": services.meetings,
        }

    async def start(self, host: str, port: int) -> int:
        """Start the child and wait until it listens; return its port."""
        self._stopping = False
        ready = await self._spawn(host, port)
        self.port = ready
        self._monitor = asyncio.create_task(self._watch(host, ready), name="web-worker")
        log.info("web server on http://%s:%d (its own process)", host, self.port)
        return self.port

    async def _spawn(self, host: str, port: int) -> int:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "web-worker",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stdin is not None and process.stdout is not None
        start = WorkerStart(self.services.settings, self.services.clock, host, port, self._webhook)
        process.stdin.write(_frame(start))
        await process.stdin.drain()
        try:
            first = await asyncio.wait_for(_read(process.stdout), START_TIMEOUT)
        except TimeoutError:
            first = None
        if not (isinstance(first, tuple) and first[:1] == ("ready",)):
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise RuntimeError("the web server's process did not start; its error is logged above")
        self._process = process
        return int(first[1])

    async def _watch(self, host: str, port: int) -> None:
        while True:
            process = self._process
            assert process is not None and process.stdout is not None
            while (message := await _read(process.stdout)) is not None:
                self._handle(message)
            await process.wait()
            if self._stopping:
                return
            log.error(
                "the web server's process exited (%s); starting it again", process.returncode
            )
            while not self._stopping:
                await asyncio.sleep(RESTART_DELAY)
                try:
                    await self._spawn(host, port)
                    break
                except (RuntimeError, OSError):
                    log.exception("the web server's process could not start again")
            if self._stopping:
                return

    def _handle(self, message: Any) -> None:
        kind = message[0]
        if kind == "call":
            task = asyncio.create_task(self._answer(*message[1:]))
            self._calls.add(task)
            task.add_done_callback(self._calls.discard)
        elif kind == "update" and self._deliver is not None:
            task = asyncio.ensure_future(self._deliver(message[1]))
            self._calls.add(task)
            task.add_done_callback(self._calls.discard)

    async def _answer(
        self, call_id: int, target: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        process = self._process
        if method not in CALLS.get(target, frozenset()):
            reply: tuple[Any, ...] = ("result", call_id, False, PermissionError(method))
        else:
            try:
                value = await getattr(self._targets[target], method)(*args, **kwargs)
                reply = ("result", call_id, True, value)
            except Exception as error:
                reply = ("result", call_id, False, _portable(error))
        if process is None or process.stdin is None or process.stdin.is_closing():
            return
        with contextlib.suppress(ConnectionError):
            process.stdin.write(_frame(reply))
            await process.stdin.drain()

    async def stop(self) -> None:
        """Tell the child to stop (EOF), wait for it, then kill it if it lingers."""
        self._stopping = True
        process, self._process = self._process, None
        if process is not None:
            if process.stdin is not None:
                process.stdin.close()
            try:
                await asyncio.wait_for(process.wait(), STOP_GRACE)
            except TimeoutError:
                log.warning("the web server's process did not stop; killing it")
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._monitor is not None:
            self._monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._monitor
            self._monitor = None
        for task in list(self._calls):
            task.cancel()


# --- the child's side ----------------------------------------------------------------------------


class Remote:
    """A service of the bot process, called over the pipe: `await remote.find(...)`.

    What every page asks alike and changes rarely (is there a catalogue, its filter values) is
    kept for a tick, as the web face keeps its own reads (bot/services/web.py): 500 Mini App
    users opening at once then cost the bot one call a second, not 500.
    """

    def __init__(self, channel: _Channel, target: str) -> None:
        self._channel = channel
        self._target = target
        self._kept: dict[tuple[str, Any], tuple[float, Any]] = {}

    def __getattr__(self, method: str) -> Callable[..., Awaitable[Any]]:
        if method not in CALLS.get(self._target, frozenset()):
            raise AttributeError(f"{self._target}.{method} is not called across processes")

        async def call(*args: Any, **kwargs: Any) -> Any:
            if (self._target, method) not in KEPT_FOR_A_TICK:
                return await self._channel.call(self._target, method, args, kwargs)
            key = (method, (args, tuple(sorted(kwargs.items()))))
            now = time.monotonic()
            kept = self._kept.get(key)
            if kept is not None and now - kept[0] <= TICK:
                return kept[1]
            value = await self._channel.call(self._target, method, args, kwargs)
            self._kept[key] = (now, value)
            return value

        return call


class _Channel:
    """The child's end of the pipes: calls out, results and EOF in."""

    def __init__(self, reader: asyncio.StreamReader, out: Any) -> None:
        self._reader = reader
        self._out = out
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self.closed = asyncio.Event()

    def send(self, message: object) -> None:
        # Small frames to a parent that reads all the time: a blocking write is short.
        self._out.write(_frame(message))
        self._out.flush()

    async def call(self, target: str, method: str, args: Any, kwargs: Any) -> Any:
        call_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = future
        try:
            self.send(("call", call_id, target, method, args, kwargs))
            return await future
        finally:
            self._waiting.pop(call_id, None)

    async def listen(self) -> None:
        """Take results until EOF (the bot stops or died); then every waiting call fails."""
        while (message := await _read(self._reader)) is not None:
            _, call_id, ok, value = message
            future = self._waiting.get(call_id)
            if future is None or future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(ConnectionError("the bot process is gone"))
        self.closed.set()


def _services_for_child(start: WorkerStart, channel: _Channel) -> Services:
    services = build_services(start.settings, start.clock)
    services.exhibits = cast(ExhibitService, Remote(channel, "exhibits"))
    services.web.matching = cast(MatchingService, Remote(channel, "matching"))
    services.web.meetings = cast(MeetingService, Remote(channel, "meetings"))
    return services


async def serve_worker(configure: Callable[[Settings], None]) -> int:
    """The child's life: read the start message from stdin, serve, stop at EOF.

    Stop signals are the bot's to act on (a terminal's Ctrl+C reaches both processes): the
    child stops when the bot closes its stdin, after the bot has stopped taking updates.
    """
    # The pipe to the parent is fd 1; anything else printing goes to stderr (the log).
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: None)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    start = await _read(reader)
    if not isinstance(start, WorkerStart):
        return 2
    configure(start.settings)
    channel = _Channel(reader, out)
    services = _services_for_child(start, channel)
    webhook = None
    if start.webhook is not None:

        async def hand_over(data: dict[str, Any]) -> None:
            channel.send(("update", data))

        webhook = Webhook(start.webhook[0], start.webhook[1], hand_over)
    server = WebServer(services, webhook=webhook)
    try:
        port = await server.start(start.host, start.port)
    except OSError:
        log.exception("the web server could not listen on %s:%d", start.host, start.port)
        return 1
    channel.send(("ready", port))
    try:
        await channel.listen()
    finally:
        await server.stop()
    return 0
