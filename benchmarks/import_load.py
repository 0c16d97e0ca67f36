"""A CLI import of 30,000 delegates while the bot serves 200 active users (issue 20, item 13).

The bot runs as `matchmaker run` (its own process) against the fake Bot API on 127.0.0.1, rate
limiting off, on a database where 200 delegates are registered. Each of them acts like a person
at the event: think a while (mean `--think-s`, default 4 s, so about 50 actions per second from
all of them), then either ask /help (a read) or switch the interface language with /language and
a button press (a write); every reply's latency is measured from the user's message to the
answer that user waits for. Meanwhile 400 outbox items per phase are queued for their chats by
another connection, and the bot delivers them (marking each sent: the write that failed with
"database is locked" in the audit).

Phase 1, the same-run baseline: `--baseline-s` (default 30) of that load alone. Phase 2: the
same load while `matchmaker import-delegates` imports `--delegates` (default 30,000) rows into
the same database file, from the start of the import to its end.

Then it checks: no "database is locked" anywhere (the bot's log, the import's output), no lost
write (each user's language as they last chose it; every outbox item sent, once), no reply
missing after 30 s, and the import's own report. Targets: import-phase reply p99 <= 1000 ms,
0 locked, 0 lost, 0 duplicates, 0 missing replies, import exit code 0. Prints one JSON line
and exits 1 on a miss. Run from the repository root: `python -m benchmarks.import_load`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import bot_environment, percentile_ms, start_process, stop_process

TARGET_P99_MS = 1000.0
ANSWER_TIMEOUT = 30.0
USER_BASE = 500_000
OUTBOX_PER_PHASE = 400
LOCKED = "database is locked"
ORGANIZER = 900

TEXTS = (
    "Membrane bioreactor for industrial wastewater reuse at {site}",
    "Hydrogen fuel cell stacks for heavy trucks, pilot line in {site}",
    "Solid-state lithium battery cathode materials from {site}",
    "Precision agriculture drones with multispectral imaging, {site}",
    "Biodegradable packaging film from agricultural residues, {site}",
    "Machine vision inspection of weld seams, deployed at {site}",
    "Geothermal heat pumps for district heating in {site}",
    "Low-cost diagnostics for tuberculosis, validated in {site}",
)
COUNTRIES = ("CN", "RU", "KZ", "KR", "AE", "DE", "FR", "IN", "BR", "EG")
LANGUAGES = ("zh", "ru", "en", "ko", "ar")
ROLES = ("company", "university", "institute", "investor", "agency", "government")


def delegates_csv(path: Path, rows: int, *, compact: bool = False) -> None:
    """A delegate file of `rows` rows: names, organizations, contacts, an offer or a need.

    `compact` leaves out the e-mail, so that 60,000 rows fit the 5 MB a chat import takes.
    """
    rng = random.Random(20)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["external_id", "name", "organization", "country", "language", "role", "offer",
             "need", "email", "consent"]
        )  # fmt: skip
        for n in range(rows):
            text = rng.choice(TEXTS).format(site=f"site {n % 700}")
            if compact:
                text = " ".join(text.split()[:3]) + f" {n % 700}"
            offer, need = (text, "") if n % 2 else ("", text)
            writer.writerow(
                [f"D{n:06d}", f"Delegate {n}", f"Org {n % 1200}", rng.choice(COUNTRIES),
                 rng.choice(LANGUAGES), rng.choice(ROLES), offer, need,
                 "" if compact else f"d{n}@example.org", "yes"]
            )  # fmt: skip


async def seed(database: Path, users: int) -> None:
    """Migrate the database and register the active users' delegates."""
    from storage.db import Database

    db = Database(database)
    await db.connect()
    try:
        await db.migrate()
        now = "2026-11-01T00:00:00.000000+00:00"
        await db.executemany(
            "INSERT INTO delegates (telegram_user_id, chat_id, locale, name, organization, "
            "country, role, meeting_languages, consent, step, created_at, updated_at, "
            "registered_at) VALUES (?, ?, 'en', ?, ?, 'CN', 'company', 'en', 1, 'done', ?, ?, ?)",
            [
                (USER_BASE + n, USER_BASE + n, f"User {n}", f"Org {n}", now, now, now)
                for n in range(users)
            ],
        )
    finally:
        await db.close()


async def queue_outbox(database: Path, users: int, phase: str) -> list[str]:
    """Owe the users OUTBOX_PER_PHASE messages from another connection; return their texts."""
    from bot.domain.clock import SystemClock
    from bot.domain.outbox import Outgoing, Priority, Rendered
    from storage.db import Database
    from storage.outbox import OutboxRepository

    texts = [f"bench item {phase}-{n}" for n in range(OUTBOX_PER_PHASE)]
    db = Database(database)
    await db.connect()
    try:
        await OutboxRepository(db, SystemClock()).enqueue_many(
            [
                Outgoing(USER_BASE + n % users, Rendered(text), Priority.NOTICE)
                for n, text in enumerate(texts)
            ]
        )
    finally:
        await db.close()
    return texts


