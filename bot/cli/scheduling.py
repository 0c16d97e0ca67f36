"""The wishes and auto-scheduling subcommands of `matchmaker`: import-wishes, auto-schedule."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

from bot.cli.common import Commands, database_options, say, settings_of, write_out
from bot.config import Settings
from bot.services import open_services


def _out(text: str) -> None:
    write_out(text + "\n", None)


async def _import(settings: Settings, data: bytes) -> tuple[Any, Any]:
    from bot.domain.autoschedule import parse_wish_csv

    parsed = parse_wish_csv(data)
    if parsed.file_error is not None:
        return parsed, None
    async with open_services(settings) as services:
        return parsed, await services.wishes.import_rows(parsed.rows)


def _import_wishes(args: argparse.Namespace) -> int:
    from bot.cli.organizers import CommandFailed, check_database, read_input

    settings = settings_of(args)
    check_database(settings.database, must_exist=True)
    try:
        data = read_input(args.file)
        parsed, outcome = asyncio.run(_import(settings, data))
    except CommandFailed as error:
        say(f"matchmaker: import failed: {error}")
        return 1
    if outcome is None:
        say(f"matchmaker: import failed: {args.file.name}: {parsed.file_error}")
        return 1
    problems = sorted([*parsed.errors, *outcome.skipped])
    for line, reason in problems:
        _out(f"line {line}: {reason}")
    _out(
        f"{args.file.name}: {outcome.inserted} inserted, {outcome.updated} updated, "
        f"{outcome.unchanged} unchanged, {len(problems)} skipped"
    )
    return 0


async def _auto_schedule(settings: Settings, args: argparse.Namespace) -> tuple[Any, int, Any]:
    async with open_services(settings) as services:
        scheduler = services.scheduler
        plan = await scheduler.plan(
            day=args.day, max_per_delegate=args.max_per_delegate, seconds=args.seconds
        )
        draft = await _draft_rows(services.meetings, plan) if args.out is not None else None
        published = await scheduler.publish(plan) if args.publish else 0
        return plan, published, draft


async def _draft_rows(meetings: Any, plan: Any) -> list[Any]:
    """The schedule as it would be: meetings and proposals already there, and the plan's."""
    from bot.domain.clock import SystemClock
    from bot.domain.meetings import Meeting, MeetingState
    from bot.domain.scheduling import slot_start_from_key
    from bot.formats.schedules import schedule_rows

    schedule = meetings.schedule
    existing: list[Meeting] = await meetings.repo.scheduled()
    taken: dict[dt.datetime, set[str]] = {}
    for meeting in existing:
        taken.setdefault(meeting.slot_start, set()).add(meeting.table or "")
    by_pair = {(c.a, c.b): c for c in plan.pool}
    now = SystemClock().now()
    drafted: list[Meeting] = []
    for n, planned in enumerate(plan.meetings):
        cand = by_pair[(planned.a, planned.b)]
        start = slot_start_from_key(planned.slot)
        held = taken.setdefault(start, set())
        table = next((t for t in schedule.tables if t not in held), None)
        held.add(table or "")
        drafted.append(
            Meeting(
                id=-(n + 1), requester_id=cand.requester, invitee_id=cand.invitee,
                slot_start=start, slot_end=start + schedule.slot_length,
                state=MeetingState.REQUESTED, table=table, note=None, reason=None,
                expires_at=start, replaces_id=None, created_at=now, updated_at=now,
                proposed=True,
            )
        )  # fmt: skip
    everything = existing + drafted
    return schedule_rows(everything, await meetings.repo.parties_of(everything), schedule)


def _run_auto_schedule(args: argparse.Namespace) -> int:
    from bot.cli.organizers import check_database
    from bot.formats.schedules import to_xlsx

    settings = settings_of(args)
    check_database(settings.database, must_exist=True)
    if not settings.schedule.slots:
        say("matchmaker: the schedule has no slots: add a [schedule] table (README)")
        return 2
    if args.out is not None and args.out.suffix.lower() != ".xlsx":
        say("matchmaker: --out must end in .xlsx")
        return 2
    plan, published, draft = asyncio.run(_auto_schedule(settings, args))
    if draft is not None:
        args.out.write_bytes(to_xlsx(draft))
        say(f"draft: {plan.summary.meetings} proposed meeting(s) written to {args.out}")
    if args.format == "json":
        _out(json.dumps(plan.as_json()))
    else:
        s = plan.summary
        _out(
            f"must wishes scheduled: {s.must_scheduled} of {s.wishes_must}; maybe wishes: "
            f"{s.maybe_scheduled} of {s.wishes_maybe}; {s.meetings} new meeting(s); "
            f"{s.delegates_with_none} delegate(s) with wishes and no meeting"
        )
        _out(
            f"objective {plan.objective:g}, bound {plan.bound:g}, gap {plan.gap:.2%}, "
            f"{plan.seconds:.1f} s (greedy alone: {plan.greedy_objective:g})"
        )
    if args.publish:
        say(f"published: {published} proposal(s), each pair is asked to confirm in chat")
    return 0


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-24") from None


def _count(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 1000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to 1000")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 1 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"{value:g} is not between 1 and 3600 seconds")
    return value


def add_commands(commands: Commands) -> None:
    """Add import-wishes and auto-schedule to the `matchmaker` parser."""
    wishes = commands.add_parser(
        "import-wishes",
        parents=[database_options()],
        help="import whom each delegate must meet, would like to meet or not (CSV)",
        description="UTF-8 CSV with the header delegate,counterpart,priority; delegates are "
        "named by external_id or tg:<telegram user id>; priority is must, maybe or no. Bad "
        "rows are skipped and reported by line; the same file twice changes nothing.",
    )
    wishes.add_argument("file", type=Path, metavar="FILE.csv", help="the wishes file")
    wishes.set_defaults(handler=_import_wishes)

    auto = commands.add_parser(
        "auto-schedule",
        parents=[database_options()],
        help="fill free slots with meetings that satisfy as many wishes as possible",
        description="Plans with OR-Tools CP-SAT (time-limited, warm-started from a greedy "
        "plan) and prints the objective, the proven bound and the gap. Without --publish it "
        "only writes the draft; with it each proposed meeting is sent to its pair to confirm.",
    )
    auto.add_argument("--day", type=_day, metavar="D", help="only this day (YYYY-MM-DD)")
    auto.add_argument(
        "--max-per-delegate", type=_count, metavar="N", help="meetings per delegate at most"
    )
    auto.add_argument(
        "--seconds", type=_seconds, default=30.0, metavar="S", help="solver time limit (30)"
    )
    auto.add_argument("--out", type=Path, metavar="DRAFT.xlsx", help="write the draft schedule")
    auto.add_argument("--format", choices=("text", "json"), default="text")
    auto.add_argument(
        "--publish", action="store_true", help="send the proposals to the pairs to confirm"
    )
    auto.set_defaults(handler=_run_auto_schedule)
