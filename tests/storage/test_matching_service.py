"""The matching service over a real database: index, announcements, interest, hiding, sync."""

from __future__ import annotations

from pathlib import Path

from bot.domain.clock import ManualClock
from bot.domain.outbox import TemplateRef
from bot.services.matching import INTEREST_TEMPLATE, NEW_MATCH_TEMPLATE, MatchingService
from storage.db import Database
from storage.delegates import DelegateRepository
from storage.items import ItemRepository
from storage.matches import Mark
from storage.outbox import OutboxRepository

WATER = ("env.wastewater",)


async def person(
    db: Database,
    clock: ManualClock,
    user: int,
    *,
    organization: str | None = None,
    consent: bool = True,
    registered: bool = True,
    languages: tuple[str, ...] = ("en",),
) -> int:
    repo = DelegateRepository(db, clock)
    draft = await repo.start_draft(user, user)
    await repo.update(
        draft.id, name=f"Person {user}", organization=organization or f"Org {user}",
        consent=consent, meeting_languages=languages, role="company",
        registered_at=clock.now() if registered else None,
    )  # fmt: skip
    return draft.id


async def owed(db: Database) -> list[tuple[int, str, str]]:
    rows = await db.fetchall("SELECT chat_id, template, dedupe_key FROM outbox ORDER BY id")
    return [(row[0], row[1], row[2]) for row in rows]


async def test_the_index_follows_the_database(db: Database, clock: ManualClock) -> None:
    items = ItemRepository(db, clock)
    plant = await person(db, clock, 1, languages=("zh",))
    university = await person(db, clock, 2, languages=("ru",))
    shy = await person(db, clock, 3, consent=False)
    colleague = await person(db, clock, 4, organization="Org 1")
    drafting = await person(db, clock, 5, registered=False)
    await items.add(plant, "need", "寻求印染行业工业废水深度处理技术")
    await items.add(university, "offer", "Очистка промышленных сточных вод", fields=WATER)
    for other in (shy, colleague, drafting):
        await items.add(other, "offer", "Industrial wastewater treatment", fields=WATER)
    service = MatchingService(db, clock)
    await service.load()
    assert len(service) == 4  # the one still registering is not matched
    top = await service.top(plant)
    assert [int(m.key) for m in top] == [university]
    assert top[0].direction == "they_offer"
    assert not top[0].shared_languages
    assert await service.pair(plant, university) is not None
    assert await service.pair(plant, shy) is None
    assert await service.pair(plant, colleague) is None
    assert await service.pair(plant, plant) is None
    assert "env.wastewater" in service.classify("寻求印染行业工业废水深度处理技术")
    assert service.classify("") == []

    # Changes reach the index when the delegate is refreshed.
    extra = await items.add(shy, "need", "Solar panels")
    await DelegateRepository(db, clock).update(shy, consent=True)
    await service.refresh_delegate(shy, announce=False)
    assert {int(m.key) for m in await service.top(plant)} == {university, shy}
    await items.delete(extra.id)
    await DelegateRepository(db, clock).erase(university)
    await service.refresh_delegate(university, announce=False)
    assert [int(m.key) for m in await service.top(plant)] == [shy]
    table = await service.table(limit=5)
    assert set(table) == {plant, shy, colleague}
    assert [int(m.key) for m in table[shy]] == [plant]


async def test_a_strong_match_is_announced_once_to_each_side(
    db: Database, clock: ManualClock
) -> None:
    items = ItemRepository(db, clock)
    outbox = OutboxRepository(db, clock)
    service = MatchingService(db, clock, outbox=outbox)
    await service.load()
    plant = await person(db, clock, 11)
    university = await person(db, clock, 12)
    quiet = await person(db, clock, 13)
    await DelegateRepository(db, clock).update(quiet, notify_matches=False)
    await items.add(plant, "need", "Industrial wastewater treatment", fields=WATER)
    assert await service.refresh_delegate(plant) == 0  # nobody to match yet
    await items.add(university, "offer", "Wastewater treatment membranes", fields=WATER)
    # An import announces nothing.
    assert await service.refresh_delegate(university, announce=False) == 0
    assert await owed(db) == []
    assert await service.refresh_delegate(university) == 2
    assert await owed(db) == [
        (12, NEW_MATCH_TEMPLATE, f"match:{university}:{plant}"),
        (11, NEW_MATCH_TEMPLATE, f"match:{plant}:{university}"),
    ]
    assert await service.refresh_delegate(university) == 0
    assert await service.refresh_delegate(plant) == 0
    # The one who turned announcements off is not told; the other side is.
    await items.add(quiet, "offer", "Sludge and wastewater treatment", fields=WATER)
    assert await service.refresh_delegate(quiet) == 1
    assert (await owed(db))[-1] == (11, NEW_MATCH_TEMPLATE, f"match:{plant}:{quiet}")
    item = await outbox.get(1)
    assert item is not None and item.content == TemplateRef(
        NEW_MATCH_TEMPLATE, {"to": university, "about": plant}
    )


async def test_hidden_counterparts_are_left_out_and_not_told(
    db: Database, clock: ManualClock
) -> None:
    items = ItemRepository(db, clock)
    service = MatchingService(db, clock, outbox=OutboxRepository(db, clock))
    a, b, c = [await person(db, clock, n) for n in (21, 22, 23)]
    await items.add(a, "need", "Wastewater treatment", fields=WATER)
    await items.add(b, "offer", "Wastewater treatment", fields=WATER)
    await items.add(c, "offer", "Wastewater treatment plants", fields=WATER)
    await service.load()
    assert await service.hide(a, b)
    assert not await service.hide(a, b)
    assert [int(m.key) for m in await service.top(a)] == [c]
    assert [int(m.key) for m in (await service.table(limit=3))[a]] == [c]
    # b may still want to meet a, but a hid b: the interest is recorded, a is not told.
    assert await service.record_interest(b, a)
    assert await owed(db) == []
    assert await service.record_interest(c, a)
    assert not await service.record_interest(c, a)
    assert await owed(db) == [(21, INTEREST_TEMPLATE, f"interest:{c}:{a}")]
    assert await service.matches.marked(c, Mark.INTERESTED) == {a}
    async with db.transaction():
        await service.forget(a)
    assert await service.matches.marked(c, Mark.INTERESTED) == set()
    assert await items.for_delegate(a) == []


async def test_sync_picks_up_what_another_process_wrote(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    service = MatchingService(db, clock)
    await service.load()
    assert not await service.sync()
    other = Database(tmp_path / "test.db")  # the organizer's import, in its own process
    await other.connect()
    try:
        a = await person(other, clock, 31)
        b = await person(other, clock, 32)
        await ItemRepository(other, clock).replace_imported(a, "need", "Wastewater reuse", WATER)
        await ItemRepository(other, clock).replace_imported(b, "offer", "Wastewater reuse", ())
    finally:
        await other.close()
    assert await service.top(a) == []
    assert await service.sync()
    assert [int(m.key) for m in await service.top(a)] == [b]
    assert not await service.sync()
