"""Phase B of the load benchmark: a day's worth of delegates while an announcement drains.

See benchmarks/load.py for what it measures and why users think between actions. Every user
talks English to the bot; their offers and needs are written in English, Russian or Chinese.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
import zoneinfo
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.broadcast import (
    RECIPIENT_BASE,
    count_state,
    prepare_database,
    send_announcement,
)
from benchmarks.harness import bot_environment, percentile_ms, start_process, stop_process

RECIPIENTS = 5_000
USER_BASE = 2_000_000
ORGANIZER = 900
ANSWER_TIMEOUT = 30.0
TIMEZONE = "Asia/Shanghai"
COUNTRIES = ("Germany", "Netherlands", "Israel", "China", "Russia", "Kazakhstan")
# Six technologies, each in three languages. User n offers topic n % 6 and needs the next one,
# so every user is the counterpart of a sixth of the others.
TOPICS: tuple[tuple[str, str, str], ...] = (
    (
        "Membrane bioreactor technology for industrial wastewater treatment",
        "Мембранные биореакторы для очистки промышленных сточных вод",
        "工业废水膜生物反应器处理技术",
    ),
    (
        "Lithium-ion battery recycling and recovery of cathode materials",
        "Переработка литий-ионных аккумуляторов и восстановление катодных материалов",
        "锂离子电池回收与正极材料再生技术",
    ),
    (
        "High-efficiency perovskite solar cells for rooftop power",
        "Высокоэффективные перовскитные солнечные элементы",
        "高效钙钛矿太阳能电池",
    ),
    (
        "Artificial intelligence for diagnosis from medical images",
        "Искусственный интеллект для диагностики по медицинским изображениям",
        "人工智能医学影像诊断",
    ),
    (
        "Drones for precision agriculture and crop spraying",
        "Беспилотники для точного земледелия и опрыскивания посевов",
        "精准农业植保无人机",
    ),
    (
        "Hydrogen fuel cells for trucks and city buses",
        "Водородные топливные элементы для грузовиков и городских автобусов",
        "卡车和城市公交车氢燃料电池",
    ),
)


class Stuck(Exception):
    """The answer a user waited for did not come."""


@dataclass
class PhaseB:
    """What the users saw."""

    latencies: list[float] = field(default_factory=list)
    by_answer: dict[str, list[float]] = field(default_factory=dict)
    stuck: list[str] = field(default_factory=list)
    requests_sent: int = 0
    without_match: int = 0
    broadcast_sent: int = 0
    failed_calls: int = 0
    too_many_requests: int = 0
    seconds: float = 0.0

    @property
    def errors(self) -> int:
        return len(self.stuck) + self.failed_calls

    def p99_ms(self) -> float | None:
        p99 = percentile_ms(self.latencies, 99)
        return None if p99 is None else round(p99, 1)

    def slowest(self, k: int) -> dict[str, float]:
        """The answers users waited longest for, by their worst wait."""
        worst = {pattern: max(waits) * 1000.0 for pattern, waits in self.by_answer.items()}
        return {p: round(w, 1) for p, w in sorted(worst.items(), key=lambda i: -i[1])[:k]}

    def summary(self) -> dict[str, Any]:
        median = percentile_ms(self.latencies, 50)
        worst = percentile_ms(self.latencies, 100)
        return {
            "replies": len(self.latencies),
            "replies_per_s": round(len(self.latencies) / self.seconds, 1) if self.seconds else 0,
            "p50_ms": None if median is None else round(median, 1),
            "p99_ms": self.p99_ms(),
            "max_ms": None if worst is None else round(worst, 1),
            "slowest_answers_ms": self.slowest(3),
            "stuck": len(self.stuck),
            "first_stuck": self.stuck[:3],
            "meeting_requests": self.requests_sent,
            "without_match": self.without_match,
            "broadcast_sent_meanwhile": self.broadcast_sent,
            "telegram_429": self.too_many_requests,
            "failed_calls": self.failed_calls,
            "seconds": round(self.seconds, 1),
        }


def event_config(path: Path) -> Path:
    """Tomorrow and the day after in the event's zone, 20-minute slots, 60 tables."""
    today = dt.datetime.now(zoneinfo.ZoneInfo(TIMEZONE)).date()
    first, last = today + dt.timedelta(days=1), today + dt.timedelta(days=2)
    path.write_text(
        f'organizers = [{ORGANIZER}]\n\n[event]\nname = "Load Days"\n'
        f'timezone = "{TIMEZONE}"\ndates = "{first}..{last}"\ndefault_language = "en"\n\n'
        '[schedule]\nsessions = ["09:00-12:30", "14:00-18:00"]\nslot_minutes = 20\n'
        'tables = "T1..T60"\nroom = "Hall 2"\n',
        encoding="utf-8",
    )
    return path


