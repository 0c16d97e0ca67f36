"""The services object built once by the application factory and handed to every handler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from telegram.ext import CallbackContext, ExtBot

from bot.config import Settings
from bot.domain.clock import Clock
from bot.i18n import I18n
from storage.db import Database
from storage.delegates import DelegateRepository
from storage.erasure import ErasureRepository
from storage.importer import ImportRepository
from storage.items import ItemRepository
from storage.matches import MatchRepository
from storage.outbox import OutboxRepository

if TYPE_CHECKING:
    from bot.broadcasts import BroadcastService
    from bot.delivery import Delivery
    from bot.matching_service import MatchingService
    from bot.meetings_service import MeetingService
    from bot.programme import ProgrammeService


@dataclass
class Services:
    """Everything handlers use: settings, the clock, storage and translations."""

    settings: Settings
    clock: Clock
    db: Database
    i18n: I18n
    delegates: DelegateRepository
    outbox: OutboxRepository
    delivery: Delivery
    items: ItemRepository
    marks: MatchRepository
    matching: MatchingService
    imports: ImportRepository
    erasure: ErasureRepository  # what /delete_me removes beyond the profile
    meetings: MeetingService
    broadcasts: BroadcastService  # also organizer invites and the audit log
    programme: ProgrammeService  # the event programme and session reminders


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The callback context, typed, exposing the services."""

    @property
    def services(self) -> Services:
        """The services the factory stored in bot_data."""
        return cast(Services, self.application.bot_data["services"])
