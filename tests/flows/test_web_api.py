"""The web face over HTTP, without a browser: who may see and do what, limits, logs, the CLI."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest

from bot.app import BotApplication
from bot.cli import main
from bot.domain.clock import ManualClock
from bot.sandbox.fake_api import FakeBotApi
from handlers.web import miniapp
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.web_kit import base_url, init_data, registered, services_of, web_bot

__all__ = ["web_bot"]  # fixture


async def test_the_miniapp_api_applies_the_chats_rules(
    api: FakeBotApi, web_bot: BotApplication, clock: ManualClock
) -> None:
    anna = api.user(301, "Anna")
    hidden = api.user(302, "Hidden")
    stranger = api.user(303, "Stranger")
    await registered(web_bot, anna, "en", "Anna", "TPU")
    hidden_id = await registered(web_bot, hidden, "en", "Hidden", "Lab")
    await services_of(web_bot).db.execute(
        "UPDATE delegates SET consent = 0 WHERE id = ?", (hidden_id,)
    )
    anna_id = (await services_of(web_bot).delegates.by_telegram_user(301)).id  # type: ignore[union-attr]
    base = base_url(web_bot)

    def auth(user: object) -> dict[str, str]:
        return {"Authorization": f"tma {init_data(api, user, clock.now())}"}  # type: ignore[arg-type]

    async with aiohttp.ClientSession() as http:
        # Not registered: refused, in their language.
        async with http.get(f"{base}/app/api/session", headers=auth(stranger)) as response:
            assert response.status == 403
            assert "/start" in (await response.json())["error"]
        # A delegate who keeps their profile hidden cannot be looked at or booked.
        async with http.get(
            f"{base}/app/api/pair?with={hidden_id}", headers=auth(anna)
        ) as response:
            assert response.status == 403
            assert "cannot book" in (await response.json())["error"]
        async with http.get(f"{base}/app/api/pair?with={anna_id}", headers=auth(anna)) as r:
            assert r.status == 403, "nobody books themselves"
        async with http.post(
            f"{base}/app/api/request", json={"with": hidden_id, "slot": 1}, headers=auth(anna)
        ) as response:
            assert response.status == 409
        async with http.get(f"{base}/app/api/day?date=2030-01-01", headers=auth(anna)) as r:
            assert r.status == 404
        async with http.get(f"{base}/app/api/day", headers=auth(anna)) as response:
            rows = (await response.json())["rows"]
            assert rows and {row["state"] for row in rows} == {"free"}
    assert await services_of(web_bot).meetings.agenda(anna_id) == []


async def test_each_user_has_a_request_budget(
    api: FakeBotApi, web_bot: BotApplication, clock: ManualClock
) -> None:
    anna = api.user(311, "Anna")
    await registered(web_bot, anna, "en", "Anna", "TPU")
    headers = {"Authorization": f"tma {init_data(api, anna, clock.now())}"}
    statuses = []
    async with aiohttp.ClientSession() as http:
        for _ in range(miniapp.BURST + 1):
            async with http.get(f"{base_url(web_bot)}/app/api/day", headers=headers) as r:
                statuses.append(r.status)
    assert statuses[:-1] == [200] * miniapp.BURST and statuses[-1] == 429


async def test_no_board_secret_reaches_the_log(
    web_bot: BotApplication, caplog: pytest.LogCaptureFixture
) -> None:
    secret = await services_of(web_bot).web.board_secret()
    caplog.set_level(logging.DEBUG, logger="matchmaker.web")
    async with aiohttp.ClientSession() as http:
        for path in ("", "/state", "/table/A1"):
            async with http.get(f"{base_url(web_bot)}/board/{secret}{path}") as response:
                assert response.status == 200
    assert "/board/<secret>/state" in caplog.text
    assert secret not in caplog.text


async def test_a_new_board_link_retires_the_old_one(web_bot: BotApplication) -> None:
    web = services_of(web_bot).web
    first = await web.board_secret()
    assert await web.board_secret() == first
    second = await web.board_secret(new=True)
    assert second != first
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base_url(web_bot)}/board/{first}") as response:
            assert response.status == 404
        async with http.get(f"{base_url(web_bot)}/board/{second}") as response:
            assert response.status == 200


def test_board_link_prints_the_same_url_until_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MATCHMAKER_WEB_URL", "https://hall.example.org/")
    config = tmp_path / "event.toml"
    config.write_text('[schedule]\ndays = ["2026-11-24"]\ntables = ["A1", "VIP 2"]\n')
    monkeypatch.setenv("MATCHMAKER_CONFIG", str(config))
    database = str(tmp_path / "board.db")
    assert main(["board-link", "--db", database]) == 0
    first = capsys.readouterr().out.strip()
    assert first.startswith("https://hall.example.org/board/")
    assert main(["board-link", "--db", database, "--tables"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [first, f"A1 {first}/table/A1", f"VIP 2 {first}/table/VIP%202"]
    assert main(["board-link", "--db", database, "--new"]) == 0
    assert capsys.readouterr().out.strip() != first


async def test_the_menu_button_opens_the_miniapp_at_the_public_url(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    settings = flow_settings(
        api,
        tmp_path / "menu.db",
        MATCHMAKER_WEB_PORT="0",
        MATCHMAKER_WEB_URL="https://hall.example.org",
    )
    app = await start_bot(settings, clock)
    try:
        button = api.menu_buttons[None]
        assert button["type"] == "web_app"
        assert button["web_app"]["url"] == "https://hall.example.org/app"
        assert button["text"] == "My day"
    finally:
        await stop_bot(app)


async def test_a_match_card_opens_the_miniapp_on_both_peoples_slots(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    from tests.flows.items_kit import seen
    from tests.flows.test_matches import NEW_MATCH, russian_and_chinese

    settings = flow_settings(
        api, tmp_path / "cards.db", MATCHMAKER_WEB_PORT="0",
        MATCHMAKER_WEB_URL="https://hall.example.org",
    )  # fmt: skip
    app = await start_bot(settings, clock)
    try:
        university, plant = await russian_and_chinese(api)
        plant_id = (await services_of(app).delegates.by_telegram_user(plant.user_id)).id  # type: ignore[union-attr]
        await university.expect(seen("ru", NEW_MATCH))
        await university.send_text("/matches")
        card = await university.expect("王芳")
        first = card.raw["reply_markup"]["inline_keyboard"][0][0]
        assert first["web_app"] == {"url": f"https://hall.example.org/app?with={plant_id}"}
        assert "callback_data" not in first
    finally:
        await stop_bot(app)


async def test_each_chats_menu_button_speaks_its_readers_language(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    from bot.i18n import LANGUAGE_LABELS
    from tests.flows.items_kit import t

    settings = flow_settings(
        api, tmp_path / "labels.db", MATCHMAKER_WEB_PORT="0",
        MATCHMAKER_WEB_URL="https://hall.example.org", MATCHMAKER_DEFAULT_LANGUAGE="en",
    )  # fmt: skip
    app = await start_bot(settings, clock)
    try:
        ivan = api.user(331, "Иван", language_code="ru")
        await ivan.send_text("/start")
        first = await ivan.expect(".")
        await api.settle()
        # Telegram's language is known at the first question: the chat's own button says it.
        button = api.menu_buttons[ivan.chat_id]
        assert button == {
            "type": "web_app",
            "text": t("ru", "My day"),
            "web_app": {"url": "https://hall.example.org/app"},
        }
        assert api.menu_buttons[None]["text"] == "My day", "the bot-wide one stays in English"
        # Choosing a language relabels it, once per language.
        await ivan.press(LANGUAGE_LABELS["ar"], first)
        await ivan.expect(".")
        await api.settle()
        assert api.menu_buttons[ivan.chat_id]["text"] == t("ar", "My day")
        await ivan.send_text("Иван Смирнов")
        await ivan.expect(".")
        await api.settle()
        calls = [
            c for c in api.calls if c.method == "setChatMenuButton" and c.params.get("chat_id")
        ]
        assert len(calls) == 2 and all(c.ok for c in calls)
    finally:
        await stop_bot(app)


async def test_without_https_there_is_no_menu_button_at_all(
    api: FakeBotApi, web_bot: BotApplication
) -> None:
    # Telegram opens web_app buttons over https only: an http web server gets neither the
    # bot-wide button nor a chat's (and the cards carry no Mini App button).
    anna = api.user(341, "Anna", language_code="en")
    await anna.send_text("/start")
    await anna.expect(".")
    await api.settle()
    assert api.menu_buttons == {}
    assert not [c for c in api.calls if c.method == "setChatMenuButton"]
