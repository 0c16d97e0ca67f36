"""Wishes and the rules of the auto-scheduler, solver-free.

A delegate marks counterparts *must meet*, *would like to* or *not interested*. The scheduler
turns the wishes into candidate pairs (both live, not the same organization, nobody said "no",
a shared language or an interpreter language), each with the slots both are free in, and
chooses meetings that satisfy as many wishes as possible: must ≫ maybe, mutual wishes counting
both sides, plus a bonus for every delegate who gets at least one meeting (the fair share).

This module holds the instance, the candidates, the weights, the greedy plan (the baseline and
the solver's warm start) and the checks of any plan; bot/services/schedule_solver.py builds the
same model for CP-SAT. Keeping the solver out of the domain keeps these rules importable, testable
by brute force and free of a native dependency.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

# Objective weights: one must wish outweighs any number of maybes a delegate could get instead
# in the same slot; the first meeting of a delegate who has none outweighs one more must wish
# for somebody else (the fair share: nobody gets nothing while another gets many).
WEIGHT_MUST = 1000
WEIGHT_MAYBE = 100
WEIGHT_COVER = 1200


class Priority(StrEnum):
    """How much a delegate wants to meet a counterpart."""

    MUST = "must"
    MAYBE = "maybe"
    NO = "no"


WISH_WEIGHT = {Priority.MUST: WEIGHT_MUST, Priority.MAYBE: WEIGHT_MAYBE, Priority.NO: 0}


@dataclass(frozen=True)
class Wish:
    """One delegate's wish about one counterpart."""

    delegate: int
    counterpart: int
    priority: Priority


@dataclass(frozen=True)
class Person:
    """A delegate as the scheduler sees them."""

    id: int
    organization: str | None = None
    languages: frozenset[str] = frozenset()
    busy: frozenset[int] = frozenset()  # slot keys already taken (meetings, blocks, proposals)
    booked: int = 0  # meetings already in the planning window; they count toward the maximum


@dataclass(frozen=True)
class Instance:
    """Everything the scheduler needs: people, free slots, tables, interpreters, wishes."""

    people: Mapping[int, Person]
    slots: tuple[int, ...]  # slot keys, in time order
    tables_free: Mapping[int, int]  # slot key -> tables nobody holds
    wishes: tuple[Wish, ...]
    max_per_delegate: int
    interpreters: Mapping[str, int] = field(default_factory=dict)  # language -> per slot
    interpreters_used: Mapping[tuple[int, str], int] = field(default_factory=dict)
    excluded: frozenset[frozenset[int]] = frozenset()  # pairs already meeting or who declined

    def interpreters_free(self, slot: int, language: str) -> int:
        """Interpreters of a language still free in a slot."""
        return self.interpreters.get(language, 0) - self.interpreters_used.get((slot, language), 0)


@dataclass(frozen=True)
class Candidate:
    """A pair that may meet: its weight, the wishes it satisfies, its slots and language modes.

    A mode is None when the two share a language, else the language of the interpreter needed.
    """

    a: int
    b: int
    weight: int
    musts: int
    maybes: int
    requester: int  # the one who wished more (the other confirms the proposal)
    slots: tuple[int, ...]
    modes: tuple[str | None, ...]

    @property
    def invitee(self) -> int:
        """The one who confirms a proposal of this pair."""
        return self.b if self.requester == self.a else self.a


@dataclass(frozen=True, order=True)
class Planned:
    """A meeting the scheduler chose: a candidate pair in a slot, with its language mode."""

    slot: int
    a: int
    b: int
    interpreter: str | None = None


def same_organization(one: Person, other: Person) -> bool:
    """Whether two delegates work for the same organization (case and spacing ignored)."""
    mine = " ".join((one.organization or "").casefold().split())
    theirs = " ".join((other.organization or "").casefold().split())
    return bool(mine) and mine == theirs


def language_modes(
    one: Person, other: Person, interpreters: Mapping[str, int]
) -> tuple[str | None, ...]:
    """How two delegates can talk: (None,) with a shared language, else interpreter languages."""
    if one.languages & other.languages:
        return (None,)
    return tuple(
        sorted(lang for lang in one.languages | other.languages if interpreters.get(lang, 0) > 0)
    )


