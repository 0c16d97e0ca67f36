"""Offers and needs as delegates add, correct, edit and delete them, over the fake Bot API."""

from __future__ import annotations

from pathlib import Path

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.domain.items import ItemStep
from bot.sandbox.fake_api import FakeBotApi
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.items_kit import (
    FIELDS,
    IP,
    NEED_KIND,
    OFFER_KIND,
    SAVED,
    TRL,
    name,
    question,
    seed,
    seen,
    services_of,
    t,
)
from tests.flows.test_registration import register

WASTEWATER_RU = (
    "Технологии глубокой очистки промышленных сточных вод: мембранные биореакторы и "
    "озонирование для текстильных и химических предприятий"
)
DYEING_NEED_ZH = "寻求印染行业工业废水深度处理技术"


async def test_offer_in_russian_with_fields_confirmed_and_corrected(
    api: FakeBotApi, bot: BotApplication
) -> None:
    user = api.user(301, "Ольга", language_code="ru")
    await register(user, locale="ru", language="Русский", name="Ольга Смирнова",
                   organization="ТПУ", country="Россия", role=1)  # fmt: skip
    await user.send_text("/offer")
    await user.expect(question("ru", "offer"))
    # Bad input is explained and the question asked again.
    await user.send_sticker()
    again = await user.expect(question("ru", "offer"))
    assert t("ru", "I can only read text here. Please type your answer.") in again.text
    await user.send_text("x" * 1001)
    again = await user.expect(question("ru", "offer"))
    assert "1000" in again.text.split("\n")[0]
    await user.send_text("🚀 🚀 🚀")
    await user.expect(seen("ru", "Please use letters or digits, not only symbols or emoji."))
    await user.send_text(WASTEWATER_RU)
    kinds = await user.expect(seen("ru", OFFER_KIND))
    # Deal kinds come from the taxonomy, in the delegate's language.
    assert name("licence", "ru") in kinds.button_texts()
    assert name("joint_rnd", "ru") in kinds.button_texts()
    # Typing at a button question asks again.
    await user.send_text("лицензия")
    await user.expect(seen("ru", "Please use the buttons below."))
    await user.press(name("licence", "ru"), kinds)
    trl = await user.expect(seen("ru", TRL))
    assert [b for b in trl.button_texts() if b.isdigit()] == [str(n) for n in range(1, 10)]
    await user.press("6", trl)
    ip = await user.expect(seen("ru", IP))
    await user.press(t("ru", "Patent granted"), ip)
    fields = await user.expect(seen("ru", FIELDS))
    wastewater = name("env.wastewater", "ru")
    assert "✅ " + wastewater in fields.button_texts()
    # Correct the proposal: add desalination from the environment area, then take it off again.
    await user.press(t("ru", "🗂 Other fields"), fields)
    areas = await user.expect(seen("ru", "Choose a broad area to see its fields."))
    assert areas.edited and "✅ " + name("environment", "ru") in areas.button_texts()
    await user.press("✅ " + name("environment", "ru"), areas)
    area = await user.expect(name("environment", "ru"))
    desalination = name("env.desalination", "ru")
    await user.press("▫️ " + desalination, area)
    toggled = await user.expect(desalination)
    assert "✅ " + desalination in toggled.button_texts()
    assert desalination in toggled.text.split("\n")[-1]
    await user.press(t("ru", "◀ Areas"), toggled)
    areas = await user.expect(seen("ru", "Choose a broad area to see its fields."))
    await user.press(t("ru", "◀ Back"), areas)
    proposed = await user.expect(seen("ru", FIELDS))
    await user.press("✅ " + desalination, proposed)
    proposed = await user.expect(seen("ru", FIELDS))
    # Deselected, a field the text did not suggest leaves the list (it is under Other fields).
    assert not any(desalination in b for b in proposed.button_texts())
    assert desalination not in proposed.text
    await user.press(t("ru", "💾 Save"), proposed)
    saved = await user.expect(seen("ru", SAVED))
    assert WASTEWATER_RU in saved.text
    assert t("ru", "Fields: {fields}", fields=wastewater) in saved.text
    assert t("ru", "Maturity: TRL {trl}", trl=6) in saved.text
    assert t("ru", "Patent: {status}", status=t("ru", "Patent granted")) in saved.text
    assert name("licence", "ru") in saved.text
    assert t("ru", "🤝 My matches") in saved.button_texts()

    items = await services_of(bot).items.for_delegate(
        (await services_of(bot).delegates.by_telegram_user(301)).id  # type: ignore[union-attr]
    )
    assert [(i.side, i.kind, i.trl, i.ip_status, i.fields, i.complete) for i in items] == [
        ("offer", "licence", 6, "granted", ("env.wastewater",), True)
    ]


