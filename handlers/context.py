"""The typed callback context: the one way services reach a handler."""

from __future__ import annotations

from typing import Any, cast

from telegram.ext import CallbackContext, ExtBot

from bot.services import Services


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The callback context, typed, exposing the services the factory stored in bot_data."""

    @property
    def services(self) -> Services:
        """The services built once by `build_services`."""
        return cast(Services, self.application.bot_data["services"])
