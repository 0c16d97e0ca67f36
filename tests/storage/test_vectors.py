"""Stored text vectors: computed once, read at every start, re-computed for a new model."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.clock import ManualClock
from bot.domain.encoding import HashEncoder, Matrix, text_key
from bot.services.matching import MatchingService
from storage.db import Database
from storage.items import ItemRepository
from storage.vectors import VectorRepository
from tests.storage.test_matching_service import person


class CountingEncoder(HashEncoder):
    """The hash encoder, counting the texts it encodes."""

    def __init__(self, version: str = "counting-v1") -> None:
        super().__init__(dim=32)
        self._name = version
        self.encoded: list[str] = []

    @property
    def version(self) -> str:
        return self._name

    def encode(self, texts: Sequence[str]) -> Matrix:
        self.encoded.extend(texts)
        return super().encode(texts)


async def test_vectors_are_stored_once_and_a_restart_does_not_re_embed(
    db: Database, clock: ManualClock
) -> None:
    items = ItemRepository(db, clock)
    one, two = await person(db, clock, 1), await person(db, clock, 2)
    await items.add(one, "need", "varroa mite treatment for beehives")
    await items.add(two, "offer", "varroa mite treatment strips")
    first = CountingEncoder()
    service = MatchingService(db, clock, encoder=first)
    await service.load()
    assert sorted(first.encoded) == ["varroa mite treatment for beehives",
                                     "varroa mite treatment strips"]  # fmt: skip
    assert await VectorRepository(db, clock).count() == 2
    assert [int(m.key) for m in await service.top(one)] == [two]

    restarted = CountingEncoder()
    again = MatchingService(db, clock, encoder=restarted)
    await again.load()
    assert restarted.encoded == []
    assert [int(m.key) for m in await again.top(one)] == [two]

    # A new text is encoded once, when its delegate is refreshed; the stored vectors are
    # identical (to half precision) to what the encoder gives.
    await items.add(two, "need", "packaging for honey")
    await again.refresh_delegate(two, announce=False)
    assert restarted.encoded == ["packaging for honey"]
    stored = await VectorRepository(db, clock).load("counting-v1")
    fresh = HashEncoder(dim=32).encode(["packaging for honey"])[0]
    assert abs(float(stored[text_key("packaging for honey", "counting-v1")] @ fresh) - 1) < 1e-3


async def test_a_new_encoder_version_re_embeds_and_prunes_the_old_vectors(
    db: Database, clock: ManualClock
) -> None:
    items = ItemRepository(db, clock)
    one = await person(db, clock, 1)
    item = await items.add(one, "offer", "tidal turbines")
    await MatchingService(db, clock, encoder=CountingEncoder("model-a")).load()
    newer = CountingEncoder("model-b")
    await MatchingService(db, clock, encoder=newer).load()
    assert newer.encoded == ["tidal turbines"]
    vectors = VectorRepository(db, clock)
    assert await vectors.load("model-a") == {}
    assert list(await vectors.load("model-b")) == [text_key("tidal turbines", "model-b")]
    # A text no item has any more is pruned at the next load.
    await items.delete(item.id)
    await MatchingService(db, clock, encoder=CountingEncoder("model-b")).load()
    assert await vectors.count() == 0


async def test_embed_all_reports_progress_in_batches(db: Database, clock: ManualClock) -> None:
    items = ItemRepository(db, clock)
    one = await person(db, clock, 1)
    for n in range(130):
        await items.add(one, "offer", f"offer number {n}")
    seen: list[tuple[int, int]] = []
    encoder = CountingEncoder()
    service = MatchingService(db, clock, encoder=encoder)
    assert await service.embed_all(progress=lambda done, total: seen.append((done, total))) == 130
    assert seen == [(64, 130), (128, 130), (130, 130)]
    assert await service.embed_all() == 0
    assert len(encoder.encoded) == 130