def candidates(instance: Instance) -> list[Candidate]:
    """Every pair some wish asks for that may meet at all, heaviest first."""
    by_pair: dict[tuple[int, int], dict[int, Priority]] = defaultdict(dict)
    for wish in instance.wishes:
        if wish.delegate == wish.counterpart:
            continue
        pair = (min(wish.delegate, wish.counterpart), max(wish.delegate, wish.counterpart))
        by_pair[pair][wish.delegate] = wish.priority
    found: list[Candidate] = []
    for (a, b), said in by_pair.items():
        if Priority.NO in said.values() or frozenset((a, b)) in instance.excluded:
            continue
        one, other = instance.people.get(a), instance.people.get(b)
        if one is None or other is None or same_organization(one, other):
            continue
        modes = language_modes(one, other, instance.interpreters)
        slots = tuple(
            s
            for s in instance.slots
            if s not in one.busy
            and s not in other.busy
            and instance.tables_free.get(s, 0) > 0
            and any(m is None or instance.interpreters_free(s, m) > 0 for m in modes)
        )
        if not modes or not slots:
            continue
        weight_a = WISH_WEIGHT[said.get(a, Priority.NO)]
        weight_b = WISH_WEIGHT[said.get(b, Priority.NO)]
        found.append(
            Candidate(
                a=a,
                b=b,
                weight=weight_a + weight_b,
                musts=sum(1 for p in said.values() if p is Priority.MUST),
                maybes=sum(1 for p in said.values() if p is Priority.MAYBE),
                requester=a if weight_a >= weight_b else b,
                slots=slots,
                modes=modes,
            )
        )
    found.sort(key=lambda c: (-c.weight, len(c.slots), c.a, c.b))
    return found


def capacity(instance: Instance, person: int) -> int:
    """How many more meetings a delegate may get in this run."""
    known = instance.people.get(person)
    return max(0, instance.max_per_delegate - (known.booked if known else 0))


def coverable(instance: Instance, pool: Sequence[Candidate]) -> set[int]:
    """Delegates who have no meeting yet and could get one: each earns the fair-share bonus."""
    people = {p for c in pool for p in (c.a, c.b)}
    return {p for p in people if instance.people[p].booked == 0 and capacity(instance, p) > 0}


def objective(instance: Instance, pool: Sequence[Candidate], plan: Iterable[Planned]) -> int:
    """The value the scheduler maximizes: wishes met plus the fair-share bonus."""
    by_pair = {(c.a, c.b): c for c in pool}
    total = 0
    met: set[int] = set()
    for meeting in plan:
        total += by_pair[(meeting.a, meeting.b)].weight
        met |= {meeting.a, meeting.b}
    return total + WEIGHT_COVER * len(met & coverable(instance, pool))


def greedy(
    instance: Instance, pool: Sequence[Candidate], *, start: Sequence[Planned] = ()
) -> list[Planned]:
    """Heaviest pairs first, each in the earliest slot that still fits: the baseline plan.

    Ties go to the pair with fewer usable slots, so scarce pairs are placed before flexible ones.
    `start` is a valid plan to complete: its meetings stay and the rest fills what is left.
    """
    count: dict[int, int] = defaultdict(int)
    taken: set[tuple[int, int]] = set()  # (person, slot)
    tables: dict[int, int] = dict(instance.tables_free)
    interpreters: dict[tuple[int, str], int] = {}
    plan: list[Planned] = list(start)
    placed = {(m.a, m.b) for m in start}
    for m in start:
        taken |= {(m.a, m.slot), (m.b, m.slot)}
        count[m.a] += 1
        count[m.b] += 1
        tables[m.slot] -= 1
        if m.interpreter is not None:
            used = (m.slot, m.interpreter)
            interpreters[used] = interpreters.get(used, 0) + 1
    for cand in sorted(pool, key=lambda c: (-c.weight, len(c.slots), c.a, c.b)):
        if (cand.a, cand.b) in placed:
            continue
        if count[cand.a] >= capacity(instance, cand.a):
            continue
        if count[cand.b] >= capacity(instance, cand.b):
            continue
        for slot in cand.slots:
            if (cand.a, slot) in taken or (cand.b, slot) in taken or tables[slot] <= 0:
                continue
            fits, mode = _free_mode(instance, cand, slot, interpreters)
            if not fits:
                continue
            plan.append(Planned(slot, cand.a, cand.b, mode))
            taken |= {(cand.a, slot), (cand.b, slot)}
            count[cand.a] += 1
            count[cand.b] += 1
            tables[slot] -= 1
            if mode is not None:
                interpreters[(slot, mode)] = interpreters.get((slot, mode), 0) + 1
            break
    return sorted(plan)