async def test_need_in_chinese_skips_maturity_and_can_be_edited_and_deleted(
    api: FakeBotApi, bot: BotApplication
) -> None:
    user = api.user(302, "王", language_code="zh")
    await register(user, locale="zh", language="中文", name="王芳", organization="江苏印染集团",
                   country="中国")  # fmt: skip
    await user.send_text("/need")
    await user.expect(question("zh", "need"))
    await user.send_text(DYEING_NEED_ZH)
    kinds = await user.expect(seen("zh", NEED_KIND))
    await user.press(name("licence", "zh"), kinds)
    # A need asks no TRL or patent: the fields come next, proposed from the Chinese text.
    fields = await user.expect(seen("zh", FIELDS))
    assert "✅ " + name("env.wastewater", "zh") in fields.button_texts()
    await user.press(t("zh", "💾 Save"), fields)
    saved = await user.expect(seen("zh", SAVED))
    assert DYEING_NEED_ZH in saved.text and "TRL" not in saved.text

    await user.send_text("/items")
    listed = await user.expect(seen("zh", "Tap an item to see, edit or delete it."))
    await user.press(f"1. 🔵 {DYEING_NEED_ZH}", listed)
    card = await user.expect(DYEING_NEED_ZH)
    assert t("zh", "✏️ TRL") not in card.button_texts()
    await user.press(t("zh", "✏️ Text"), card)
    await user.expect(question("zh", "need"))
    await user.send_text("寻求印染废水处理和污泥干化技术")
    fields = await user.expect(seen("zh", FIELDS))
    await user.press(t("zh", "💾 Save"), fields)
    changed = await user.expect(seen("zh", "✅ Changes saved."))
    assert "污泥干化" in changed.text
    await user.press(t("zh", "✏️ Kind"), changed)
    kinds = await user.expect(seen("zh", NEED_KIND))
    assert "✅ " + name("licence", "zh") in kinds.button_texts()
    await user.press(name("joint_rnd", "zh"), kinds)
    changed = await user.expect(seen("zh", "✅ Changes saved."))
    assert name("joint_rnd", "zh") in changed.text

    await user.press(t("zh", "🗑 Delete"), changed)
    confirm = await user.expect(seen("zh", "Delete this item? This cannot be undone."))
    await user.press(t("zh", "No, keep it"), confirm)
    kept = await user.expect("污泥干化")
    assert kept.edited and t("zh", "🗑 Delete") in kept.button_texts()
    await user.press(t("zh", "🗑 Delete"), kept)
    confirm = await user.expect(seen("zh", "Delete this item? This cannot be undone."))
    await user.press(t("zh", "Yes, delete it"), confirm)
    await user.expect(seen("zh", "The item was deleted."))
    await user.send_text("/items")
    await user.expect(
        seen(
            "zh",
            "You have not added any offers or needs yet. Add one, and I will find the "
            "delegates who match it.",
        )
    )


