"""The bot's Bot API client over aiohttp: answers, uploads, timeouts, failures and proxies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession, web
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.sandbox.fake_api import FakeBotApi
from bot.transport.http import AiohttpRequest


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


async def bot_for(base_url: str, token: str, request: AiohttpRequest) -> Bot:
    bot = Bot(token, base_url=base_url, request=request, get_updates_request=AiohttpRequest(1))
    await bot.initialize()
    return bot


async def test_messages_and_uploads_reach_the_api(api: FakeBotApi, tmp_path: Path) -> None:
    user = api.user(42, "Ada")
    bot = await bot_for(api.base_url, api.token, AiohttpRequest())
    try:
        assert (await bot.get_me()).is_bot
        await bot.send_message(42, "<b>Hello</b> &amp; welcome", parse_mode="HTML")
        upload = tmp_path / "schedule.csv"
        upload.write_text("time,table\n09:30,A1\n", encoding="utf-8")
        await bot.send_document(42, upload.read_bytes(), filename="schedule.csv", caption="Yours")
    finally:
        await bot.shutdown()
    assert [m.text for m in user.messages] == ["Hello & welcome", "Yours"]
    assert user.messages[1].document is not None
    assert api.rejected == []


async def test_a_slow_answer_is_a_timeout_and_a_dead_server_a_network_error() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/{tail:.*}", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    request = AiohttpRequest(read_timeout=0.3)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.do_request(f"http://127.0.0.1:{port}/botT/getMe", "POST")
        await runner.cleanup()
        with pytest.raises(NetworkError) as refused:
            await request.do_request(f"http://127.0.0.1:{port}/botT/getMe", "POST")
        assert not isinstance(refused.value, TimedOut)
    finally:
        await request.shutdown()
        await runner.cleanup()


async def test_an_http_proxy_from_the_environment_is_used(
    api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    async def forward(request: web.Request) -> web.Response:
        # A forward proxy receives the absolute URL and passes the call on.
        seen.append(str(request.url))
        async with (
            ClientSession() as client,
            client.post(
                str(request.url), data=await request.read(), headers=request.headers
            ) as answer,
        ):
            return web.Response(
                body=await answer.read(), status=answer.status, content_type="application/json"
            )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    bot = await bot_for(api.base_url, api.token, AiohttpRequest())
    try:
        assert (await bot.get_me()).is_bot
    finally:
        await bot.shutdown()
        await runner.cleanup()
    assert any(url.endswith("/getMe") for url in seen), seen


async def test_a_failure_that_quotes_the_url_does_not_carry_the_token() -> None:
    request = AiohttpRequest()
    await request.initialize()
    try:
        # aiohttp quotes a URL it cannot use in its error; the token must not travel with it.
        with pytest.raises(NetworkError) as failed:
            await request.do_request("http://[not-a-host/bot123456:SECRET-token/getMe", "POST")
    finally:
        await request.shutdown()
    assert "SECRET" not in str(failed.value)