def pack(instance: Instance, chosen: Sequence[Candidate]) -> list[Planned]:
    """Put already chosen pairs in slots: must wishes first, among them the pairs with the
    fewest usable slots first, each in the slot with the most tables still free (then the
    earliest), so that a full room still fits."""
    taken: set[tuple[int, int]] = set()
    tables: dict[int, int] = dict(instance.tables_free)
    interpreters: dict[tuple[int, str], int] = {}
    rank = {slot: n for n, slot in enumerate(instance.slots)}
    plan: list[Planned] = []
    for cand in sorted(chosen, key=lambda c: (-c.musts, len(c.slots), -c.weight, c.a, c.b)):
        best: tuple[int, int, str | None] | None = None
        for slot in cand.slots:
            if (cand.a, slot) in taken or (cand.b, slot) in taken or tables[slot] <= 0:
                continue
            fits, mode = _free_mode(instance, cand, slot, interpreters)
            if fits and (
                best is None or (-tables[slot], rank[slot]) < (-tables[best[0]], rank[best[0]])
            ):
                best = (slot, rank[slot], mode)
        if best is None:
            continue
        slot, _, mode = best
        plan.append(Planned(slot, cand.a, cand.b, mode))
        taken |= {(cand.a, slot), (cand.b, slot)}
        tables[slot] -= 1
        if mode is not None:
            interpreters[(slot, mode)] = interpreters.get((slot, mode), 0) + 1
    return sorted(plan)


def share_out(
    instance: Instance, pool: Sequence[Candidate], plan: Sequence[Planned]
) -> list[Planned]:
    """Give delegates without a meeting one, never losing a must or maybe wish: each takes a
    free table, or the table of a meeting that meets no more wishes of either kind and whose
    two people keep another meeting. Every move adds a delegate with a meeting."""
    current = sorted(plan)
    by_pair = {(c.a, c.b): c for c in pool}
    options: dict[int, list[Candidate]] = defaultdict(list)
    for cand in pool:
        options[cand.a].append(cand)
        options[cand.b].append(cand)
    count: dict[int, int] = defaultdict(int)
    busy: set[tuple[int, int]] = set()
    in_slot: dict[int, list[Planned]] = defaultdict(list)
    for m in current:
        count[m.a] += 1
        count[m.b] += 1
        busy |= {(m.a, m.slot), (m.b, m.slot)}
        in_slot[m.slot].append(m)
    covered = coverable(instance, pool)
    for person in sorted(covered, key=lambda p: (len(options[p]), p)):
        if count[person]:
            continue
        for cand in sorted(options[person], key=lambda c: (-c.weight, len(c.slots))):
            other = cand.b if cand.a == person else cand.a
            if count[other] >= capacity(instance, other) or capacity(instance, person) < 1:
                continue
            placed = None
            for slot in cand.slots:
                if (cand.a, slot) in busy or (cand.b, slot) in busy:
                    continue
                used = sum(1 for m in in_slot[slot])
                victims: list[Planned | None] = []
                if used < instance.tables_free.get(slot, 0):
                    victims.append(None)
                victims += [
                    m for m in in_slot[slot]
                    if by_pair[(m.a, m.b)].musts <= cand.musts
                    and by_pair[(m.a, m.b)].maybes <= cand.maybes
                    and count[m.a] > 1 and count[m.b] > 1
                ]  # fmt: skip
                for victim in victims:
                    mode = _mode_after(instance, cand, slot, in_slot[slot], victim)
                    if mode is not False:
                        placed = (slot, victim, mode)
                        break
                if placed:
                    break
            if placed is None:
                continue
            slot, victim, mode = placed
            if victim is not None:
                current.remove(victim)
                in_slot[slot].remove(victim)
                count[victim.a] -= 1
                count[victim.b] -= 1
                busy -= {(victim.a, slot), (victim.b, slot)}
            new = Planned(slot, cand.a, cand.b, None if mode is True else str(mode))
            current.append(new)
            in_slot[slot].append(new)
            count[cand.a] += 1
            count[cand.b] += 1
            busy |= {(cand.a, slot), (cand.b, slot)}
            break
    return sorted(current)


