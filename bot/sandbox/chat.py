"""The sandbox: the real bot, in its own process, against the fake Bot API, with a terminal chat.

The bot runs as a child process (`python -m bot run`) so that /crash can kill it without a
clean shutdown, as a power cut would, and restart it on the same database.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import secrets
import shlex
import socket
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

from bot.config import load_settings
from bot.domain.clock import SystemClock
from bot.domain.webapp import sign_init_data
from bot.sandbox import clock
from bot.sandbox.fake_api import BotMessage, FakeBotApi, FakeUser
from storage.db import Database
from storage.web import BoardLinkRepository

READY_TIMEOUT = 60.0
EXPECT_TIMEOUT = 15.0
DISPATCH_WAIT = 3.0


class ScriptFailed(Exception):
    """An expectation in a sandbox script did not hold."""


@dataclass
class Transcript:
    """What each user has received and not yet matched by an `expect`."""

    unseen: dict[int, list[BotMessage]] = field(default_factory=dict)


TEXT_FILES = (".ics", ".csv", ".txt")


def visible_text(message: BotMessage) -> str:
    """What the person sees: the text, plus the content of a small text file it carries."""
    if message.kind == "document" and message.document:
        filename, content = message.document
        if filename.endswith(TEXT_FILES):
            body = content.decode("utf-8-sig", errors="replace")
            return f"{message.text}\n[file {filename}]\n{body}"
    return message.text


def render(message: BotMessage, *, user_id: int, current: int) -> str:
    """Show a bot message as the terminal chat prints it, buttons numbered from 1."""
    who = "" if user_id == current else f" (to user {user_id})"
    head = "bot (edited)" if message.edited else "bot"
    lines = [f"{head}{who} › " + visible_text(message).replace("\n", "\n    ")]
    if message.kind == "photo" and message.photo:
        lines.append(f"    [picture, {len(message.photo)} bytes]")
    number = 1
    for row in message.buttons:
        cells = []
        for label, _data in row:
            cells.append(f"[{number}] {label}")
            number += 1
        lines.append("    " + "   ".join(cells))
    return "\n".join(lines)


class Sandbox:
    """A fake Telegram, the bot process, and the users typing into it."""

    def __init__(
        self, database: Path, *, config_file: Path | None, log: Path, out: TextIO
    ) -> None:
        self.database = database
        self.config_file = config_file
        self.log = log
        self.out = out
        self.api = FakeBotApi()
        self.process: asyncio.subprocess.Process | None = None
        self.current: FakeUser | None = None
        self.transcript = Transcript()
        self.clock_file = database.with_suffix(".clock")
        self.clock_offset = dt.timedelta()
        self.start_at: dt.datetime | None = None
        self.variables: dict[str, str] = {}
        # The bot's web server (board, Mini App) keeps one port across /crash restarts.
        self.web_port = _free_port()

    @property
    def web_url(self) -> str:
        """The bot's web server."""
        return f"http://127.0.0.1:{self.web_port}"

    async def board_url(self) -> str:
        """The venue board's URL, its secret made in the database if there is none yet."""
        db = Database(self.database)
        await db.connect()
        try:
            secret = await BoardLinkRepository(db, SystemClock()).add_if_none(
                secrets.token_urlsafe(24)
            )
        finally:
            await db.close()
        return f"{self.web_url}/board/{secret}"

    def miniapp_url(self) -> str:
        """The Mini App as the current user, with launch data signed as Telegram would sign it.

        Signed at the bot's clock (moved by /clock), so its age check passes; the launch data is
        in the fragment, which browsers never send to the server.
        """
        user = self.user
        now = dt.datetime.now(dt.UTC) + self.clock_offset
        data = sign_init_data(self.api.token, user.user_dict(), now)
        return f"{self.web_url}/app#tgWebAppData={quote(data)}&tgWebAppVersion=8.0"

    async def show_web(self) -> None:
        """Print where the board and the current user's Mini App are."""
        self.say(f"*** venue board: {await self.board_url()} ***")
        self.say(f"*** Mini App as user {self.user.user_id}: {self.miniapp_url()} ***")

    async def start(self) -> None:
        """Start the fake server and the bot, the clock at 08:00 on the event's first day."""
        if self.start_at is not None:
            self.clock_offset = self.start_at - dt.datetime.now(dt.UTC)
        clock.write_offset(self.clock_file, self.clock_offset)
        await self.api.start()
        await self.start_bot()
        await self.switch_user(1, "en")

    async def start_bot(self) -> None:
        """Start the bot process and wait until it polls for updates."""
        env = dict(os.environ)
        env.update(
            MATCHMAKER_TOKEN=self.api.token,
            MATCHMAKER_API_BASE_URL=self.api.base_url,
            MATCHMAKER_DB=str(self.database),
            MATCHMAKER_RATE_LIMIT="off",
            MATCHMAKER_WEB_LISTEN="127.0.0.1",
            MATCHMAKER_WEB_PORT=str(self.web_port),
            PTB_TIMEDELTA="1",
        )
        env.pop("MATCHMAKER_WEB_URL", None)
        if self.config_file is not None:
            env["MATCHMAKER_CONFIG"] = str(self.config_file)
        else:
            env.pop("MATCHMAKER_CONFIG", None)
        env[clock.ENV_VAR] = str(self.clock_file)
        polls_before = self._polls()
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=env, stdout=log, stderr=log
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        while self._polls() == polls_before:
            if self.process.returncode is not None:
                raise ScriptFailed(
                    f"the bot exited with {self.process.returncode}; see {self.log}"
                )
            if loop.time() > deadline:
                raise ScriptFailed(f"the bot did not start polling; see {self.log}")
            await asyncio.sleep(0.05)

    def _polls(self) -> int:
        return sum(1 for call in self.api.calls if call.method == "getUpdates")

    async def crash(self) -> None:
        """Kill the bot without a clean shutdown and start it again."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self.say("*** the bot was killed; restarting ***")
        await self.start_bot()
        self.say("*** the bot is back ***")

    async def stop(self) -> None:
        """Stop the bot gracefully, then the server."""
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        await self.api.stop()

    def say(self, text: str) -> None:
        """Print a line of the sandbox's own."""
        print(text, file=self.out, flush=True)

    async def switch_user(self, user_id: int, language: str | None) -> None:
        """Become another delegate (created on first use)."""
        self.current = self.api.user(user_id, f"User {user_id}", language_code=language or "en")
        self.transcript.unseen.setdefault(user_id, [])

    @property
    def user(self) -> FakeUser:
        """The user typing now."""
        assert self.current is not None
        return self.current

    async def collect(self) -> None:
        """Wait until the bot is quiet, then print and remember what it sent."""
        await self.api.settle(quiet=0.15, timeout=EXPECT_TIMEOUT)
        for user in self.api.users():
            for message in user.drain_events():
                self.transcript.unseen.setdefault(user.user_id, []).append(message)
                self.say(render(message, user_id=user.user_id, current=self.user.user_id))

    async def expect(self, pattern: str) -> None:
        """Consume the current user's messages up to the first that matches, or fail."""
        regex = re.compile(pattern, re.S)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + EXPECT_TIMEOUT
        while True:
            unseen = self.transcript.unseen.setdefault(self.user.user_id, [])
            for index, message in enumerate(unseen):
                found = regex.search(visible_text(message))
                if found:
                    del unseen[: index + 1]
                    # Named groups become variables later lines can use as {name}.
                    self.variables.update(found.groupdict())
                    return
            if loop.time() > deadline:
                seen = "\n".join(visible_text(m) for m in unseen) or "(nothing)"
                raise ScriptFailed(
                    f"expected /{pattern}/ but user {self.user.user_id} got:\n{seen}"
                )
            await asyncio.sleep(0.1)
            await self.collect()

    async def move_clock(self, text: str) -> None:
        """Move the bot's time forward; what falls due is done at the dispatcher's next tick."""
        try:
            delta = clock.parse_delta(text)
        except ValueError as problem:
            self.say(f"usage: /clock +15m ({problem})")
            return
        self.clock_offset += delta
        clock.write_offset(self.clock_file, self.clock_offset)
        self.say(f"*** the clock moved forward by {delta}; offset now {self.clock_offset} ***")
        # The dispatcher polls every few seconds; give it one tick to notice.
        await asyncio.sleep(DISPATCH_WAIT)

    async def press(self, which: str) -> None:
        """Press a button by its number (from 1) or its label."""
        target: str | int = int(which) - 1 if which.isdigit() else which
        await self.user.press(target)

    async def handle(self, line: str) -> bool:
        """Carry out one line; return False when the session should end."""
        text = line.strip()
        if not text or text.startswith("#"):
            return True
        for name, value in self.variables.items():
            text = text.replace("{" + name + "}", value)
        command, _, rest = text.partition(" ")
        if command == "expect":
            await self.expect(rest)
            return True
        if command == "press":
            await self.press(rest.strip())
        elif text.isdigit():
            await self.press(text)
        elif command == "say":
            await self.user.send_text(rest)
        elif command == "/as":
            parts = shlex.split(rest)
            if not parts or not parts[0].isdigit():
                self.say("usage: /as <user number> [telegram language code]")
                return True
            await self.switch_user(int(parts[0]), parts[1] if len(parts) > 1 else None)
            self.say(f"*** you are now user {parts[0]} ***")
            self.say(f"*** Mini App as user {parts[0]}: {self.miniapp_url()} ***")
            return True
        elif command == "/web":
            await self.show_web()
            return True
        elif command == "/open":
            await self.user.open_link(rest.strip())
        elif command == "/sticker":
            await self.user.send_sticker()
        elif command == "/photo":
            await self.user.send_photo()
        elif command == "/crash":
            await self.crash()
            return True
        elif command == "/clock":
            await self.move_clock(rest)
        elif command in {"/quit", "/exit"}:
            return False
        else:
            await self.user.send_text(text)
        await self.collect()
        return True


