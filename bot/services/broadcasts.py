"""Broadcasts and the organizer role: the rules and the service the /broadcast wizard calls.

A broadcast is written step by step (the draft lives in the database, so a restart loses
nothing), then owed to every recipient through the outbox in the same transaction that marks it
sent: pacing, 429/403/5xx handling and resumption after a crash all come from the outbox.
Each copy is a template rendered at send time in the recipient's language.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.domain.clock import Clock
from bot.domain.outbox import (
    CAPTION_LIMIT,
    Attachment,
    Outgoing,
    Priority,
    Rendered,
    TemplateRef,
)
from bot.i18n import SUPPORTED_LOCALES, I18n, Translator
from storage.audit import AuditRepository

# The records handlers show (handlers reach storage only through services).
from storage.broadcasts import AUDIENCE_KINDS as AUDIENCE_KINDS
from storage.broadcasts import Audience as Audience
from storage.broadcasts import Broadcast as Broadcast
from storage.broadcasts import BroadcastRepository, Recipient, dedupe_key
from storage.broadcasts import Progress as Progress
from storage.db import Database
from storage.outbox import OutboxRepository

TEMPLATE = "broadcast"
# The organizer's final report goes through the outbox, so a 5xx at that moment delays it
# instead of leaving them at "Sending…" for good.
REPORT_TEMPLATE = "broadcast.report"


class BroadcastError(Exception):
    """A broadcast cannot move on as asked."""


class NotADraft(BroadcastError):
    """The broadcast was already sent, cancelled or discarded."""


class NoText(BroadcastError):
    """The broadcast has no text yet."""


class NoRecipients(BroadcastError):
    """Nobody is in the chosen audience."""


class TooLongForCaption(BroadcastError):
    """With an attachment a version must fit in a caption; this one does not."""

    def __init__(self, locale: str, limit: int) -> None:
        super().__init__(f"the {locale} version is longer than {limit} characters")
        self.locale = locale
        self.limit = limit


_TAG = re.compile(r"<[^>]*>")


# -- rules -----------------------------------------------------------------------------------


def choose_version(
    versions: Mapping[str, str], locale: str | None, default_locale: str, main_locale: str | None
) -> str:
    """The text a reader of `locale` gets: theirs, else the event's default, else English.

    With none of those, the version the organizer wrote first (one text for everyone).
    """
    for candidate in (locale, default_locale, "en", main_locale):
        if candidate and candidate in versions:
            return versions[candidate]
    if not versions:
        raise NoText("the broadcast has no text")
    return next(iter(versions.values()))


def visible_length(html_text: str) -> int:
    """Length of an HTML text as Telegram counts it once parsed: UTF-16 units, tags removed."""
    plain = html.unescape(_TAG.sub("", html_text))
    return len(plain.encode("utf-16-le")) // 2


def overlong_versions(versions: Mapping[str, str], limit: int) -> list[str]:
    """The languages whose version is longer than `limit` visible characters."""
    return [locale for locale, text in versions.items() if visible_length(text) > limit]


def missing_versions(versions: Mapping[str, str]) -> list[str]:
    """Shipped languages without a version yet, in the usual order."""
    return [locale for locale in SUPPORTED_LOCALES if locale not in versions]


def day_bounds(now: dt.datetime, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Today in the event's zone, as UTC [start, end)."""
    local = now.astimezone(zone).date()
    start = dt.datetime.combine(local, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(local + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def locale_counts(recipients: list[Recipient]) -> dict[str, int]:
    """How many recipients read each language, most first."""
    counts: dict[str, int] = {}
    for recipient in recipients:
        counts[recipient.locale] = counts.get(recipient.locale, 0) + 1
    return dict(sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])))


class ProgressThrottle:
    """Decides when a progress message is edited: on change, at most every `every` seconds."""

    def __init__(self, every: float) -> None:
        self.every = every
        self._last: dict[int, tuple[float, Progress]] = {}

    def due(self, broadcast_id: int, progress: Progress, now: float, *, final: bool) -> bool:
        """Whether to edit now (a final report always goes out); records the edit if so."""
        last = self._last.get(broadcast_id)
        if final:
            self._last.pop(broadcast_id, None)
            return True
        if last is not None and (last[1] == progress or now - last[0] < self.every):
            return False
        self._last[broadcast_id] = (now, progress)
        return True


@dataclass(frozen=True)
class Launched:
    """A broadcast handed to the outbox."""

    broadcast: Broadcast
    queued: int
    excluded: int


# -- service ---------------------------------------------------------------------------------