async def test_an_offer_of_investment_asks_no_maturity_and_an_edit_can_add_it(
    api: FakeBotApi, bot: BotApplication
) -> None:
    user = api.user(303, "Kim", language_code="ko")
    await seed(bot, user, name="김민준", organization="KIC", country="KR", locale="ko")
    await user.send_text("/offer")
    await user.expect(question("ko", "offer"))
    await user.send_text("수소 연료전지 스타트업에 대한 벤처 투자")
    await user.press(name("investment", "ko"), await user.expect(seen("ko", OFFER_KIND)))
    fields = await user.expect(seen("ko", FIELDS))
    await user.press(t("ko", "💾 Save"), fields)
    saved = await user.expect(seen("ko", SAVED))
    assert "TRL" not in saved.text
    await user.send_text("/items")
    await user.press(0, await user.expect(seen("ko", "Tap an item to see, edit or delete it.")))
    card = await user.expect("수소")
    await user.press(t("ko", "✏️ Kind"), card)
    await user.press(name("licence", "ko"), await user.expect(seen("ko", OFFER_KIND)))
    # A technology licence needs its maturity and patent status before it is saved again.
    await user.press("4", await user.expect(seen("ko", TRL)))
    await user.press(t("ko", "Patent pending"), await user.expect(seen("ko", IP)))
    changed = await user.expect(seen("ko", "✅ Changes saved."))
    assert t("ko", "Maturity: TRL {trl}", trl=4) in changed.text


async def test_unregistered_users_are_sent_to_finish_registration(
    api: FakeBotApi, bot: BotApplication
) -> None:
    stranger = api.user(304, "New", language_code="en")
    await stranger.send_text("/offer")
    await stranger.expect("Welcome to the matchmaking")
    await stranger.press("English")
    await stranger.expect("What is your name")
    await stranger.send_text("/need")
    reply = await stranger.expect("Please finish your registration first.")
    assert "What is your name" in reply.text
    await stranger.send_text("/matches")
    await stranger.expect("Please finish your registration first.")
    await stranger.press_data("i1:new:offer")
    await api.settle()
    assert "no longer active" in stranger.callback_answers[-1].get("text", "")


async def test_a_draft_survives_a_new_command_and_a_cancel_discards_it(
    api: FakeBotApi, bot: BotApplication
) -> None:
    user = api.user(305, "Ann", language_code="en")
    await seed(bot, user, name="Ann", organization="Acme", country="GB", locale="en")
    await user.send_text("/offer")
    await user.expect(question("en", "offer"))
    await user.send_text("Solar panels with perovskite cells")
    kinds = await user.expect(OFFER_KIND)
    await user.send_text("/offer")
    resumed = await user.expect("Let us continue with your unfinished offer.")
    assert OFFER_KIND in resumed.text
    # The first kind question still works: the draft is in the database, not in a message.
    await user.press("Product supply", kinds)
    trl = await user.expect("TRL")
    await user.press("✖️ Cancel", trl)
    await user.expect("Cancelled. Nothing was saved.")
    services = services_of(bot)
    delegate = await services.delegates.by_telegram_user(305)
    assert delegate is not None and await services.items.for_delegate(delegate.id) == []
    # Pressing the old question's buttons now changes nothing.
    await user.press("7", trl)
    await api.settle()
    assert "no longer active" in user.callback_answers[-1].get("text", "")


async def test_a_profile_edit_left_open_gives_way_to_item_questions(
    api: FakeBotApi, bot: BotApplication
) -> None:
    user = api.user(306, "Eve", language_code="en")
    await seed(bot, user, name="Eve", organization="Acme", country="GB", locale="en")
    await user.send_text("/profile")
    profile = await user.expect("Your profile")
    assert "➕ Offer technology" in profile.button_texts()
    await user.press("✏️ Name", profile)
    await user.expect("What is your name")
    await user.press("➕ Offer technology", profile)
    await user.expect(question("en", "offer"))
    await user.send_text("Drip irrigation controllers")
    await user.expect(OFFER_KIND)
    services = services_of(bot)
    delegate = await services.delegates.by_telegram_user(306)
    assert delegate is not None and delegate.name == "Eve"
    pending = await services.items.pending_question(delegate.id)
    assert pending is not None and pending.step is ItemStep.KIND