class Delegate:
    """One scripted user: acts, waits for the answer it needs, thinks, acts again."""

    def __init__(self, api: Any, n: int, think_s: float, run: PhaseB) -> None:
        self.n = n
        self.user = api.user(USER_BASE + n, f"Delegate {n}", language_code="en")
        self._think_s = think_s
        self._random = random.Random(n)
        self._run = run

    async def think(self) -> None:
        await asyncio.sleep(self._think_s * self._random.uniform(0.5, 1.5))

    async def answer(self, act: Callable[[], Awaitable[None]], pattern: str) -> Any:
        """Do something, time the answer matching `pattern`, then think before going on."""
        self.user.drain_events()
        started = time.perf_counter()
        await act()
        try:
            message = await self.user.expect(pattern, timeout=ANSWER_TIMEOUT)
        except AssertionError:
            raise Stuck(f"user {self.n} waited in vain for {pattern!r}") from None
        waited = time.perf_counter() - started
        self._run.latencies.append(waited)
        self._run.by_answer.setdefault(pattern, []).append(waited)
        await self.think()
        return message

    def says(self, text: str) -> Callable[[], Awaitable[None]]:
        return lambda: self.user.send_text(text)

    def presses(self, button: str | int, message: Any) -> Callable[[], Awaitable[None]]:
        return lambda: self.user.press(button, message)

    async def register(self) -> None:
        n = self.n
        welcome = await self.answer(self.says("/start"), "Please choose your language")
        await self.answer(self.presses("English", welcome), "What is your name")
        await self.answer(self.says(f"Delegate {n} <{n % 7}> & Co"), "Which organization")
        await self.answer(self.says(f"Organization {n % 97}"), "Which country")
        roles = await self.answer(self.says(COUNTRIES[n % len(COUNTRIES)]), "What kind of")
        languages = await self.answer(self.presses(n % 6, roles), "In which languages")
        await self.answer(self.presses(-1, languages), "phone number or e-mail")
        consent = await self.answer(self.says(f"d{n}@example.org"), "May we show")
        await self.answer(self.presses(0, consent), "registration is complete")

    async def add(self, side: str, text: str) -> None:
        question = "you offer" if side == "offer" else "you are looking for"
        await self.answer(self.says(f"/{side}"), f"Describe the technology {question}")
        kinds = await self.answer(self.says(text), "What kind of deal")
        if side == "offer":
            maturity = await self.answer(self.presses("Licence", kinds), "How mature")
            patent = await self.answer(self.presses("6", maturity), "protected by a patent")
            fields = await self.answer(self.presses("Patent granted", patent), "technology field")
        else:
            fields = await self.answer(self.presses("Licence", kinds), "technology field")
        await self.answer(self.presses("💾 Save", fields), "Saved")

    async def request_meeting(self) -> None:
        for _attempt in range(4):
            card = await self.answer(self.says("/matches"), r"Match 1 of|No matches yet")
            if "Match 1 of" in card.text:
                break
        else:
            self._run.without_match += 1
            return
        page = await self.answer(self.presses("🤝 Request a meeting", card), "Book a meeting with")
        confirm = await self.answer(self.presses(0, page), "Request a meeting with")
        await self.answer(self.presses("📨 Send request", confirm), "Request sent")
        self._run.requests_sent += 1

    async def live(self, arrival: float) -> None:
        await asyncio.sleep(arrival)
        language = self.n % 3
        try:
            await self.register()
            await self.add("offer", TOPICS[self.n % len(TOPICS)][language])
            await self.add("need", TOPICS[(self.n + 1) % len(TOPICS)][language])
            await self.request_meeting()
        except Stuck as stuck:
            self._run.stuck.append(str(stuck))


async def measure(users: int, think_s: float, workdir: Path) -> PhaseB:
    """Start the bot with pacing on, send the announcement, let the users loose."""
    from bot.sandbox.fake_api import FakeBotApi

    database, log = workdir / "phase_b.db", workdir / "phase_b.log"
    await prepare_database(database, RECIPIENTS)
    run = PhaseB()
    async with FakeBotApi(enforce_rate_limits=True) as api:
        for n in range(RECIPIENTS):
            api.user(RECIPIENT_BASE + n, f"D{n}")
        env = bot_environment(
            api,
            database,
            rate_limit=True,
            MATCHMAKER_CONFIG=str(event_config(workdir / "event.toml")),
            MATCHMAKER_LOG_LEVEL="WARNING",
        )
        process = await start_process(["-m", "bot", "run"], env, log)
        try:
            await send_announcement(api)
            sent_before = count_state(database, "sent")
            delegates = [Delegate(api, n, think_s, run) for n in range(users)]
            arrivals = random.Random(users)
            started = time.perf_counter()
            await asyncio.gather(*(d.live(arrivals.uniform(0, think_s)) for d in delegates))
            run.seconds = time.perf_counter() - started
            run.broadcast_sent = count_state(database, "sent") - sent_before
        finally:
            await stop_process(process)
        calls = [c for c in api.calls if not c.ok and c.status != 499]
        run.too_many_requests = sum(1 for c in calls if c.status == 429)
        logged = log.read_text(encoding="utf-8", errors="replace")
        # Refusals on protocol grounds are among these calls too (api.rejected).
        run.failed_calls = (
            sum(1 for c in calls if c.status != 429)
            + logged.count(" ERROR ")
            + logged.count("Traceback")
        )
    return run