class BroadcastService:
    """Organizer invites, broadcast drafts, sending and progress."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        outbox: OutboxRepository,
        i18n: I18n | None = None,
    ) -> None:
        self._i18n = i18n or I18n(settings.default_language)
        self._db = db
        self._clock = clock
        self._settings = settings
        self._outbox = outbox
        self.repo = BroadcastRepository(db, clock)
        self.audit = AuditRepository(db, clock)
        # Sent broadcasts do not change; their versions are read once per process.
        self._sent_versions: dict[int, Broadcast] = {}

    # drafts

    async def start(self, organizer_id: int, chat_id: int, locale: str) -> Broadcast:
        """Begin a broadcast written in the organizer's language (they may change it)."""
        draft = await self.repo.start_draft(organizer_id, chat_id, locale)
        return await self.repo.update_draft(draft.id, step="text", main_locale=locale)

    async def draft(self, organizer_id: int) -> Broadcast | None:
        """The organizer's draft, if any."""
        return await self.repo.draft_for(organizer_id)

    async def _must_draft(self, organizer_id: int, broadcast_id: int) -> Broadcast:
        draft = await self.repo.draft_for(organizer_id)
        if draft is None or draft.id != broadcast_id:
            raise NotADraft(f"broadcast {broadcast_id} is not this organizer's draft")
        return draft

    async def write_in(self, organizer_id: int, broadcast_id: int, locale: str) -> Broadcast:
        """Expect the next text in `locale` (the first version, or another language's)."""
        draft = await self._must_draft(organizer_id, broadcast_id)
        if locale not in SUPPORTED_LOCALES:
            raise ValueError(f"unsupported locale {locale!r}")
        if not draft.versions:
            return await self.repo.update_draft(draft.id, step="text", main_locale=locale)
        return await self.repo.update_draft(draft.id, step=f"version:{locale}")

    @staticmethod
    def awaited_locale(draft: Broadcast) -> str | None:
        """The language of the text the draft waits for, None when it waits for a button."""
        if draft.step == "text":
            return draft.main_locale
        if draft.step.startswith("version:"):
            return draft.step.removeprefix("version:")
        return None

    async def add_text(self, draft: Broadcast, html_text: str) -> Broadcast:
        """Store the organizer's text (HTML as Telegram gave it) for the awaited language.

        With an attachment the text becomes a caption: a longer one raises TooLongForCaption.
        """
        locale = self.awaited_locale(draft)
        if locale is None:
            raise NotADraft("the draft is not waiting for a text")
        if draft.attachment is not None:
            limit = self.caption_room()
            if overlong_versions({locale: html_text}, limit):
                raise TooLongForCaption(locale, limit)
        versions = {**draft.versions, locale: html_text}
        return await self.repo.update_draft(draft.id, step="versions", versions=versions)

    def caption_room(self) -> int:
        """The longest version that fits in a caption under the longest header of any language."""
        header = max(
            visible_length(self._header(self._i18n.translator(code))) for code in SUPPORTED_LOCALES
        )
        return CAPTION_LIMIT - header - 2  # the blank line between header and text

    def _check_captions(self, draft: Broadcast) -> None:
        limit = self.caption_room()
        overlong = overlong_versions(draft.versions, limit)
        if overlong:
            raise TooLongForCaption(overlong[0], limit)

    async def ask_attachment(self, organizer_id: int, broadcast_id: int) -> Broadcast:
        """Wait for a photo or document; every version must already fit in a caption."""
        draft = await self._must_draft(organizer_id, broadcast_id)
        if not draft.versions:
            raise NoText("write the announcement first")
        self._check_captions(draft)
        return await self.repo.update_draft(draft.id, step="attach")

    async def attach(self, draft: Broadcast, attachment: Attachment) -> Broadcast:
        """Store the photo or document the draft waits for and go back to the versions."""
        if draft.step != "attach":
            raise NotADraft("the draft is not waiting for an attachment")
        self._check_captions(draft)
        return await self.repo.update_draft(
            draft.id,
            step="versions",
            attachment_kind=attachment.kind,
            attachment_file_id=attachment.file_id,
        )

    async def remove_attachment(self, organizer_id: int, broadcast_id: int) -> Broadcast:
        """Send the broadcast as text again."""
        draft = await self._must_draft(organizer_id, broadcast_id)
        return await self.repo.update_draft(
            draft.id, step="versions", attachment_kind=None, attachment_file_id=None
        )

    async def back_to_versions(self, organizer_id: int, broadcast_id: int) -> Broadcast:
        """Stop waiting for an attachment (or a version) and show the versions again."""
        draft = await self._must_draft(organizer_id, broadcast_id)
        if not draft.versions:
            raise NoText("write the announcement first")
        return await self.repo.update_draft(draft.id, step="versions")

    async def choose_audience(
        self, organizer_id: int, broadcast_id: int, audience: Audience | None
    ) -> Broadcast:
        """Go to the audience step (None), or fix the audience and go to the preview."""
        draft = await self._must_draft(organizer_id, broadcast_id)
        if not draft.versions:
            raise NoText("write the announcement first")
        if audience is None:
            return await self.repo.update_draft(draft.id, step="audience")
        return await self.repo.update_draft(
            draft.id, step="preview", audience_kind=audience.kind, audience_value=audience.value
        )

    async def discard(self, organizer_id: int) -> bool:
        """Throw the organizer's draft away."""
        return await self.repo.discard_draft(organizer_id)

    @staticmethod
    def audience_of(broadcast: Broadcast) -> Audience | None:
        """The broadcast's audience once chosen."""
        if broadcast.audience_kind is None:
            return None
        return Audience(broadcast.audience_kind, broadcast.audience_value)

    async def recipients(self, audience: Audience) -> tuple[list[Recipient], int]:
        """Reachable recipients of an audience and how many unreachable ones are left out."""
        return await self.repo.audience(
            audience,
            default_locale=self._settings.default_language,
            day=day_bounds(self._clock.now(), self._settings.timezone),
        )

    # sending

    async def launch(self, organizer_id: int, broadcast_id: int) -> Launched:
        """Owe the broadcast to its audience: one transaction with the broadcast's state."""
        draft = await self._must_draft(organizer_id, broadcast_id)
        audience = self.audience_of(draft)
        if audience is None or not draft.versions:
            raise NotADraft("the broadcast is not ready to send")
        async with self._db.transaction():
            recipients, excluded = await self.recipients(audience)
            if not recipients:
                raise NoRecipients("nobody is in this audience")
            if not await self.repo.mark_sending(draft.id, len(recipients), excluded):
                raise NotADraft(f"broadcast {draft.id} was already sent")
            queued = await self._outbox.enqueue_many(
                Outgoing(
                    r.chat_id,
                    TemplateRef(TEMPLATE, {"id": draft.id}),
                    Priority.BROADCAST,
                    dedupe_key=dedupe_key(draft.id, r.delegate_id),
                    delegate_id=r.delegate_id,
                )
                for r in recipients
            )
            await self.audit.record(
                organizer_id,
                "broadcast",
                f"broadcast:{draft.id}",
                {"audience": audience.kind, "value": audience.value, "recipients": queued},
            )
        sent = await self.repo.get(draft.id)
        assert sent is not None
        return Launched(sent, queued, excluded)

    async def cancel(self, actor_id: int, broadcast_id: int) -> int:
        """Stop a broadcast being sent: its messages still owed are dropped."""
        async with self._db.transaction():
            dropped = await self.repo.cancel(broadcast_id)
            await self.audit.record(
                actor_id, "cancel_broadcast", f"broadcast:{broadcast_id}", {"dropped": dropped}
            )
        return dropped

    async def progress(self, broadcast_id: int) -> Progress:
        """Where the broadcast's messages are."""
        return await self.repo.progress(broadcast_id)

    async def settle(self) -> list[tuple[Broadcast, Progress, bool]]:
        """Every broadcast being sent with its progress; those with nothing left are finished.

        Finishing owes the organizer the final report in the same transaction.
        """
        found: list[tuple[Broadcast, Progress, bool]] = []
        for broadcast in await self.repo.sending():
            progress = await self.repo.progress(broadcast.id)
            finished = False
            if progress.left == 0:
                async with self._db.transaction():
                    finished = await self.repo.finish(broadcast.id)
                    if finished:
                        await self._outbox.enqueue(
                            broadcast.chat_id,
                            TemplateRef(REPORT_TEMPLATE, {"id": broadcast.id}),
                            priority=Priority.CONFIRMATION,
                            dedupe_key=f"bcr:{broadcast.id}",
                        )
            found.append((broadcast, progress, finished))
        return found

    async def render(self, tr: Translator, params: Mapping[str, Any]) -> Rendered:
        """The outbox renderer: the recipient's version under a header in their language."""
        broadcast_id = int(params["id"])
        broadcast = self._sent_versions.get(broadcast_id)
        if broadcast is None:
            broadcast = await self.repo.get(broadcast_id)
            if broadcast is None:
                raise LookupError(f"broadcast {broadcast_id} does not exist")
            if broadcast.state != "draft":
                self._sent_versions[broadcast_id] = broadcast
        return self.render_for(broadcast, tr)

    def render_for(self, broadcast: Broadcast, tr: Translator) -> Rendered:
        """The message as a reader of `tr`'s language sees it (also the organizer's preview)."""
        body = choose_version(
            broadcast.versions,
            tr.locale,
            self._settings.default_language,
            broadcast.main_locale,
        )
        return Rendered(f"{self._header(tr)}\n\n{body}", attachment=broadcast.attachment)

    def _header(self, tr: Translator) -> str:
        # Translators: the header above an announcement sent to every delegate.
        return tr._("📢 <b>From the organizers of {event}</b>", event=self._settings.event_name)