def _mode_after(
    instance: Instance,
    cand: Candidate,
    slot: int,
    meetings: Sequence[Planned],
    removed: Planned | None,
) -> str | bool:
    """The language mode a pair could use in a slot once `removed` left it; False if none."""
    for mode in cand.modes:
        if mode is None:
            return True
        used = sum(1 for m in meetings if m.interpreter == mode and m is not removed)
        if instance.interpreters_free(slot, mode) - used > 0:
            return mode
    return False


def fair_greedy(instance: Instance, pool: Sequence[Candidate]) -> list[Planned]:
    """Must pairs first, then a first meeting for each delegate who has none (those with the
    fewest options first), then everything else heaviest first: a fairer start for the solver."""
    plan = greedy(instance, [c for c in pool if c.musts])
    options: dict[int, list[Candidate]] = defaultdict(list)
    for cand in pool:
        options[cand.a].append(cand)
        options[cand.b].append(cand)
    met = {p for m in plan for p in (m.a, m.b)}
    for person in sorted(options, key=lambda p: (len(options[p]), p)):
        if person in met:
            continue
        # Prefer a counterpart who has nothing yet either: one table covers two people.
        ranked = sorted(options[person], key=lambda c: (
            (c.b if c.a == person else c.a) in met, -c.weight, len(c.slots)))  # fmt: skip
        for cand in ranked:
            longer = greedy(instance, [cand], start=plan)
            if len(longer) > len(plan):
                plan = longer
                met |= {cand.a, cand.b}
                break
    return greedy(instance, pool, start=plan)


def _free_mode(
    instance: Instance,
    cand: Candidate,
    slot: int,
    used: Mapping[tuple[int, str], int],
) -> tuple[bool, str | None]:
    for mode in cand.modes:
        if mode is None:
            return True, None
        if instance.interpreters_free(slot, mode) - used.get((slot, mode), 0) > 0:
            return True, mode
    return False, None


def violations(
    instance: Instance, pool: Sequence[Candidate], plan: Sequence[Planned]
) -> list[str]:
    """Every rule a plan breaks (empty for a valid plan): the scheduler's own audit."""
    problems: list[str] = []
    by_pair = {(c.a, c.b): c for c in pool}
    seen_pairs: set[tuple[int, int]] = set()
    person_slot: set[tuple[int, int]] = set()
    count: dict[int, int] = defaultdict(int)
    tables: dict[int, int] = defaultdict(int)
    interpreters: dict[tuple[int, str], int] = defaultdict(int)
    for meeting in plan:
        pair = (meeting.a, meeting.b)
        cand = by_pair.get(pair)
        if cand is None:
            problems.append(f"{pair} is not a candidate pair")
            continue
        if pair in seen_pairs:
            problems.append(f"{pair} meets twice")
        seen_pairs.add(pair)
        if meeting.slot not in cand.slots:
            problems.append(f"{pair} cannot meet in slot {meeting.slot}")
        if meeting.interpreter not in cand.modes:
            problems.append(f"{pair} cannot talk with mode {meeting.interpreter}")
        for person in pair:
            if (person, meeting.slot) in person_slot:
                problems.append(f"delegate {person} has two meetings in slot {meeting.slot}")
            person_slot.add((person, meeting.slot))
            count[person] += 1
        tables[meeting.slot] += 1
        if meeting.interpreter is not None:
            interpreters[(meeting.slot, meeting.interpreter)] += 1
    for person, n in count.items():
        if n > capacity(instance, person):
            problems.append(f"delegate {person} gets {n} meetings, more than allowed")
    for slot, n in tables.items():
        if n > instance.tables_free.get(slot, 0):
            problems.append(f"slot {slot} needs {n} tables")
    for (slot, lang), n in interpreters.items():
        if n > instance.interpreters_free(slot, lang):
            problems.append(f"slot {slot} needs {n} {lang} interpreters")
    return problems