async def _interactive(sandbox: Sandbox) -> None:
    loop = asyncio.get_running_loop()
    sandbox.say(
        "matchmaker sandbox: you are user 1. Type /start to register; numbers press buttons; "
        "/as 2 switches user, /open PAYLOAD opens a deep link, /clock +15m moves time, "
        "/web shows the board and Mini App URLs, /crash kills the bot, /quit leaves."
    )
    await sandbox.show_web()
    while True:
        try:
            line = await loop.run_in_executor(None, input, f"user {sandbox.user.user_id} › ")
        except EOFError:
            return
        try:
            if not await sandbox.handle(line):
                return
        except (AssertionError, ScriptFailed) as problem:
            sandbox.say(f"!! {problem}")


async def _script(sandbox: Sandbox, lines: list[str], path: Path) -> None:
    for number, line in enumerate(lines, start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            sandbox.say(f"{path.name}:{number} » {line.strip()}")
        try:
            if not await sandbox.handle(line):
                return
        except (AssertionError, ScriptFailed) as problem:
            raise ScriptFailed(f"{path}:{number}: {problem}") from None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def first_morning(config_file: Path) -> dt.datetime | None:
    """08:00 in the event's zone on its first meeting day, if the configuration names one."""
    settings = load_settings({}, config_file=config_file, require_token=False)
    days = settings.schedule.days or settings.event_dates
    if not days:
        return None
    return dt.datetime.combine(days[0], dt.time(8, 0), tzinfo=settings.timezone)


async def _main(database: Path, script: Path | None, lines: list[str], config_file: Path) -> int:
    log = database.with_suffix(".log")
    sandbox = Sandbox(database, config_file=config_file, log=log, out=sys.stdout)
    sandbox.start_at = first_morning(config_file)
    try:
        await sandbox.start()
        if script is None:
            await _interactive(sandbox)
        else:
            await _script(sandbox, lines, script)
            sandbox.say(f"script {script} passed")
    except ScriptFailed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        status = 1
    else:
        status = 0
    finally:
        with contextlib.suppress(Exception):
            await sandbox.stop()
    if sandbox.api.rejected:
        print(f"FAILED: the fake Bot API rejected {sandbox.api.rejected}", file=sys.stderr)
        status = 1
    return status


def run_sandbox(*, database: Path, script: Path | None, config_file: Path | None) -> int:
    """Run the sandbox interactively, or replay a script; return the exit status."""
    lines = script.read_text(encoding="utf-8").splitlines() if script else []
    if config_file is not None:
        return asyncio.run(_main(database, script, lines, config_file))
    with resources.as_file(resources.files("bot.sandbox").joinpath("event.toml")) as default:
        return asyncio.run(_main(database, script, lines, default))
