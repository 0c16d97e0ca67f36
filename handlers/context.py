"""The typed callback context: the one way services reach a handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from telegram.ext import Application, CallbackContext, ExtBot

from bot.services import Services

# How a feature follows a deep link that was opened before registering, once registration is
# complete: called with the context, the newly registered caller (handlers.common.Caller, not
# named here: common imports this module) and the payload ("b_…", "x_…").
LinkResumer = Callable[..., Awaitable[None]]
_RESUMERS = "link_resumers"  # bot_data: the payload's prefix -> its LinkResumer


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The callback context, typed, exposing the services the factory stored in bot_data."""

    @property
    def services(self) -> Services:
        """The services built once by `build_services`."""
        return cast(Services, self.application.bot_data["services"])

    @property
    def link_resumers(self) -> Mapping[str, LinkResumer]:
        """The table of `add_link_resumer`: how each kind of pending deep link is followed."""
        return cast(Mapping[str, LinkResumer], self.application.bot_data.get(_RESUMERS, {}))


def add_link_resumer(
    app: Application,  # type: ignore[type-arg]
    prefix: str,
    resumer: LinkResumer,
) -> None:
    """Say, in a feature's `register`, how its deep links are followed after registration.

    The table is built once per application, in its bot_data, as the handlers are added.
    """
    app.bot_data.setdefault(_RESUMERS, {})[prefix] = resumer
