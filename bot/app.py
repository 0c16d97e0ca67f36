"""The application factory: the one place where the bot is wired together."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from bot.config import Settings
from bot.delivery import DUE_WORK_INTERVAL, DUE_WORK_JOB
from bot.domain.clock import Clock, SystemClock
from bot.domain.outbox import State as OutboxState
from bot.encoders import matcher_name
from bot.i18n import SUPPORTED_LOCALES
from bot.services import Services, build_services
from bot.transport.bot import MatchmakerBot, TolerantUpdater
from bot.transport.http import AiohttpRequest
from bot.transport.update_order import PerUserUpdateProcessor
from handlers import (
    chat_member,
    claim,
    edits,
    errors,
    exhibits,
    fallback,
    leads,
    matches,
    meetings,
    nudges,
    offers,
    organizer,
    profile,
    programme,
    registration,
    roadshows,
    wishes,
)
from handlers.context import BotContext
from handlers.menu_button import publish_menu_button
from handlers.web import Webhook, WebServer
from handlers.web.worker import WebWorker

log = logging.getLogger(__name__)

BotApplication = Application[Any, BotContext, Any, Any, Any, Any]
# Webhook mode: the URL's path and the secret Telegram sends with each update.
WebhookSpec = tuple[str, str]


async def set_command_menus(app: BotApplication) -> None:
    """Publish the command menu in every shipped language (and the default for the rest)."""
    services: Services = app.bot_data["services"]
    for locale in (*SUPPORTED_LOCALES, None):
        tr = services.i18n.translator(locale)
        commands = [BotCommand(name, tr.label(text)) for name, text in fallback.COMMANDS]
        await app.bot.set_my_commands(commands, language_code=locale)


async def _post_init(app: BotApplication) -> None:
    services: Services = app.bot_data["services"]
    await services.db.connect()
    version = await services.db.migrate()
    await services.matching.load()
    await set_command_menus(app)
    await start_web(app)
    # Counted before the workers start claiming, so the line shows what was found.
    counts = await services.outbox.counts()
    recovered = await services.delivery.start(app.bot)
    # The one line operators look for at start; it names no token and no personal data.
    log.info(
        "ready: @%s, database %s at schema version %d, matcher %s, due work: %d pending outbox "
        "item(s), %d recovered from the last stop, %d dead letter(s)",
        app.bot.username,
        services.settings.database,
        version,
        matcher_name(services.matching.encoder),
        counts.get(OutboxState.PENDING, 0),
        recovered,
        counts.get(OutboxState.DEAD, 0),
    )


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGABRT)


def install_stop_signals(app: BotApplication) -> None:
    """On SIGINT/SIGTERM stop claiming outbox items at once, then stop the application.

    PTB's own handler only stops the loop; the sender would go on claiming until post_stop,
    which comes after the updater's last poll: on a loaded machine that is seconds of sends
    the operator asked not to start.
    """
    services: Services = app.bot_data["services"]

    def on_signal() -> None:
        services.delivery.sender.halt_claiming()
        app.stop_running()

    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, on_signal)


async def start_web(app: BotApplication) -> None:
    """Start the web server (board, Mini App, the webhook) when the settings ask for one."""
    services: Services = app.bot_data["services"]
    settings = services.settings
    hook: WebhookSpec | None = app.bot_data.get("webhook")
    if settings.web_port is None and hook is None:
        return

    async def deliver(data: dict[str, Any]) -> None:
        # As in polling (bot/transport/bot.py): an update PTB cannot read is skipped and
        # logged by id and type only (its content holds what people typed).
        bot: MatchmakerBot = app.bot
        update = bot.parse_update(data)
        if update is not None:
            await app.update_queue.put(update)

    server: WebServer | WebWorker
    if app.bot_data.get("web_process"):
        server = WebWorker(services, deliver=deliver, webhook=hook)
    else:
        webhook = None if hook is None else Webhook(hook[0], hook[1], deliver)
        server = WebServer(services, webhook=webhook)
    if settings.web_port is not None:
        host, port = settings.web_listen, settings.web_port
    else:
        host, port = settings.webhook_listen, settings.webhook_port
    await server.start(host, port)
    app.bot_data["web"] = server
    await publish_menu_button(app.bot, services)


def serve_webhook(app: BotApplication, url: str, secret: str) -> None:
    """Run the bot on Telegram's webhook, received by our web server, until a stop signal.

    PTB's run_webhook would bring a second server (tornado) on a second port; this runs the
    same life cycle as run_polling (post_init, start, stop, post_stop, shutdown) on ours.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(app.initialize())
        if app.post_init is not None:
            loop.run_until_complete(app.post_init(app))
        loop.run_until_complete(
            app.bot.set_webhook(url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
        )
        loop.run_until_complete(app.start())
        # Our stop signal handler calls app.stop_running(), which stops this loop.
        loop.run_forever()
    finally:
        try:
            if app.running:
                loop.run_until_complete(app.stop())
                if app.post_stop is not None:
                    loop.run_until_complete(app.post_stop(app))
            loop.run_until_complete(app.shutdown())
            if app.post_shutdown is not None:
                loop.run_until_complete(app.post_shutdown(app))
        finally:
            loop.close()


async def _stop_web(app: BotApplication) -> None:
    server: WebServer | WebWorker | None = app.bot_data.pop("web", None)
    if server is not None:
        await server.stop()


async def _post_stop(app: BotApplication) -> None:
    services: Services = app.bot_data["services"]
    await _stop_web(app)
    await services.delivery.stop()


async def _post_shutdown(app: BotApplication) -> None:
    services: Services = app.bot_data["services"]
    await _stop_web(app)
    await services.delivery.stop()
    await services.db.close()


async def _post_init_with_signals(app: BotApplication) -> None:
    await _post_init(app)
    install_stop_signals(app)


def build_application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    own_stop_signals: bool = False,
    webhook: WebhookSpec | None = None,
    web_process: bool = False,
) -> BotApplication:
    """Build the bot: Telegram client, services in bot_data, handlers in order.

    `own_stop_signals` (the `run` command) installs our SIGINT/SIGTERM handler; run_polling and
    run_webhook must then get `stop_signals=()`. Tests that build the bot in-process leave it off.
    `web_process` (the `run` command) serves the web face from a process of its own
    (handlers/web/worker.py), so that its load leaves the chat's replies their pace.
    """
    services = build_services(settings, clock or SystemClock())
    telegram = MatchmakerBot(
        settings.token,
        base_url=settings.api_base_url,
        base_file_url=settings.api_base_file_url,
        defaults=Defaults(
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
        # Always installed: it holds the budget replies share with the outbox and honours 429s;
        # with rate_limit off it only stops pacing.
        rate_limiter=services.delivery.limiter,
        request=AiohttpRequest(),
        # One connection for the long poll, as PTB does by default.
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )
    builder = (
        ApplicationBuilder()
        # Skips updates it cannot parse instead of polling them forever (transport/bot.py).
        .updater(TolerantUpdater(telegram, asyncio.Queue()))
        .context_types(ContextTypes(context=BotContext))
        .post_init(_post_init_with_signals if own_stop_signals else _post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        # One update at a time per user, different users concurrently (transport/update_order.py).
        .concurrent_updates(PerUserUpdateProcessor())
    )
    app: BotApplication = builder.build()
    app.bot_data["services"] = services
    if webhook is not None:
        app.bot_data["webhook"] = webhook
    app.bot_data["web_process"] = web_process
    if app.job_queue is None:
        raise RuntimeError(
            "the due-work job needs PTB's JobQueue (python-telegram-bot[job-queue])"
        )
    # One repeating job asks the database what is due (services.DUE_WORK): a restart loses nothing.
    app.job_queue.run_repeating(
        services.delivery.dispatcher.tick, interval=DUE_WORK_INTERVAL, first=0, name=DUE_WORK_JOB
    )
    # Order matters: edits are dropped before anything, features next, the fallback last.
    edits.register(app)
    chat_member.register(app)
    # Before registration: claim links and username recognition take /start first.
    claim.register(app)
    # Before registration too: booking links (/start b_...) open the booking page.
    meetings.register(app)
    nudges.register(app)
    # Before registration too: booth links (/start x_...) open the exhibit's card.
    exhibits.register(app)
    registration.register(app)
    profile.register(app)
    # Answers to offer/need questions are taken in an earlier group, before registration's.
    offers.register(app)
    matches.register(app)
    wishes.register(app)
    organizer.register(app)
    programme.register(app)
    leads.register(app)
    roadshows.register(app)
    fallback.register(app)
    errors.register(app)
    return app