@dataclass(frozen=True)
class Summary:
    """The figures `auto-schedule` prints as JSON."""

    wishes_must: int
    must_scheduled: int
    wishes_maybe: int
    maybe_scheduled: int
    meetings: int
    delegates_with_none: int


def summarize(
    wishes: Iterable[Wish],
    plan: Iterable[Planned],
    *,
    meeting_already: Iterable[frozenset[int]] = (),
    booked_people: Iterable[int] = (),
) -> Summary:
    """Count the wishes a plan (with the meetings that already exist) satisfies.

    `delegates_with_none` counts delegates with at least one wish who end with no meeting.
    """
    planned = list(plan)
    pairs = {frozenset((m.a, m.b)) for m in planned} | set(meeting_already)
    people = {p for m in planned for p in (m.a, m.b)} | set(booked_people)
    musts = maybes = must_met = maybe_met = 0
    wishers: set[int] = set()
    for wish in wishes:
        if wish.priority is Priority.NO:
            continue
        wishers.add(wish.delegate)
        hit = frozenset((wish.delegate, wish.counterpart)) in pairs
        if wish.priority is Priority.MUST:
            musts += 1
            must_met += hit
        else:
            maybes += 1
            maybe_met += hit
    return Summary(
        wishes_must=musts,
        must_scheduled=must_met,
        wishes_maybe=maybes,
        maybe_scheduled=maybe_met,
        meetings=len(planned),
        delegates_with_none=len(wishers - people),
    )


# --- the organizers' wish file -----------------------------------------------------------------

WISH_COLUMNS = ("delegate", "counterpart", "priority")


@dataclass(frozen=True)
class WishRow:
    """One valid row of a wish file; delegates are named by external_id or tg:<id>."""

    line: int
    delegate: str
    counterpart: str
    priority: Priority


@dataclass(frozen=True)
class WishFile:
    """A parsed wish file: its rows, the lines refused and why, or why nothing could be read."""

    rows: tuple[WishRow, ...] = ()
    errors: tuple[tuple[int, str], ...] = ()
    file_error: str | None = None


def parse_wish_csv(data: bytes) -> WishFile:
    """Read `delegate,counterpart,priority` (UTF-8, header row, columns in any order)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return WishFile(file_error=f"not UTF-8 text (undecodable byte at position {exc.start})")
    if not text.strip():
        return WishFile(file_error="the file is empty")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except csv.Error as exc:
        return WishFile(file_error=f"the header row cannot be read ({exc})")
    missing = [c for c in WISH_COLUMNS if c not in header]
    if missing:
        return WishFile(file_error=f"required columns are missing: {', '.join(missing)}")
    at = {c: header.index(c) for c in WISH_COLUMNS}
    rows: list[WishRow] = []
    errors: list[tuple[int, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        values = {c: cells[i].strip() if i < len(cells) else "" for c, i in at.items()}
        if not values["delegate"] or not values["counterpart"]:
            errors.append((line, "delegate and counterpart are required"))
            continue
        if values["delegate"] == values["counterpart"]:
            errors.append((line, "a delegate cannot wish to meet themselves"))
            continue
        try:
            priority = Priority(values["priority"].lower())
        except ValueError:
            errors.append((line, f"priority {values['priority']!r} is not must, maybe or no"))
            continue
        pair = (values["delegate"], values["counterpart"])
        if pair in seen:
            errors.append((line, f"the same pair is already on line {seen[pair]}"))
            continue
        seen[pair] = line
        rows.append(WishRow(line, values["delegate"], values["counterpart"], priority))
    return WishFile(tuple(rows), tuple(errors))
