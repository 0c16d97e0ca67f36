"""The items and match-marks repositories."""

from __future__ import annotations

import sqlite3

import pytest

from bot.domain.clock import ManualClock
from bot.domain.items import ItemStep
from storage.db import Database
from storage.delegates import DelegateRepository
from storage.items import ItemRepository
from storage.matches import Mark, MatchRepository


async def delegate(db: Database, clock: ManualClock, user: int) -> int:
    repo = DelegateRepository(db, clock)
    draft = await repo.start_draft(user, user)
    await repo.update(draft.id, name=f"D{user}", organization=f"Org {user}", consent=True,
                      registered_at=clock.now())  # fmt: skip
    return draft.id


async def test_items_are_added_updated_listed_and_deleted(
    db: Database, clock: ManualClock
) -> None:
    repo = ItemRepository(db, clock)
    owner = await delegate(db, clock, 1)
    offer = await repo.add(owner, "offer", "PEM electrolyzer stacks", kind="product", trl=7,
                           ip_status="granted", fields=("energy.hydrogen",))  # fmt: skip
    need = await repo.add(owner, "need", "Distributors in Korea", kind="partnership")
    assert offer.complete and offer.step is None and offer.fields == ("energy.hydrogen",)
    assert [i.id for i in await repo.for_delegate(owner)] == [offer.id, need.id]
    edited = await repo.update(offer.id, fields=("energy.hydrogen", "energy.fuel_cells"), trl=8)
    assert edited.fields == ("energy.hydrogen", "energy.fuel_cells") and edited.trl == 8
    await repo.delete(need.id)
    assert await repo.get(need.id) is None
    assert [i.id for i in await repo.all_complete()] == [offer.id]
    with pytest.raises(ValueError):
        await repo.update(offer.id, delegate_id=2)


async def test_schema_refuses_bad_values(db: Database, clock: ManualClock) -> None:
    repo = ItemRepository(db, clock)
    owner = await delegate(db, clock, 1)
    item = await repo.add(owner, "offer", "Solar panels")
    for bad in ({"text": "x" * 1001}, {"trl": 10}, {"trl": 0}, {"ip_status": "maybe"}):
        with pytest.raises(sqlite3.IntegrityError):
            await repo.update(item.id, **bad)
    with pytest.raises(sqlite3.IntegrityError):
        await repo.add(owner, "wish", "Solar panels")
    with pytest.raises(sqlite3.IntegrityError):
        await repo.add(owner + 100, "offer", "Nobody's item")
    assert (await repo.update(item.id, text="ж" * 1000)).text == "ж" * 1000


async def test_a_delegate_has_one_pending_question(db: Database, clock: ManualClock) -> None:
    repo = ItemRepository(db, clock)
    owner = await delegate(db, clock, 1)
    saved = await repo.add(owner, "offer", "Drip irrigation")
    draft = await repo.start_draft(owner, "need")
    assert (draft.text, draft.complete, draft.step) == ("", False, ItemStep.TEXT)
    assert (await repo.pending_question(owner)) == draft
    # Editing the saved item abandons the unfinished draft.
    editing = await repo.ask(saved.id, ItemStep.KIND)
    assert editing.step is ItemStep.KIND and editing.complete
    assert await repo.get(draft.id) is None
    assert (await repo.pending_question(owner)) == editing
    # A new draft cancels the edit but keeps the saved item.
    second = await repo.start_draft(owner, "offer")
    assert (await repo.get(saved.id)) is not None
    assert (await repo.get(saved.id)).step is None  # type: ignore[union-attr]
    assert (await repo.pending_question(owner)) == second
    await repo.drop_questions(owner)
    assert await repo.pending_question(owner) is None
    assert [i.id for i in await repo.for_delegate(owner)] == [saved.id]
    with pytest.raises(sqlite3.IntegrityError):
        await repo.add(owner, "offer", "", complete=False, step=ItemStep.KIND)


async def test_replace_imported_keeps_one_item_per_side(db: Database, clock: ManualClock) -> None:
    repo = ItemRepository(db, clock)
    owner = await delegate(db, clock, 1)
    chat_item = await repo.add(owner, "offer", "Typed in chat")
    assert await repo.replace_imported(owner, "offer", "Wastewater treatment", ())
    assert not await repo.replace_imported(owner, "offer", "Wastewater treatment", ())
    assert not await repo.replace_imported(owner, "need", None, ())
    assert not await repo.replace_imported(owner, "need", "  ", ())
    assert await repo.replace_imported(owner, "need", "Membranes", ())
    assert await repo.replace_imported(owner, "offer", "Sludge drying", ())
    texts = {(i.side, i.text, i.imported) for i in await repo.for_delegate(owner)}
    assert texts == {
        ("offer", "Typed in chat", False),
        ("offer", "Sludge drying", True),
        ("need", "Membranes", True),
    }
    assert await repo.replace_imported(owner, "need", "", ())
    assert not await repo.replace_imported(owner, "need", "", ())
    assert {i.text for i in await repo.for_delegate(owner)} == {"Typed in chat", "Sludge drying"}
    assert await repo.get(chat_item.id) is not None
    await DelegateRepository(db, clock).erase(owner)
    await repo.delete_for_delegate(owner)
    assert not await repo.replace_imported(owner, "offer", "Sludge drying", ())
    assert await repo.for_delegate(owner) == []


async def test_marks_are_recorded_once_and_forgotten_with_the_delegate(
    db: Database, clock: ManualClock
) -> None:
    marks = MatchRepository(db, clock)
    items = ItemRepository(db, clock)
    a, b, c = [await delegate(db, clock, n) for n in (1, 2, 3)]
    assert await marks.add_mark(a, b, Mark.HIDDEN)
    assert not await marks.add_mark(a, b, Mark.HIDDEN)
    assert await marks.add_mark(a, b, Mark.INTERESTED)
    assert await marks.add_mark(c, a, Mark.ANNOUNCED)
    assert await marks.has_mark(a, b, Mark.HIDDEN)
    assert not await marks.has_mark(b, a, Mark.HIDDEN)
    assert await marks.marked(a, Mark.HIDDEN) == {b}
    assert await marks.marks_between(a, [b, c]) == {b: {Mark.HIDDEN, Mark.INTERESTED}}
    with pytest.raises(sqlite3.IntegrityError):
        await marks.add_mark(a, a, Mark.HIDDEN)
    await items.add(a, "offer", "Solar")
    async with db.transaction():
        assert await marks.forget(a) == 3
        assert await items.delete_for_delegate(a) == 1
    assert await marks.marked(c, Mark.ANNOUNCED) == set()


async def test_profiles_are_live_registered_delegates(db: Database, clock: ManualClock) -> None:
    marks = MatchRepository(db, clock)
    delegates = DelegateRepository(db, clock)
    a = await delegate(db, clock, 1)
    await delegates.start_draft(2, 2)  # still registering
    gone = await delegate(db, clock, 3)
    await delegates.erase(gone)
    assert [p.id for p in await marks.profiles()] == [a]
    profile = await marks.profile(a)
    assert profile is not None and profile.notify_matches and profile.consent
    await delegates.update(a, notify_matches=False)
    assert not (await marks.profile(a)).notify_matches  # type: ignore[union-attr]
    assert await marks.profile(gone) is None
