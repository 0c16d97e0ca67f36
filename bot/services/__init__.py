"""Services: the use cases, built once by `build_services` for the bot and the CLI alike.

`Services` is the one object handlers receive (through `handlers.context.BotContext`) and the
command line opens with `open_services`. The timed work the due-work job runs is listed once,
in `DUE_WORK`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.config import ConfigError, Settings
from bot.delivery import Delivery, Hook
from bot.domain.clock import Clock, SystemClock
from bot.encoders import make_encoder
from bot.i18n import I18n
from bot.services.autoschedule import AutoScheduler, WishRepository
from bot.services.broadcasts import BroadcastService
from bot.services.day_control import DayControl
from bot.services.exhibits import ExhibitService
from bot.services.followup import FollowupService
from bot.services.leads import LeadService
from bot.services.matching import MatchingService
from bot.services.meetings import MeetingService
from bot.services.nudges import NudgeService
from bot.services.organizers import OrganizerService
from bot.services.profiles import ProfileService
from bot.services.programme import ProgrammeService
from bot.services.roadshows import RoadshowService
from bot.services.web import WebService
from storage.claims import ClaimRepository
from storage.db import Database
from storage.delegates import DelegateRepository
from storage.erasure import ErasureRepository
from storage.importer import ImportRepository
from storage.items import ItemRepository
from storage.matches import MatchRepository
from storage.outbox import OutboxRepository


@dataclass
class Services:
    """Everything handlers and commands use: settings, the clock, storage and translations."""

    settings: Settings
    clock: Clock
    db: Database
    i18n: I18n
    delegates: DelegateRepository
    outbox: OutboxRepository
    delivery: Delivery
    items: ItemRepository
    matches: MatchRepository  # what delegates did about matches
    matching: MatchingService
    imports: ImportRepository
    erasure: ErasureRepository  # what /delete_me removes beyond the profile
    profiles: ProfileService  # erasing a profile on request, in one place
    claims: ClaimRepository  # binding accounts to imported profiles (the c_ links)
    meetings: MeetingService
    organizers: OrganizerService  # the role, invites and the audit log
    broadcasts: BroadcastService
    programme: ProgrammeService  # the event programme and session reminders
    control: DayControl  # the organizer's desk on the day: find, seat, move, erase
    wishes: WishRepository  # who must, would like to, or will not meet whom
    scheduler: AutoScheduler  # the organizers' schedule built from everybody's wishes
    exhibits: ExhibitService  # the achievements catalogue, its search and shortlists
    web: WebService  # the venue board and the Mini App
    nudges: NudgeService  # suggestions to delegates without meetings, the evening agenda
    followup: FollowupService  # what came of held meetings, months later
    leads: LeadService  # exhibitors' leads and an organization's representatives
    roadshows: RoadshowService  # a session's projects and the follow-up after it


# The timed work, in the order it runs on every tick: name -> what it calls with "now".
# Renderers and the broadcast progress (they need the chat) are added by their handlers.
DUE_WORK: tuple[tuple[str, Callable[[Services], Hook]], ...] = (
    # Picks up what another process (the organizer's import) wrote, without a restart.
    ("matching", lambda s: s.matching.sync),
    ("meetings.expire", lambda s: s.meetings.expire_due),
    ("meetings.remind", lambda s: s.meetings.remind_due),
    ("meetings.follow_up", lambda s: s.meetings.follow_up_due),
    ("programme.remind", lambda s: s.programme.remind_due),
    ("nudges.matches", lambda s: s.nudges.nudge_due),
    ("nudges.agenda", lambda s: s.nudges.agenda_due),
    ("followup.ask", lambda s: s.followup.ask_due),
    ("roadshows.follow_up", lambda s: s.roadshows.follow_up_due),
)


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    """Create the services; the database is opened later (post_init, or `open_services`)."""
    clock = clock or SystemClock()
    db = Database(settings.database)
    i18n = I18n(settings.default_language)
    outbox = OutboxRepository(db, clock, horizons=settings.retry_horizons)
    matching = MatchingService(db, clock, outbox=outbox, encoder=make_encoder(settings.encoder))
    meetings = MeetingService(db, clock, settings.schedule, outbox, organizers=settings.organizers)
    broadcasts = BroadcastService(db, clock, settings, outbox, i18n)
    organizers = OrganizerService(db, clock, settings)
    delegates = DelegateRepository(db, clock)
    erasure = ErasureRepository(db)
    exhibits = ExhibitService(db, clock, matching)
    services = Services(
        settings=settings,
        clock=clock,
        db=db,
        i18n=i18n,
        delegates=delegates,
        outbox=outbox,
        delivery=Delivery(settings, clock, i18n, outbox),
        items=matching.items,
        matches=matching.matches,
        matching=matching,
        imports=ImportRepository(db, clock),
        erasure=erasure,
        profiles=ProfileService(db, delegates, matching, meetings, outbox, erasure),
        claims=ClaimRepository(db, clock),
        meetings=meetings,
        organizers=organizers,
        broadcasts=broadcasts,
        programme=ProgrammeService(db, clock, outbox),
        control=DayControl(db, clock, meetings, outbox, organizers.audit, matching),
        wishes=WishRepository(db, clock),
        scheduler=AutoScheduler(
            db,
            clock,
            settings.schedule,
            meetings,
            interpreters=dict(settings.schedule.interpreters),
        ),
        exhibits=exhibits,
        web=WebService(db, clock, settings.schedule, meetings, matching),
        nudges=NudgeService(
            db,
            clock,
            settings.schedule,
            settings.nudges,
            outbox,
            matching=matching,
            meetings=meetings,
            delegates=delegates,
        ),  # fmt: skip
        followup=FollowupService(db, clock, settings.followup, outbox, delegates=delegates),
        leads=LeadService(db, clock, exhibits),
        roadshows=RoadshowService(db, clock, outbox, exhibits),
    )
    for name, hook in DUE_WORK:
        services.delivery.dispatcher.add_hook(name, hook(services))
    return services


@asynccontextmanager
async def open_services(
    settings: Settings, clock: Clock | None = None, *, load_matching: bool = False
) -> AsyncIterator[Services]:
    """The services over an open, migrated database (the CLI's way in); closed on exit."""
    services = build_services(settings, clock)
    try:
        await services.db.connect()
        await services.db.migrate()
    except sqlite3.Error as error:
        await services.db.close()
        raise ConfigError("MATCHMAKER_DB", f"{settings.database}: {error}") from None
    try:
        if load_matching:
            await services.matching.load()
        yield services
    finally:
        await services.db.close()
