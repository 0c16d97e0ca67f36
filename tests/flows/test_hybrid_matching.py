"""Topics the taxonomy has no field for still find their counterpart: the bundled encoder.

Five delegates, one per language, need something no technology field describes (chess sets,
candles, wooden toys, fishing lures, hand-made carpets);
their counterparts offer it in another language, beside offers that share words but not
meaning. Each sees the right counterpart first, with a reason in their own language quoting the
counterpart's offer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.i18n import FSI, PDI
from bot.sandbox.fake_api import FakeBotApi
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.items_kit import seed, services_of, t

CLOSE = "Their offer is close to your need: “{phrase}”"

# (viewer's language, country, need; counterpart's language, country, offer, quoted phrase)
CASES = (
    ("en", "GB", "Looking for makers of wooden chess sets",
     "ru", "RU", "Шахматы и шахматные доски ручной работы из дерева",
     "Шахматы и шахматные доски ручной работы из дерева"),
    ("zh", "CN", "寻找蜡烛的生产技术",
     "en", "US", "Candle making equipment", "Candle making equipment"),
    ("ru", "RU", "Ищем производителя деревянных игрушек для детей",
     "ar", "AE", "ألعاب أطفال خشبية تعليمية", "ألعاب أطفال خشبية تعليمية"),
    ("ko", "KR", "낚시용 인조 미끼(루어) 제조 기술을 찾습니다",
     "en", "US", "Soft plastic fishing lures, moulded and hand-painted",
     "Soft plastic fishing lures"),
    ("ar", "AE", "نبحث عن صانعي السجاد اليدوي",
     "en", "GB", "Hand-knotted carpets and rugs", "Hand-knotted carpets and rugs"),
)  # fmt: skip
# Offers that share words with the needs above, not their meaning.
DISTRACTORS = (
    ("en", "GB", "Chess tournament management software"),
    ("ru", "RU", "Ремонт детских колясок"),
    ("en", "US", "Candle-shaped LED bulbs"),
    ("en", "US", "Fishing nets and aquaculture cages"),
    ("ar", "AE", "أثاث خشبي للمكاتب"),
)


@pytest.fixture
async def hybrid_bot(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotApplication]:
    """A running bot with the bundled sentence encoder."""
    settings = flow_settings(api, tmp_path / "hybrid.db", MATCHMAKER_ENCODER="use")
    app = await start_bot(settings, clock)
    yield app
    await stop_bot(app)


async def test_a_topic_without_a_field_finds_its_counterpart_first_in_every_language(
    api: FakeBotApi, hybrid_bot: BotApplication
) -> None:
    assert services_of(hybrid_bot).matching.encoder is not None
    viewers = []
    for n, (lang, country, need, other_lang, other_country, offer, _) in enumerate(CASES):
        counterpart = api.user(600 + n, f"Offer {n}", language_code=other_lang)
        await seed(hybrid_bot, counterpart, name=f"Counterpart {n}",
                   organization=f"Maker {n}", country=other_country, locale=other_lang,
                   languages=(other_lang, "en"), offers=(offer,))  # fmt: skip
        viewer = api.user(500 + n, f"Need {n}", language_code=lang)
        await seed(hybrid_bot, viewer, name=f"Viewer {n}", organization=f"Buyer {n}",
                   country=country, locale=lang, languages=(lang, "en"),
                   needs=(need,))  # fmt: skip
        viewers.append(viewer)
    for n, (lang, country, offer) in enumerate(DISTRACTORS):
        other = api.user(700 + n, f"Other {n}", language_code=lang)
        await seed(hybrid_bot, other, name=f"Distractor {n}", organization=f"Other {n}",
                   country=country, locale=lang, languages=(lang, "en"),
                   offers=(offer,))  # fmt: skip

    for n, (viewer, case) in enumerate(zip(viewers, CASES, strict=True)):
        lang, quote = case[0], case[6]
        # No field: the need is about a topic the taxonomy does not know.
        assert services_of(hybrid_bot).matching.classify(case[2]) == []
        await viewer.send_text("/matches")
        card = await viewer.expect(r"Counterpart \d|Distractor \d")
        # The right counterpart comes first, in front of offers that merely share words.
        assert f"Counterpart {n}" in card.text, card.text
        # The reason is in the viewer's language and quotes the counterpart's own words.
        reason = t(lang, CLOSE, phrase=f"{FSI}{quote}{PDI}")
        assert reason in card.text, card.text
        assert t(lang, CLOSE, phrase="").split("“")[0].split("«")[0] in card.text
