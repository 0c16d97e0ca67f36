"""The application factory: the one place where the bot is wired together."""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, Defaults

from bot.config import Settings
from bot.domain.clock import Clock, SystemClock
from bot.i18n import SUPPORTED_LOCALES, I18n
from bot.services import BotContext, Services
from handlers import errors, fallback, profile, registration
from storage.db import Database
from storage.delegates import DelegateRepository

log = logging.getLogger(__name__)

BotApplication = Application[Any, BotContext, Any, Any, Any, Any]


def build_services(settings: Settings, clock: Clock) -> Services:
    """Create the services; the database is opened later, in post_init."""
    db = Database(settings.database)
    return Services(
        settings=settings,
        clock=clock,
        db=db,
        i18n=I18n(settings.default_language),
        delegates=DelegateRepository(db, clock),
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
    log.info("database %s at schema version %d", services.settings.database, version)
    await set_command_menus(app)


async def _post_shutdown(app: BotApplication) -> None:
    services: Services = app.bot_data["services"]
    await services.db.close()


def build_application(settings: Settings, *, clock: Clock | None = None) -> BotApplication:
    """Build the bot: Telegram client, services in bot_data, handlers in order."""
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
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if settings.rate_limit:
        # PTB's builder generics cannot express swapping the rate limiter's type argument.
        builder = builder.rate_limiter(AIORateLimiter())  # type: ignore[arg-type]
    app: BotApplication = builder.build()
    app.bot_data["services"] = build_services(settings, clock or SystemClock())
    # Order matters: features first, the catch-all fallback last.
    registration.register(app)
    profile.register(app)
    fallback.register(app)
    errors.register(app)
    return app
