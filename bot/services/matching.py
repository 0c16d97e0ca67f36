"""Matching as the bot and the CLI use it: the in-memory index kept in step with the database.

The index (bot.domain.matching.MatchIndex) holds every live, registered delegate with their
complete items. It is built at start (`load`), updated in place after each change made through
this process (`refresh_delegate`), and rebuilt when another process — the organizer's import —
changed the database (`sync`, run by the due-work job). Nothing here imports Telegram.

A match is *strong* when the two delegates share a specific technology field (a `same_field`
reason) and the score reaches STRONG_MATCH (0.5). A shared specific field weighs 0.70 of a pair:
items about the same field score 0.55–0.95 (a need listing two fields of which the offer covers
one scores about 0.57), a need spread over three fields with one covered about 0.43, and pairs
sharing only a broad area stay below 0.41 whatever else they share. A strong match is announced
once to each side through the outbox (unless that side turned announcements off or hid the
other), never for changes made by a bulk import unless the caller asks.

With an encoder (MATCHMAKER_ENCODER=use, the default of the bot) the index is hybrid: each item
text's vector is read from the `text_vectors` table, and only texts without one are encoded
(in batches, off the event loop) and stored, so a restart does not re-embed. Half of a pair's
score then comes from the encoder, so a strong match needs the texts to agree as well as the
field: a same-field pair whose descriptions are far apart no longer reaches 0.5.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from functools import lru_cache

from bot.domain.classifier import Classifier
from bot.domain.clock import Clock
from bot.domain.encoding import Encoder, text_key
from bot.domain.items import StoredItem
from bot.domain.matching import (
    FIELD_CUTOFF,
    Analyzer,
    Candidate,
    Item,
    Match,
    MatchIndex,
    rank_counterparts,
)
from bot.domain.outbox import Priority, TemplateRef
from bot.domain.taxonomy import Taxonomy
from bot.services.importing import import_running
from locales.taxonomy import load_taxonomy
from storage.db import Database
from storage.items import ItemRepository

# The records handlers show (handlers reach storage only through services).
from storage.matches import Mark as Mark
from storage.matches import MatchProfile as MatchProfile
from storage.matches import MatchRepository
from storage.outbox import OutboxRepository
from storage.vectors import VectorRepository

log = logging.getLogger(__name__)

STRONG_MATCH = 0.5
SYNC_EVERY = 10.0  # seconds between two rebuilds for changes made by another process
ANNOUNCE_SCAN = 10  # how many of a changed delegate's best matches are checked for announcing
PROPOSED_FIELDS = 5  # fields proposed for a new text
EMBED_BATCH = 64  # texts encoded at once

Progress = Callable[[int, int], None]  # (done, total)

NEW_MATCH_TEMPLATE = "match.new"
INTEREST_TEMPLATE = "match.interest"


@lru_cache(maxsize=1)
def default_classifier() -> Classifier:
    """The classifier over the shipped taxonomy; built once per process (it takes a moment)."""
    return Classifier(load_taxonomy())


@lru_cache(maxsize=1)
def default_analyzer() -> Analyzer:
    """The taxonomy-only analyzer over the shipped taxonomy."""
    return Analyzer(default_classifier())


def is_strong(match: Match) -> bool:
    """Whether a match is worth announcing: a shared specific field and a score to match."""
    return match.score >= STRONG_MATCH and any(r.kind == "same_field" for r in match.reasons)


def to_candidate(profile: MatchProfile, items: list[StoredItem]) -> Candidate:
    """The delegate as the matcher sees them."""
    return Candidate(
        key=str(profile.id),
        organization=profile.organization,
        role=profile.role or "",
        meeting_languages=frozenset(profile.meeting_languages),
        consent=profile.consent,
        items=tuple(
            Item(item.id, str(profile.id), item.side, item.text, item.fields, item.kind)
            for item in items
            if item.complete and item.text
        ),
    )


class MatchingService:
    """The match index over the database, announcements of strong matches, interest and hiding."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        outbox: OutboxRepository | None = None,
        analyzer: Analyzer | None = None,
        encoder: Encoder | None = None,
    ) -> None:
        self._db = db
        self.items = ItemRepository(db, clock)
        self.matches = MatchRepository(db, clock)
        self.vectors = VectorRepository(db, clock)
        self.outbox = outbox
        if analyzer is None:
            analyzer = (
                Analyzer(default_classifier(), encoder=encoder)
                if encoder is not None
                else default_analyzer()
            )
        self.analyzer = analyzer
        self._index = MatchIndex(analyzer=self.analyzer)
        self._candidates: dict[int, Candidate] = {}
        self._lock = asyncio.Lock()
        self._loading = asyncio.Lock()  # one rebuild at a time
        self._refreshed_while_loading: set[int] | None = None
        self._data_version: int | None = None
        self._synced_at: float | None = None

    @property
    def encoder(self) -> Encoder | None:
        """The encoder of the hybrid index, or None when matching by taxonomy only."""
        return self.analyzer.encoder

    @property
    def taxonomy(self) -> Taxonomy:
        """The taxonomy the classifier uses (field and kind names in every language)."""
        return self.analyzer.taxonomy

    def __len__(self) -> int:
        return len(self._candidates)

    # -- keeping the index in step --------------------------------------------------------------

    async def load(self) -> None:
        """Build the index from the database (at start, and when another process changed it).

        The build takes seconds for tens of thousands of delegates, so it runs in a worker
        thread while the old index goes on answering; delegates refreshed meanwhile are
        refreshed again in the new one.
        """
        async with self._loading:
            self._refreshed_while_loading = set()
            # Read the version first: a change committed while we read triggers another load.
            version = await self._db.fetchval("PRAGMA data_version")
            profiles = await self.matches.profiles()
            items = await self.items.all_complete()
            live = {p.id for p in profiles}
            # Vectors first, on the loop (they read and write the database); the index is then
            # built off the loop from what is cached.
            await self._vectors_for((i.text for i in items if i.delegate_id in live), prune=True)
            candidates, index = await asyncio.to_thread(self._build, profiles, items)
            async with self._lock:
                self._index = index
                self._candidates = candidates
                self._data_version = int(version) if version is not None else None
                again, self._refreshed_while_loading = self._refreshed_while_loading, None
            for delegate_id in again:
                await self.refresh_delegate(delegate_id, announce=False)
        log.info("match index loaded: %d delegates", len(candidates))

    def _build(
        self, profiles: list[MatchProfile], items: list[StoredItem]
    ) -> tuple[dict[int, Candidate], MatchIndex]:
        by_delegate: dict[int, list[StoredItem]] = {}
        for item in items:
            by_delegate.setdefault(item.delegate_id, []).append(item)
        candidates = {p.id: to_candidate(p, by_delegate.get(p.id, [])) for p in profiles}
        return candidates, MatchIndex(candidates.values(), analyzer=self.analyzer)

    async def sync(self, now: dt.datetime | None = None) -> bool:
        """Reload if another connection (the organizer's import) changed the database."""
        if not self._db.is_open:
            return False
        version = await self._db.fetchval("PRAGMA data_version")
        if self._data_version is not None and version == self._data_version:
            return False
        # An import commits batch after batch: rebuild once it has finished, not after every
        # batch (a rebuild reads and indexes every delegate, which slows the replies of the
        # moment), and at most every SYNC_EVERY seconds.
        if import_running(self._db.path):
            return False
        started = time.monotonic()
        if self._synced_at is not None and started - self._synced_at < SYNC_EVERY:
            return False
        self._synced_at = started
        await self.load()
        return True

    async def refresh_delegate(self, delegate_id: int, *, announce: bool = True) -> int:
        """Re-read one delegate and their items into the index; return how many were told.

        Call it after any change that matters to matching: items, consent, organization, role,
        meeting languages, deletion. With `announce`, new strong matches are announced.
        """
        async with self._lock:
            if self._refreshed_while_loading is not None:
                self._refreshed_while_loading.add(delegate_id)
            profile = await self.matches.profile(delegate_id)
            key = str(delegate_id)
            if profile is None:
                self._index.remove(key)
                self._candidates.pop(delegate_id, None)
                return 0
            candidate = to_candidate(profile, await self.items.complete_for(delegate_id))
            await self._vectors_for(i.text for i in candidate.items)
            self._index.upsert(candidate)
            self._candidates[delegate_id] = candidate
        if not announce:
            return 0
        return await self._announce(delegate_id)

    async def _vectors_for(
        self, texts: Iterable[str], *, prune: bool = False, progress: Progress | None = None
    ) -> int:
        """Give the analyzer a vector for each text: stored ones first, the rest encoded now.

        Returns how many texts were encoded. With `prune`, vectors no text uses any more (and
        those of other encoder versions) are deleted.
        """
        encoder = self.analyzer.encoder
        if encoder is None:
            return 0
        wanted = list(dict.fromkeys(t for t in texts if t))
        todo = self.analyzer.missing(wanted)
        if todo:
            keys = {text: text_key(text, encoder.version) for text in todo}
            # At load, one read of the whole table; for a refresh, only the texts asked for.
            stored = await self.vectors.load(
                encoder.version, None if len(keys) > 500 else list(keys.values())
            )
            for text in todo:
                vec = stored.get(keys[text])
                if vec is not None and vec.shape[0] == encoder.dim:
                    self.analyzer.remember(text, vec)
            todo = self.analyzer.missing(todo)
        for start in range(0, len(todo), EMBED_BATCH):
            chunk = todo[start : start + EMBED_BATCH]
            # Encoding takes milliseconds a text: off the event loop, so updates keep flowing.
            new = await asyncio.to_thread(self.analyzer.prime, chunk, batch=EMBED_BATCH)
            await self.vectors.save(
                encoder.version, {text_key(t, encoder.version): v for t, v in new.items()}
            )
            if progress is not None:
                progress(min(start + EMBED_BATCH, len(todo)), len(todo))
        if prune:
            await self.vectors.prune(
                encoder.version, (text_key(t, encoder.version) for t in wanted)
            )
        return len(todo)

    async def embed_all(self, progress: Progress | None = None) -> int:
        """Encode and store the vector of every complete item text that has none yet."""
        texts = [item.text for item in await self.items.all_complete() if item.text]
        return await self._vectors_for(texts, progress=progress)

    # -- reading matches ------------------------------------------------------------------------

    async def profile(self, delegate_id: int) -> MatchProfile | None:
        """The delegate as stored now (None unless live and registered)."""
        return await self.matches.profile(delegate_id)

    async def _candidate(self, delegate_id: int) -> Candidate | None:
        # Read from the database, not the index: another process may have written since the
        # last sync, and a message rendered now must say what is true now.
        profile = await self.matches.profile(delegate_id)
        if profile is None:
            return None
        return to_candidate(profile, await self.items.complete_for(delegate_id))

    async def top(self, delegate_id: int, *, limit: int = 10) -> list[Match]:
        """Return a delegate's best counterparts, best first, leaving out those they hid."""
        hidden = await self.matches.marked(delegate_id, Mark.HIDDEN)
        found = self._index.top(str(delegate_id), limit=limit + len(hidden))
        return [m for m in found if int(m.key) not in hidden][:limit]

    async def pair(self, delegate_id: int, other_id: int) -> Match | None:
        """Return the match between two delegates, or None if they may not meet or do not match.

        Hidden counterparts are still returned: hiding is checked where it matters.
        """
        me = await self._candidate(delegate_id)
        other = await self._candidate(other_id)
        if me is None or other is None:
            return None
        found = rank_counterparts(me, [other], analyzer=self.analyzer, limit=1)
        return found[0] if found else None

    async def table(self, *, limit: int) -> dict[int, list[Match]]:
        """Return every delegate's top matches, best first (for the organizer's CLI)."""
        hidden = await self.matches.all_marked(Mark.HIDDEN)
        # One pass over the index (its vector searches run in blocks), deep enough for the
        # delegate who hid the most.
        deepest = max((len(h) for h in hidden.values()), default=0)
        found = self._index.table(limit=limit + deepest)
        table: dict[int, list[Match]] = {}
        for delegate_id in self._candidates:
            mine = hidden.get(delegate_id, set())
            matches = found.get(str(delegate_id), [])
            table[delegate_id] = [m for m in matches if int(m.key) not in mine][:limit]
        return table

    async def match_counts(self, *, limit: int = 10) -> tuple[int, int]:
        """Distinct matched pairs among everyone's top `limit`, and delegates with a match."""
        table = await self.table(limit=limit)
        pairs = {frozenset((me, int(m.key))) for me, found in table.items() for m in found}
        return len(pairs), sum(1 for found in table.values() if found)

    def classify(self, text: str) -> list[str]:
        """Return the field codes proposed for a text, best first."""
        fields = self.analyzer.classifier.analyse(text).fields
        if not fields:
            return []
        top = fields[0].evidence
        return [f.code for f in fields[:PROPOSED_FIELDS] if f.evidence >= FIELD_CUTOFF * top]

    def suggest_kind(self, text: str) -> str | None:
        """Return the deal kind a text mentions, if any."""
        kinds = self.analyzer.classifier.analyse(text).kinds
        return kinds[0] if kinds else None

    # -- what delegates do about matches --------------------------------------------------------

    async def hide(self, delegate_id: int, other_id: int) -> bool:
        """Never show the counterpart to this delegate again; False if already hidden."""
        return await self.matches.add_mark(delegate_id, other_id, Mark.HIDDEN)

    async def record_interest(self, delegate_id: int, other_id: int) -> bool:
        """Record that a delegate wants to meet a counterpart and tell the counterpart once.

        Returns False when the interest was already recorded, or when either delegate is erased
        (the mark is guarded in SQL, so a /delete_me that commits first always wins). The
        counterpart is not told when they hid this delegate, or when they cannot be reached in
        Telegram yet (an imported profile nobody claimed); the interest is recorded all the same.
        """
        async with self._db.transaction():
            # Read now, not from the index: a claim may have bound a chat since the last load.
            other = await self.matches.profile(other_id)
            if not await self.matches.add_mark(delegate_id, other_id, Mark.INTERESTED):
                return False
            if (
                self.outbox is not None
                and other is not None
                and other.chat_id is not None
                and not await self.matches.has_mark(other_id, delegate_id, Mark.HIDDEN)
            ):
                await self.outbox.enqueue(
                    other.chat_id,
                    TemplateRef(INTEREST_TEMPLATE, {"to": other_id, "from": delegate_id}),
                    priority=Priority.NOTICE,
                    dedupe_key=f"interest:{delegate_id}:{other_id}",
                    delegate_id=other_id,
                )
        return True

    async def forget(self, delegate_id: int) -> None:
        """Delete a delegate's items and marks (inside the caller's erasing transaction)."""
        async with self._db.transaction():
            await self.items.delete_for_delegate(delegate_id)
            await self.matches.forget(delegate_id)

    # -- announcements --------------------------------------------------------------------------

    async def _announce(self, delegate_id: int) -> int:
        if self.outbox is None:
            return 0
        told = 0
        for match in self._index.top(str(delegate_id), limit=ANNOUNCE_SCAN):
            if match.score < STRONG_MATCH:
                break
            if not is_strong(match):
                continue
            other_id = int(match.key)
            told += await self._announce_to(delegate_id, other_id)
            told += await self._announce_to(other_id, delegate_id)
        return told

    async def _announce_to(self, recipient_id: int, about_id: int) -> int:
        if self.outbox is None:
            return 0
        async with self._db.transaction():
            about = await self.matches.profile(about_id)
            if about is None or not about.consent:
                return 0
            # Read now, not from the index: chat, language and the preference change often.
            recipient = await self.matches.profile(recipient_id)
            if recipient is None or recipient.chat_id is None or not recipient.notify_matches:
                return 0
            if await self.matches.has_mark(recipient_id, about_id, Mark.HIDDEN):
                return 0
            if not await self.matches.add_mark(recipient_id, about_id, Mark.ANNOUNCED):
                return 0
            queued = await self.outbox.enqueue(
                recipient.chat_id,
                TemplateRef(NEW_MATCH_TEMPLATE, {"to": recipient_id, "about": about_id}),
                priority=Priority.NOTICE,
                dedupe_key=f"match:{recipient_id}:{about_id}",
                delegate_id=recipient_id,
            )
        return 1 if queued is not None else 0
