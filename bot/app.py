"""The application factory: the one place where the bot is wired together."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from telegram import BotCommand, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from bot import delivery
from bot.broadcasts import BroadcastService
from bot.config import Settings
from bot.domain.clock import Clock, SystemClock
from bot.domain.outbox import State as OutboxState
from bot.i18n import SUPPORTED_LOCALES, I18n
from bot.matching_service import MatchingService
from bot.meetings_service import MeetingService
from bot.programme import ProgrammeService
from bot.services import BotContext, Services
from bot.telegram_http import AiohttpRequest
from bot.update_order import PerUserUpdateProcessor
from handlers import (
    broadcast,
    claim,
    control,
    edits,
    errors,
    fallback,
    matches,
    meetings,
    offers,
    organizer,
    profile,
    programme,
    registration,
)
from storage.db import Database
from storage.delegates import DelegateRepository
from storage.erasure import ErasureRepository
from storage.importer import ImportRepository
from storage.outbox import OutboxRepository

log = logging.getLogger(__name__)

BotApplication = Application[Any, BotContext, Any, Any, Any, Any]


def build_services(settings: Settings, clock: Clock) -> Services:
    """Create the services; the database is opened later, in post_init."""
    db = Database(settings.database)
    i18n = I18n(settings.default_language)
    outbox = OutboxRepository(db, clock)
    matching = MatchingService(db, clock, outbox=outbox)
    sending = delivery.Delivery(settings, clock, i18n, outbox)
    # Picks up what another process (the organizer's import) wrote, without a restart.
    sending.dispatcher.add_hook("matching", matching.sync)
    return Services(
        settings=settings,
        clock=clock,
        db=db,
        i18n=i18n,
        delegates=DelegateRepository(db, clock),
        outbox=outbox,
        delivery=sending,
        items=matching.items,
        marks=matching.marks,
        matching=matching,
        imports=ImportRepository(db, clock),
        erasure=ErasureRepository(db),
        meetings=MeetingService(
            db, clock, settings.schedule, outbox, organizers=settings.organizers
        ),
        broadcasts=BroadcastService(db, clock, settings, outbox, i18n),
        programme=ProgrammeService(db, clock, outbox),
    )


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
    # Counted before the workers start claiming, so the line shows what was found.
    counts = await services.outbox.counts()
    recovered = await services.delivery.start(app.bot)
    # The one line operators look for at start; it names no token and no personal data.
    log.info(
        "ready: @%s, database %s at schema version %d, due work: %d pending outbox item(s), "
        "%d recovered from the last stop, %d dead letter(s)",
        app.bot.username,
        services.settings.database,
        version,
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


async def _post_stop(app: BotApplication) -> None:
    services: Services = app.bot_data["services"]
    await services.delivery.stop()


async def _post_shutdown(app: BotApplication) -> None:
    services: Services = app.bot_data["services"]
    await services.delivery.stop()
    await services.db.close()


async def _post_init_with_signals(app: BotApplication) -> None:
    await _post_init(app)
    install_stop_signals(app)


def build_application(
    settings: Settings, *, clock: Clock | None = None, own_stop_signals: bool = False
) -> BotApplication:
    """Build the bot: Telegram client, services in bot_data, handlers in order.

    `own_stop_signals` (the `run` command) installs our SIGINT/SIGTERM handler; run_polling and
    run_webhook must then get `stop_signals=()`. Tests that build the bot in-process leave it off.
    """
    services = build_services(settings, clock or SystemClock())
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.api_base_url)
        .base_file_url(settings.api_base_file_url)
        .context_types(ContextTypes(context=BotContext))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .post_init(_post_init_with_signals if own_stop_signals else _post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        # Always installed: it holds the budget replies share with the outbox and honours 429s;
        # with rate_limit off it only stops pacing.
        .rate_limiter(services.delivery.limiter)
        # One update at a time per user, different users concurrently (bot/update_order.py).
        .concurrent_updates(PerUserUpdateProcessor())
        .request(AiohttpRequest())
        # One connection for the long poll, as PTB does by default.
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
    )
    app: BotApplication = builder.build()
    app.bot_data["services"] = services
    # Order matters: edits are dropped before anything, features next, the fallback last.
    edits.register(app)
    delivery.register(app)
    # Before registration: claim links and username recognition take /start first.
    claim.register(app)
    # Before registration too: booking links (/start b_...) open the booking page.
    meetings.register(app)
    registration.register(app)
    profile.register(app)
    # Answers to offer/need questions are taken in an earlier group, before registration's.
    offers.register(app)
    matches.register(app)
    organizer.register(app)
    # The broadcast wizard takes the organizer's texts in an early group, before every other.
    broadcast.register(app)
    control.register(app)
    programme.register(app)
    fallback.register(app)
    errors.register(app)
    return app