@dataclass
class Phase:
    """What one phase measured."""

    latencies: list[float] = field(default_factory=list)
    missing: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "replies": len(self.latencies),
            "p50_ms": _round(percentile_ms(self.latencies, 50)),
            "p99_ms": _round(percentile_ms(self.latencies, 99)),
            "max_ms": _round(max(self.latencies) * 1000 if self.latencies else None),
            "missing": self.missing,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


class People:
    """The 200 active users, acting until told to stop."""

    def __init__(self, api: Any, users: int, think: float) -> None:
        from bot.i18n import I18n

        self.users = [api.user(USER_BASE + n, f"U{n}", language_code="en") for n in range(users)]
        self.think = think
        self.locale = {u.user_id: "en" for u in self.users}
        i18n = I18n("en")
        self.menu = {
            code: re.escape(i18n.translator(code)._("Please choose your language."))
            for code in ("en", "ru")
        }
        self.switched = {
            code: re.escape(i18n.translator(code)._("From now on I will write to you in English."))
            for code in ("en", "ru")
        }
        self.labels = {"en": "English", "ru": "Русский"}
        self.busy: set[int] = set()

    async def _timed(self, phase: Phase, action: Any, pattern: str, user: Any) -> Any:
        started = time.perf_counter()
        await action
        try:
            answer = await user.expect(pattern, timeout=ANSWER_TIMEOUT)
        except AssertionError:
            phase.missing += 1
            return None
        phase.latencies.append(time.perf_counter() - started)
        return answer

    async def act(self, user: Any, phase: Phase, rng: random.Random) -> None:
        if rng.random() < 0.5:
            await self._timed(phase, user.send_text("/help"), r"/delete_me", user)
            return
        current = self.locale[user.user_id]
        target = "ru" if current == "en" else "en"
        menu = await self._timed(phase, user.send_text("/language"), self.menu[current], user)
        if menu is None:
            return
        pressed = await self._timed(
            phase, user.press(self.labels[target], menu), self.switched[target], user
        )
        if pressed is not None:
            self.locale[user.user_id] = target

    async def live(self, user: Any, phase_of: Any, stop: asyncio.Event, seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), rng.uniform(0, 2 * self.think))
            if stop.is_set():
                break
            await self.act(user, phase_of(), rng)


async def import_in_chat(api: Any, csv_file: Path, import_log: Path) -> int:
    """The organizer sends the file to the bot; wait for the report. Return 0 if it came."""
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    content = await asyncio.to_thread(csv_file.read_bytes)
    await organizer.send_document("delegates.csv", content)
    edits = 0
    while True:
        try:
            seen = await organizer.expect(
                r"Importing|\d+ inserted, \d+ updated|too large|Nothing was imported",
                timeout=1800,
            )
        except AssertionError as missing:
            await asyncio.to_thread(import_log.write_text, str(missing), encoding="utf-8")
            return 1
        if "inserted" in seen.text:
            report = seen
            break
        if "Importing" not in seen.text:
            await asyncio.to_thread(import_log.write_text, seen.text, encoding="utf-8")
            return 1
        edits += seen.edited
    await asyncio.to_thread(
        import_log.write_text, f"progress edits: {edits}\n{report.text}\n", encoding="utf-8"
    )
    return 0


