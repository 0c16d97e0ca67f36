"""Seeding delegates and driving the /broadcast wizard in flow tests."""

from __future__ import annotations

from bot.app import BotApplication
from bot.domain.models import Role, Step
from bot.sandbox.fake_api import BotMessage, FakeBotApi, FakeUser
from bot.services import Services

ORGANIZER = 900


def services_of(app: BotApplication) -> Services:
    """The application's services."""
    services: Services = app.bot_data["services"]
    return services


async def seed(
    api: FakeBotApi,
    app: BotApplication,
    user_id: int,
    *,
    locale: str | None,
    country: str = "CN",
    role: Role = Role.COMPANY,
    reachable: bool = True,
) -> FakeUser:
    """A registered delegate with a Telegram chat (the fake user of the same id)."""
    services = services_of(app)
    user = api.user(user_id, f"D{user_id}", language_code=locale or "en")
    draft = await services.delegates.start_draft(user_id, user_id)
    await services.delegates.update(
        draft.id,
        locale=locale,
        name=f"Delegate {user_id}",
        organization="Org",
        country=country,
        role=role,
        step=Step.DONE,
        consent=True,
        reachable=reachable,
        registered_at=services.clock.now(),
    )
    return user


async def type_text(api: FakeBotApi, user: FakeUser, text: str, bold: str | None) -> None:
    """Send a text, the first occurrence of `bold` marked bold as the Telegram app does."""
    if bold is None:
        await user.send_text(text)
        return
    start = len(text[: text.index(bold)].encode("utf-16-le")) // 2
    length = len(bold.encode("utf-16-le")) // 2
    entity = {"type": "bold", "offset": start, "length": length}
    api.push_user_message(user, {"text": text, "entities": [entity]})


async def write_broadcast(
    api: FakeBotApi,
    organizer: FakeUser,
    versions: dict[str, str],
    *,
    first: str = "en",
    bold: str | None = None,
) -> BotMessage:
    """Go through /broadcast up to the audience menu; `versions` maps locale button to text."""
    labels = {"en": "English", "ru": "Русский", "zh": "中文", "ko": "한국어", "ar": "العربية"}
    await organizer.send_text("/broadcast")
    prompt = await organizer.expect("New announcement")
    if first != "en":
        await organizer.press(labels[first], prompt)
        prompt = await organizer.expect("New announcement")
    await type_text(api, organizer, versions[first], bold)
    menu = await organizer.expect("Versions written")
    for locale, text in versions.items():
        if locale == first:
            continue
        await organizer.press("➕ " + labels[locale], menu)
        await organizer.expect("Send the announcement in")
        await organizer.send_text(text)
        menu = await organizer.expect("Versions written")
    await organizer.press(-2, menu)  # keep one text / choose the audience
    return await organizer.expect("Who should receive")
