"""The auto-scheduler's rules on small instances whose optimum is known by brute force."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import pytest

from bot.domain.autoschedule import (
    WEIGHT_COVER,
    WEIGHT_MAYBE,
    WEIGHT_MUST,
    Candidate,
    Instance,
    Person,
    Planned,
    Priority,
    Wish,
    candidates,
    fair_greedy,
    greedy,
    objective,
    pack,
    parse_wish_csv,
    share_out,
    summarize,
    violations,
)
from bot.services.schedule_solver import solve

MUST, MAYBE, NO = Priority.MUST, Priority.MAYBE, Priority.NO


def person(pid: int, *, org: str | None = None, langs: str = "en", busy: Sequence[int] = (),
           booked: int = 0) -> Person:  # fmt: skip
    return Person(pid, org or f"Org {pid}", frozenset(langs.split()), frozenset(busy), booked)


def instance(
    people: Sequence[Person],
    wishes: Sequence[tuple[int, int, Priority]],
    *,
    slots: int = 2,
    tables: int = 5,
    max_per: int = 10,
    interpreters: dict[str, int] | None = None,
    excluded: Sequence[tuple[int, int]] = (),
) -> Instance:
    return Instance(
        people={p.id: p for p in people},
        slots=tuple(range(slots)),
        tables_free={s: tables for s in range(slots)},
        wishes=tuple(Wish(a, b, p) for a, b, p in wishes),
        max_per_delegate=max_per,
        interpreters=interpreters or {},
        excluded=frozenset(frozenset(pair) for pair in excluded),
    )


def brute_force(inst: Instance, pool: Sequence[Candidate]) -> int:
    """The best objective over every valid plan, with the solver's floors: never fewer must
    and maybe wishes than the greedy plan."""
    warm = greedy(inst, pool)
    by_pair = {(c.a, c.b): c for c in pool}
    floor_must = sum(by_pair[(m.a, m.b)].musts for m in warm)
    floor_maybe = sum(by_pair[(m.a, m.b)].maybes for m in warm)
    options = [
        [None] + [Planned(s, c.a, c.b, mode) for s in c.slots for mode in c.modes] for c in pool
    ]
    best = -1
    for choice in itertools.product(*options):
        plan = [m for m in choice if m is not None]
        if violations(inst, pool, plan):
            continue
        if sum(by_pair[(m.a, m.b)].musts for m in plan) < floor_must:
            continue
        if sum(by_pair[(m.a, m.b)].maybes for m in plan) < floor_maybe:
            continue
        best = max(best, objective(inst, pool, plan))
    return best


def solved(inst: Instance) -> tuple[list[Candidate], list[Planned], int]:
    pool = candidates(inst)
    solution = solve(inst, pool, seconds=5)
    plan = list(solution.plan)
    assert violations(inst, pool, plan) == []
    assert solution.objective == objective(inst, pool, plan)
    assert solution.objective == brute_force(inst, pool)
    assert solution.gap == pytest.approx(0.0)
    return pool, plan, solution.objective


def pairs(plan: Sequence[Planned]) -> set[tuple[int, int]]:
    return {(m.a, m.b) for m in plan}


def test_a_person_holds_one_meeting_per_slot() -> None:
    inst = instance([person(1), person(2), person(3)], [(1, 2, MUST), (1, 3, MUST)], slots=1)
    _, plan, _ = solved(inst)
    assert len(plan) == 1


def test_each_slot_holds_as_many_meetings_as_it_has_free_tables() -> None:
    people = [person(n) for n in range(1, 7)]
    inst = instance(people, [(1, 2, MUST), (3, 4, MUST), (5, 6, MUST)], slots=1, tables=2)
    _, plan, _ = solved(inst)
    assert len(plan) == 2


def test_busy_and_blocked_slots_are_left_alone() -> None:
    inst = instance([person(1, busy=[0]), person(2)], [(1, 2, MUST)], slots=2)
    _, plan, _ = solved(inst)
    assert plan == [Planned(1, 1, 2)]
    nothing = instance([person(1, busy=[0]), person(2, busy=[1])], [(1, 2, MUST)], slots=2)
    assert candidates(nothing) == []


def test_the_per_delegate_maximum_counts_meetings_already_booked() -> None:
    people = [person(1, booked=1), person(2), person(3), person(4)]
    inst = instance(people, [(1, 2, MUST), (1, 3, MUST), (1, 4, MUST)], slots=3, max_per=2)
    _, plan, _ = solved(inst)
    assert len(plan) == 1


def test_no_shared_language_needs_an_interpreter_free_in_that_slot() -> None:
    people = [person(1, langs="ru"), person(2, langs="en"), person(3, langs="ru"),
              person(4, langs="zh"), person(5, langs="ar"), person(6, langs="ko")]  # fmt: skip
    wishes = [(1, 2, MUST), (3, 4, MUST), (5, 6, MUST)]
    inst = instance(people, wishes, slots=1, interpreters={"ru": 1})
    pool, plan, _ = solved(inst)
    # Arabic and Korean have no interpreter at all; the one Russian interpreter serves one pair.
    assert {(c.a, c.b) for c in pool} == {(1, 2), (3, 4)}
    assert len(plan) == 1 and plan[0].interpreter == "ru"
    two_slots = instance(people, wishes, slots=2, interpreters={"ru": 1})
    _, plan, _ = solved(two_slots)
    assert pairs(plan) == {(1, 2), (3, 4)} and {m.slot for m in plan} == {0, 1}


def test_colleagues_and_not_interested_are_never_paired() -> None:
    people = [person(1, org="ACME Corp"), person(2, org="acme  corp"), person(3), person(4)]
    wishes = [(1, 2, MUST), (3, 4, MUST), (4, 3, NO), (1, 3, MAYBE)]
    inst = instance(people, wishes)
    pool, plan, _ = solved(inst)
    assert {(c.a, c.b) for c in pool} == {(1, 3)}
    assert pairs(plan) == {(1, 3)}


def test_pairs_already_meeting_or_who_declined_are_not_proposed_again() -> None:
    inst = instance([person(1), person(2), person(3)], [(1, 2, MUST), (1, 3, MUST)],
                    excluded=[(2, 1)])  # fmt: skip
    _, plan, _ = solved(inst)
    assert pairs(plan) == {(1, 3)}


def test_must_outweighs_maybe_and_mutual_wishes_come_first() -> None:
    people = [person(1), person(2), person(3), person(4), person(5)]
    inst = instance(people, [(1, 2, MUST), (1, 3, MAYBE)], slots=1)
    _, plan, _ = solved(inst)
    assert pairs(plan) == {(1, 2)}
    # One table: the mutual must beats a one-sided must.
    mutual = instance(people, [(4, 5, MUST), (5, 4, MUST), (2, 3, MUST)], slots=1, tables=1)
    pool, plan, value = solved(mutual)
    assert pairs(plan) == {(4, 5)}
    assert value == 2 * WEIGHT_MUST + 2 * WEIGHT_COVER
    assert pool[0].requester == 4 and pool[0].invitee == 5


def test_fair_share_gives_a_first_meeting_before_another_maybe() -> None:
    # Popular 1 is wished (maybe) by 2, 3 and 4; 5 wishes to meet 2 (maybe). Two slots, two
    # tables, at most two meetings for delegate 1: 5 gets a meeting too.
    people = [person(n) for n in range(1, 6)]
    wishes = [(2, 1, MAYBE), (3, 1, MAYBE), (4, 1, MAYBE), (5, 2, MAYBE), (2, 3, MAYBE)]
    inst = instance(people, wishes, slots=2, tables=2, max_per=2)
    _, plan, _ = solved(inst)
    met = {p for m in plan for p in (m.a, m.b)}
    assert met == {1, 2, 3, 4, 5}


def test_the_solver_matches_brute_force_on_random_small_instances() -> None:
    rng = random.Random(19)
    for _ in range(12):
        people = [
            person(n, org=f"O{rng.randint(1, 4)}", langs=rng.choice(["en", "ru", "zh", "en ru"]),
                   busy=[s for s in range(3) if rng.random() < 0.2])
            for n in range(1, 6)
        ]  # fmt: skip
        wishes = {}
        for _ in range(rng.randint(3, 6)):
            a, b = rng.sample(range(1, 6), 2)
            wishes[(a, b)] = rng.choice([MUST, MAYBE, MAYBE, NO])
        inst = instance(
            people, [(a, b, p) for (a, b), p in wishes.items()], slots=rng.randint(1, 3),
            tables=rng.randint(1, 2), max_per=rng.randint(1, 2), interpreters={"ru": 1},
        )  # fmt: skip
        pool = candidates(inst)
        if sum(len(c.slots) * len(c.modes) + 1 for c in pool) > 40:
            continue
        _, plan, value = solved(inst)
        assert value >= objective(inst, pool, greedy(inst, pool))


def test_greedy_places_heaviest_first_in_the_earliest_slot() -> None:
    inst = instance([person(1), person(2), person(3)], [(1, 2, MAYBE), (1, 3, MUST)], slots=2)
    pool = candidates(inst)
    assert greedy(inst, pool) == [Planned(0, 1, 3), Planned(1, 1, 2)]
    assert objective(inst, pool, greedy(inst, pool)) == (
        WEIGHT_MUST + WEIGHT_MAYBE + 3 * WEIGHT_COVER
    )


def test_summary_counts_wishes_met_by_the_plan_and_by_meetings_already_booked() -> None:
    wishes = [Wish(1, 2, MUST), Wish(2, 1, MAYBE), Wish(3, 4, MUST), Wish(5, 6, NO),
              Wish(7, 8, MAYBE)]  # fmt: skip
    summary = summarize(wishes, [Planned(0, 1, 2)], meeting_already=[frozenset((3, 4))],
                        booked_people=[3, 4])  # fmt: skip
    assert (summary.wishes_must, summary.must_scheduled) == (2, 2)
    assert (summary.wishes_maybe, summary.maybe_scheduled) == (2, 1)
    assert summary.meetings == 1
    assert summary.delegates_with_none == 1  # 7; 5 only said "no"


def test_wish_file_rows_and_their_errors() -> None:
    data = (
        "\ufeffPriority,delegate,counterpart,extra\n"
        "must,A1,A2,x\n"
        "MAYBE,tg:42,A1,\n"
        "no,A3,A3,\n"
        "often,A1,A4,\n"
        ",A1,,\n"
        "maybe,A1,A2,\n"
        "\n"
    ).encode()
    parsed = parse_wish_csv(data)
    assert parsed.file_error is None
    assert [(r.line, r.delegate, r.counterpart, r.priority) for r in parsed.rows] == [
        (2, "A1", "A2", MUST),
        (3, "tg:42", "A1", MAYBE),
    ]
    assert [line for line, _ in parsed.errors] == [4, 5, 6, 7]
    assert "line 2" in parsed.errors[-1][1]
    assert parse_wish_csv(b"delegate,priority\nA1,must\n").file_error is not None
    assert parse_wish_csv(b"\xff\xfe\x00").file_error is not None
    assert parse_wish_csv(b"  \n").file_error is not None


def test_fair_greedy_and_packing_give_valid_plans_that_cover_more_people() -> None:
    # Delegate 1 gets both tables either way; the fair start ranks those with fewest options.
    people = [person(n) for n in range(1, 6)]
    wishes = [(1, 2, MAYBE), (2, 1, MAYBE), (1, 3, MAYBE), (3, 1, MAYBE), (4, 1, MAYBE),
              (4, 5, MAYBE)]  # fmt: skip
    inst = instance(people, wishes, slots=2, tables=1)
    pool = candidates(inst)
    plain, fair = greedy(inst, pool), fair_greedy(inst, pool)
    assert violations(inst, pool, fair) == [] and violations(inst, pool, plain) == []
    covered = {p for m in fair for p in (m.a, m.b)}
    assert len(covered) >= len({p for m in plain for p in (m.a, m.b)})
    assert objective(inst, pool, fair) >= objective(inst, pool, plain) - WEIGHT_MAYBE
    packed = pack(inst, [c for c in pool if (c.a, c.b) in pairs(fair)])
    assert violations(inst, pool, packed) == [] and pairs(packed) == pairs(fair)


def test_share_out_gives_a_first_meeting_without_losing_a_wish() -> None:
    # One table per slot, three slots, all held by 1, 2 and 5, who each have two meetings:
    # 3 and 4, who wish to meet, take one of those tables; every wish count stays.
    people = [person(n) for n in range(1, 6)]
    wishes = [(1, 2, MAYBE), (2, 5, MAYBE), (1, 5, MAYBE), (3, 4, MAYBE)]
    inst = instance(people, wishes, slots=3, tables=1)
    pool = candidates(inst)
    plan = [Planned(0, 1, 2), Planned(1, 2, 5), Planned(2, 1, 5)]
    assert violations(inst, pool, plan) == []
    shared = share_out(inst, pool, plan)
    assert violations(inst, pool, shared) == []
    assert (
        summarize(inst.wishes, shared).maybe_scheduled
        >= summarize(inst.wishes, plan).maybe_scheduled
    )
    assert {p for m in shared for p in (m.a, m.b)} >= {3, 4}
    assert objective(inst, pool, shared) > objective(inst, pool, plan)