async def test_forged_item_buttons_are_refused(api: FakeBotApi, bot: BotApplication) -> None:
    owner = api.user(307, "Owner", language_code="en")
    thief = api.user(308, "Thief", language_code="en")
    await seed(bot, owner, name="Owner", organization="A", country="GB", locale="en")
    await seed(bot, thief, name="Thief", organization="B", country="GB", locale="en")
    await owner.send_text("/offer")
    await owner.expect(question("en", "offer"))
    await owner.send_text("Industrial wastewater treatment with membranes")
    kinds = await owner.expect(OFFER_KIND)
    services = services_of(bot)
    delegate = await services.delegates.by_telegram_user(307)
    assert delegate is not None
    item = await services.items.pending_question(delegate.id)
    assert item is not None
    await thief.send_text("/items")
    listed = await thief.expect("You have not added")
    for data in (
        f"i1:kind:{item.id}-licence",
        f"i1:ed:{item.id}-text",
        f"i1:delyes:{item.id}",
        f"i1:card:{item.id}",
        f"i1:cancel:{item.id}",
        "i1:kind:abc-licence",
        "i1:new:wish",
        "i1:hack:1",
    ):
        await thief.press_data(data, listed)
    await api.settle()
    answers = thief.callback_answers[-8:]
    assert all("no longer active" in a.get("text", "") for a in answers), answers
    # The owner's own forged steps are refused too: the item is asking its kind, not its TRL.
    await owner.press_data(f"i1:trl:{item.id}-5", kinds)
    await owner.press_data(f"i1:kind:{item.id}-bribery", kinds)
    await api.settle()
    assert all("no longer active" in a.get("text", "") for a in owner.callback_answers[-2:])
    unchanged = await services.items.get(item.id)
    assert unchanged is not None and unchanged.kind is None and unchanged.step is ItemStep.KIND


async def test_a_restart_mid_offer_continues_where_it_stopped(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    settings = flow_settings(api, tmp_path / "restart.db")
    app = await start_bot(settings, clock)
    user = api.user(309, "Ли", language_code="ru")
    try:
        await seed(app, user, name="Ли", organization="НГУ", country="RU", locale="ru")
        await user.send_text("/offer")
        await user.expect(question("ru", "offer"))
        await user.send_text(WASTEWATER_RU)
        kinds = await user.expect(seen("ru", OFFER_KIND))
    finally:
        await stop_bot(app)
    app = await start_bot(settings, clock)
    try:
        # The question sent before the restart still works: the draft is in the database.
        await user.press(name("services", "ru"), kinds)
        fields = await user.expect(seen("ru", FIELDS))
        await user.press(t("ru", "💾 Save"), fields)
        saved = await user.expect(seen("ru", SAVED))
        assert WASTEWATER_RU in saved.text and name("services", "ru") in saved.text
    finally:
        await stop_bot(app)


TOO_FEW_WORDS = (
    "Please describe it in a few words, so that the right delegates find it, for example: "
    "“Membrane bioreactors for textile wastewater”."
)


async def test_a_description_needs_a_few_meaningful_words(
    api: FakeBotApi, bot: BotApplication
) -> None:
    for n, (locale, language, name_, country, good) in enumerate(
        (
            ("ru", "Русский", "Ольга", "Россия", "Слуховые аппараты"),
            ("ar", "العربية", "عمر", "السعودية", "مفاعلات حيوية غشائية"),
        )
    ):
        user = api.user(170 + n, name_, language_code=locale)
        await register(user, locale=locale, language=language, name=name_,
                       organization="Org", country=country)  # fmt: skip
        await user.send_text("/offer")
        await user.expect(question(locale, "offer"))
        for typed in ("ok", "ok ok"):
            await user.send_text(typed)
            refusal = await user.expect(seen(locale, TOO_FEW_WORDS))
            assert "«" in refusal.text  # the example, quoted as the language quotes
        await user.send_text(good)
        await user.expect(seen(locale, OFFER_KIND))