def _read(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""


async def wait_for_line(log: Path, needle: str, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if needle in await asyncio.to_thread(_read, log):
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"no {needle!r} in {log} within {within} s")


def stored_state(database: Path) -> tuple[dict[int, str], Counter[str], int]:
    """Each user's stored locale, the bench items by state, and the imported delegates."""
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        locales = {
            int(row[0]): str(row[1])
            for row in conn.execute(
                "SELECT telegram_user_id, locale FROM delegates WHERE telegram_user_id >= ?",
                (USER_BASE,),
            )
        }
        states = Counter(
            str(row[0])
            for row in conn.execute("SELECT state FROM outbox WHERE text LIKE 'bench item %'")
        )
        imported = int(
            conn.execute("SELECT count(*) FROM delegates WHERE source = 'import'").fetchone()[0]
        )
    return locales, states, imported


async def measure(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from bot.sandbox.fake_api import FakeBotApi

    database = work / "event.db"
    csv_file = work / "delegates.csv"
    delegates_csv(csv_file, args.delegates, compact=args.via == "chat")
    await seed(database, args.users)
    bot_log, import_log = work / "bot.log", work / "import.log"
    async with FakeBotApi() as api:
        env = bot_environment(
            api,
            database,
            rate_limit=False,
            MATCHMAKER_BOT_USERNAME="bench_bot",
            MATCHMAKER_ORGANIZERS=str(ORGANIZER),
        )
        bot = await start_process(["-m", "bot", "run"], env, bot_log)
        try:
            await wait_for_line(bot_log, "ready:", 60)
            people = People(api, args.users, args.think_s)
            baseline, during = Phase(), Phase()
            current = [baseline]
            stop = asyncio.Event()
            lives = [
                asyncio.create_task(people.live(u, lambda: current[0], stop, n))
                for n, u in enumerate(people.users)
            ]
            owed = await queue_outbox(database, args.users, "baseline")
            await asyncio.sleep(args.baseline_s)

            current[0] = during
            owed += await queue_outbox(database, args.users, "import")
            started = time.perf_counter()
            if args.via == "chat":
                import_code = await import_in_chat(api, csv_file, import_log)
            else:
                importer = await start_process(
                    ["-m", "bot", "import-delegates", str(csv_file), "--db", str(database)],
                    env,
                    import_log,
                )
                import_code = await importer.wait()
            import_s = time.perf_counter() - started
            stop.set()
            await asyncio.gather(*lives)
            # Let the outbox drain what it still owes.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                _, states, _ = stored_state(database)
                if states.get("sent", 0) >= len(owed):
                    break
                await asyncio.sleep(0.5)
        finally:
            await stop_process(bot)
        await api.settle(timeout=30)
        received = Counter(
            m.text for u in people.users for m in u.messages if m.text.startswith("bench item")
        )
    locales, states, imported = stored_state(database)
    lost_locale = sum(1 for uid, code in people.locale.items() if locales.get(uid) != code)
    lost_items = sum(1 for text in owed if received[text] == 0)
    duplicates = sum(count - 1 for count in received.values() if count > 1)
    logs = bot_log.read_text(encoding="utf-8", errors="replace")
    import_out = import_log.read_text(encoding="utf-8", errors="replace")
    locked = logs.count(LOCKED) + import_out.count(LOCKED)
    errors = sum(1 for line in logs.splitlines() if " ERROR " in line)
    base, load = baseline.summary(), during.summary()
    ratio = (
        round(load["p99_ms"] / base["p99_ms"], 2)
        if load["p99_ms"] is not None and base["p99_ms"]
        else None
    )
    summary_line = import_out.strip().splitlines()[-1] if import_out.strip() else ""
    return {
        "benchmark": "import_load",
        "via": args.via,
        "delegates": args.delegates,
        "users": args.users,
        "import_exit_code": import_code,
        "import_s": round(import_s, 1),
        "import_rows_per_s": round(args.delegates / import_s, 1),
        "imported": imported,
        "import_summary": summary_line,
        "baseline_replies": base["replies"],
        "baseline_p50_ms": base["p50_ms"],
        "baseline_p99_ms": base["p99_ms"],
        "import_replies": load["replies"],
        "import_p50_ms": load["p50_ms"],
        "import_p99_ms": load["p99_ms"],
        "import_max_ms": load["max_ms"],
        "p99_ratio_to_baseline": ratio,
        "missing_replies": base["missing"] + load["missing"],
        "database_locked": locked,
        "lost_writes": lost_locale + lost_items,
        "outbox_sent": states.get("sent", 0),
        "outbox_owed": len(owed),
        "duplicates": duplicates,
        "error_lines": errors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--via",
        choices=("cli", "chat"),
        default="cli",
        help="import with `matchmaker import-delegates`, or send the file in chat",
    )
    parser.add_argument(
        "--delegates",
        type=int,
        default=None,
        help="rows to import (default 30,000 by CLI, 60,000 in chat)",
    )
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--think-s", type=float, default=4.0)
    parser.add_argument("--baseline-s", type=float, default=30.0)
    parser.add_argument("--keep", type=Path, help="keep the files in this directory")
    args = parser.parse_args(argv)
    if args.delegates is None:
        args.delegates = 60_000 if args.via == "chat" else 30_000
    with tempfile.TemporaryDirectory(prefix="import-load-") as temporary:
        work = args.keep or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        result = asyncio.run(measure(args, work))
    ok = (
        result["import_exit_code"] == 0
        and result["imported"] == args.delegates
        and result["import_p99_ms"] is not None
        and result["import_p99_ms"] <= TARGET_P99_MS
        and result["database_locked"] == 0
        and result["lost_writes"] == 0
        and result["duplicates"] == 0
        and result["missing_replies"] == 0
    )
    result["ok"] = ok
    for key in ("baseline_p99_ms", "import_p99_ms", "import_s", "database_locked"):
        print(f"{key}: {result[key]}", file=sys.stderr)
    print(json.dumps(result, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
