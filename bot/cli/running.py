"""Running the bot: `matchmaker run` (Telegram, polling or webhook) and `matchmaker sandbox`."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from bot.cli.common import Commands, database_options, settings_of
from bot.cli.log_repeats import RepeatFilter
from bot.config import ConfigError, Settings
from bot.domain.clock import Clock, SystemClock
from bot.sandbox.clock import ENV_VAR as SANDBOX_CLOCK
from bot.sandbox.clock import SandboxClock


class _Redacting(logging.Formatter):
    """Masks secrets in every formatted line, tracebacks included."""

    def __init__(self, fmt: str, hidden: tuple[str, ...]) -> None:
        super().__init__(fmt)
        # Longest first, so a token is masked whole before its secret half is looked for.
        self._hidden = sorted((h for h in hidden if h), key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._hidden:
            text = text.replace(secret, "<hidden>")
        return text


def configure_logging(level: str, token: str = "") -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # PTB logs its API URLs (with the token) at DEBUG; mask it wherever it appears.
    formatter = _Redacting(
        "%(asctime)s %(levelname)s %(name)s: %(message)s", (token, token.partition(":")[2])
    )
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
        # A fault repeating in a loop logs its line once a minute, not thousands of times.
        handler.addFilter(RepeatFilter())
    cap_library_loggers()


# At DEBUG these libraries log what passes through them: PTB whole updates and API parameters,
# aiosqlite every statement with its parameters (claim and booking tokens, names, contacts,
# meeting notes), httpx/httpcore/aiohttp requests. Personal data stays out of the logs at every
# level, so they never log below INFO; the bot's own DEBUG lines carry ids and counts only.
LIBRARY_LOGGERS = (
    "aiosqlite", "telegram", "httpcore", "aiohttp", "apscheduler", "tornado", "asyncio",
)  # fmt: skip


def cap_library_loggers() -> None:
    """Keep third-party loggers at INFO or above (httpx at WARNING), whatever the root level."""
    floor = max(logging.INFO, logging.getLogger().level)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(floor)
    # httpx logs every request URL at INFO, and the URL contains the bot token; APScheduler
    # logs each run of the due-work job (every 2 s) at INFO.
    for noisy in ("httpx", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, floor))


def _run(args: argparse.Namespace) -> int:
    from telegram import Update

    from bot.app import build_application, serve_webhook
    from storage.db import DatabaseUnusable, check_usable

    settings = settings_of(args, require_token=True)
    configure_logging(settings.log_level, settings.token)
    try:
        check_usable(settings.database)
    except DatabaseUnusable as error:
        raise ConfigError("MATCHMAKER_DB", str(error)) from None
    clock: Clock = SystemClock()
    if os.environ.get(SANDBOX_CLOCK):
        # Only the sandbox sets this: it moves time forward with /clock.
        clock = SandboxClock(Path(os.environ[SANDBOX_CLOCK]))
    webhook = getattr(args, "webhook", None)
    # Both stop gracefully on SIGTERM/SIGINT: the outbox stops claiming at once (our handler,
    # hence stop_signals=()), updates stop, post_stop lets sends in flight finish.
    if webhook:
        # The web server (handlers/web) receives the webhook: one port for the board, the
        # Mini App and Telegram. The proxy forwards the public URL's path unchanged.
        secret = settings.webhook_secret or secrets.token_urlsafe(32)
        spec = (urlsplit(webhook).path, secret)
        app = build_application(
            settings, clock=clock, own_stop_signals=True, webhook=spec, web_process=True
        )
        serve_webhook(app, webhook, secret)
    else:
        app = build_application(settings, clock=clock, own_stop_signals=True, web_process=True)
        app.run_polling(allowed_updates=Update.ALL_TYPES, stop_signals=())
    return 0


def _webhook_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not an https:// URL (Telegram needs one)")
    return text


def _sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox.chat import run_sandbox

    return run_sandbox(
        database=args.db or Path("sandbox.db"),
        script=args.script,
        config_file=getattr(args, "config", None),
    )


def _web_worker(args: argparse.Namespace) -> int:
    import asyncio

    from handlers.web.worker import serve_worker

    def configure(settings: Settings) -> None:
        configure_logging(settings.log_level, settings.token)

    return asyncio.run(serve_worker(configure))


def add_commands(commands: Commands) -> None:
    """Add `run` and `sandbox`."""
    run = commands.add_parser(
        "run",
        parents=[database_options()],
        help="run the bot against Telegram (long polling, or a webhook with --webhook)",
    )
    run.add_argument(
        "--webhook",
        type=_webhook_url,
        metavar="URL",
        help="receive updates at this public https URL (behind a reverse proxy, see README)",
    )
    run.set_defaults(handler=_run)

    sandbox = commands.add_parser(
        "sandbox",
        parents=[database_options()],
        help="chat with the real bot in the terminal, through a fake Telegram",
    )
    sandbox.add_argument("--script", type=Path, help="replay a session file and check it")
    sandbox.set_defaults(handler=_sandbox)

    # Started by `run` (handlers/web/worker.py), which speaks to it over its stdin and stdout.
    worker = commands.add_parser("web-worker", help=argparse.SUPPRESS)
    worker.set_defaults(handler=_web_worker)
