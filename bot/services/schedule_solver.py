"""The auto-scheduler's models for OR-Tools CP-SAT, warm-started from greedy plans.

Stage one chooses which pairs meet (one boolean per candidate pair) under every rule that names
no slot: per-person maxima and free slots, tables and interpreters in total, and never fewer
must or maybe wishes than the greedy plan; its proven bound bounds the whole problem. Stage two
seats the chosen pairs (one boolean per pair, slot and language mode: one meeting per person
and slot, each slot's free tables and interpreters). What is left is filled greedily, and
delegates still without a meeting get one where no wish is lost (domain.share_out). The
objective is the domain's: wishes met (must ≫ maybe, mutual ones counting both sides) plus a
bonus for each delegate who gets a first meeting. The greedy plan is kept whenever it is better.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.domain.autoschedule import (
    WEIGHT_COVER,
    Candidate,
    Instance,
    Planned,
    capacity,
    coverable,
    fair_greedy,
    greedy,
    objective,
    pack,
    share_out,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Solution:
    """A plan with the figures of how good it is proven to be."""

    plan: tuple[Planned, ...]
    objective: int
    bound: float
    seconds: float
    status: str
    greedy_objective: int

    @property
    def gap(self) -> float:
        """(bound - objective) / bound; 0 when proven optimal."""
        if self.bound <= 0:
            return 0.0
        return max(0.0, (self.bound - self.objective) / self.bound)


def solve(
    instance: Instance,
    pool: Sequence[Candidate],
    *,
    seconds: float = 30.0,
    workers: int = 8,
    seed: int = 0,
) -> Solution:
    """Choose the meetings with CP-SAT within `seconds`, starting from the greedy plan.

    Two stages: which pairs meet (a relaxation without slots, whose proven bound is a bound of
    the whole problem), then in which slot each chosen pair meets; what could not be placed,
    and any room left, is filled greedily. The better of that and the greedy plan is returned.
    """
    started = time.monotonic()
    warm = greedy(instance, pool)
    warm_value = objective(instance, pool, warm)
    if not pool:
        return Solution((), 0, 0.0, time.monotonic() - started, "OPTIMAL", 0)
    # The hint: the greedy plan, or the fairer greedy plan when it is worth more.
    fair = fair_greedy(instance, pool)
    hint = fair if objective(instance, pool, fair) > warm_value else warm
    chosen, bound, status = _choose_pairs(instance, pool, warm, hint, seconds * 0.6, workers, seed)
    left = max(0.5, seconds - (time.monotonic() - started))
    by_pair = {(c.a, c.b): c for c in pool}
    # The greedy plan's pairs join the chosen ones: the greedy plan stays a feasible placement.
    chosen |= {(m.a, m.b) for m in warm}
    placed = _place(
        instance, [by_pair[pair] for pair in sorted(chosen)], warm,
        (_musts(by_pair, warm), _maybes(by_pair, warm)), left,
        workers, seed,
    )  # fmt: skip
    plan = greedy(instance, pool, start=placed)
    value = objective(instance, pool, plan)
    if (
        value < warm_value
        or _musts(by_pair, plan) < _musts(by_pair, warm)
        or _maybes(by_pair, plan) < _maybes(by_pair, warm)
    ):
        plan, value = list(warm), warm_value
    # Then a first meeting for those still without one, never at the cost of a wish.
    plan = share_out(instance, pool, plan)
    value = objective(instance, pool, plan)
    return Solution(
        tuple(sorted(plan)), value, max(bound, float(value)), time.monotonic() - started,
        status, warm_value,
    )  # fmt: skip


def _musts(by_pair: dict[tuple[int, int], Candidate], plan: Sequence[Planned]) -> int:
    return sum(by_pair[(m.a, m.b)].musts for m in plan)


def _maybes(by_pair: dict[tuple[int, int], Candidate], plan: Sequence[Planned]) -> int:
    return sum(by_pair[(m.a, m.b)].maybes for m in plan)


def _choose_pairs(
    instance: Instance,
    pool: Sequence[Candidate],
    warm: Sequence[Planned],
    hint: Sequence[Planned],
    seconds: float,
    workers: int,
    seed: int,
) -> tuple[set[tuple[int, int]], float, str]:
    """Which pairs meet, ignoring which slot: every rule that does not name a slot, plus the
    totals of tables and interpreters over the run. Return the pairs, the bound and the status."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    chosen = {(m.a, m.b) for m in warm}
    hinted = {(m.a, m.b) for m in hint}
    meet: dict[tuple[int, int], cp_model.IntVar] = {}
    per_person: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    by_language: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    interpreted: list[cp_model.IntVar] = []
    slots_of: dict[int, set[int]] = defaultdict(set)
    for cand in pool:
        var = model.new_bool_var(f"z_{cand.a}_{cand.b}")
        meet[(cand.a, cand.b)] = var
        model.add_hint(var, int((cand.a, cand.b) in hinted))
        for person in (cand.a, cand.b):
            per_person[person].append(var)
            slots_of[person] |= set(cand.slots)
        if None not in cand.modes:
            interpreted.append(var)
            if len(cand.modes) == 1:
                by_language[str(cand.modes[0])].append(var)
    for person, group in per_person.items():
        limit = min(capacity(instance, person), len(slots_of[person]))
        if len(group) > limit:
            model.add(sum(group) <= limit)
    model.add(sum(meet.values()) <= sum(instance.tables_free.get(s, 0) for s in instance.slots))
    interpreter_total = 0
    for lang in instance.interpreters:
        total = sum(max(0, instance.interpreters_free(s, lang)) for s in instance.slots)
        interpreter_total += total
        if lang in by_language:
            model.add(sum(by_language[lang]) <= total)
    if interpreted:
        model.add(sum(interpreted) <= interpreter_total)
    covered = []
    hint_people = {p for m in hint for p in (m.a, m.b)}
    for person in sorted(coverable(instance, pool)):
        var = model.new_bool_var(f"c_{person}")
        model.add(var <= sum(per_person[person]))
        model.add_hint(var, int(person in hint_people))
        covered.append(var)
    # Never fewer must wishes, nor fewer maybes, than the greedy plan meets.
    by_pair = {(c.a, c.b): c for c in pool}
    model.add(sum(c.musts * meet[(c.a, c.b)] for c in pool) >= _musts(by_pair, warm))
    model.add(sum(c.maybes * meet[(c.a, c.b)] for c in pool) >= _maybes(by_pair, warm))
    model.maximize(sum(c.weight * meet[(c.a, c.b)] for c in pool) + WEIGHT_COVER * sum(covered))
    solver = _solver(seconds, workers, seed)
    status = solver.solve(model)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return chosen, float("inf"), name
    picked = {pair for pair, var in meet.items() if solver.boolean_value(var)}
    log.debug(
        "pairs: %s objective %s bound %s in %.1f s", name, solver.objective_value,
        solver.best_objective_bound, solver.wall_time,
    )  # fmt: skip
    return picked, float(solver.best_objective_bound), name


def _place(
    instance: Instance,
    chosen: Sequence[Candidate],
    warm: Sequence[Planned],
    floors: tuple[int, int],
    seconds: float,
    workers: int,
    seed: int,
) -> list[Planned]:
    """Put the chosen pairs in slots, as many and as heavy as fit, the wishes' weights first."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    # The hint: the best of the greedy plan and two placements of the chosen pairs, those that
    # keep the greedy plan's counts of wishes first.
    by_pair = {(c.a, c.b): c for c in chosen}
    starts = [greedy(instance, chosen), pack(instance, chosen), list(warm)]
    start = max(starts, key=lambda plan: (
        _musts(by_pair, plan) >= floors[0] and _maybes(by_pair, plan) >= floors[1],
        objective(instance, chosen, plan),
    ))  # fmt: skip
    hint = {(m.a, m.b, m.slot, m.interpreter) for m in start}
    choices: list[tuple[Candidate, int, str | None, cp_model.IntVar]] = []
    per_pair: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
    per_person_slot: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
    per_slot: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    per_interpreter: dict[tuple[int, str], list[cp_model.IntVar]] = defaultdict(list)
    for cand in chosen:
        for slot in cand.slots:
            for mode in cand.modes:
                if mode is not None and instance.interpreters_free(slot, mode) <= 0:
                    continue
                var = model.new_bool_var(f"x_{cand.a}_{cand.b}_{slot}_{mode or ''}")
                choices.append((cand, slot, mode, var))
                per_pair[(cand.a, cand.b)].append(var)
                per_person_slot[(cand.a, slot)].append(var)
                per_person_slot[(cand.b, slot)].append(var)
                per_slot[slot].append(var)
                if mode is not None:
                    per_interpreter[(slot, mode)].append(var)
                model.add_hint(var, int((cand.a, cand.b, slot, mode) in hint))
    for group in per_pair.values():
        model.add_at_most_one(group)
    for group in per_person_slot.values():
        if len(group) > 1:
            model.add_at_most_one(group)
    for slot, group in per_slot.items():
        free = instance.tables_free.get(slot, 0)
        if len(group) > free:
            model.add(sum(group) <= free)
    for (slot, lang), group in per_interpreter.items():
        free = instance.interpreters_free(slot, lang)
        if len(group) > free:
            model.add(sum(group) <= free)
    per_person: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    for cand, _, _, var in choices:
        per_person[cand.a].append(var)
        per_person[cand.b].append(var)
    for person, group in per_person.items():
        if len(group) > capacity(instance, person):
            model.add(sum(group) <= capacity(instance, person))
    covered = []
    start_people = {p for m in start for p in (m.a, m.b)}
    for person in sorted(coverable(instance, chosen)):
        var = model.new_bool_var(f"c_{person}")
        model.add(var <= sum(per_person[person]))
        model.add_hint(var, int(person in start_people))
        covered.append(var)
    # The greedy plan's counts of must and maybe wishes, kept whenever the start keeps them.
    if floors[0] <= _musts(by_pair, start):
        model.add(sum(cand.musts * var for cand, _, _, var in choices) >= floors[0])
    if floors[1] <= _maybes(by_pair, start):
        model.add(sum(cand.maybes * var for cand, _, _, var in choices) >= floors[1])
    # Earlier slots break ties (less than one maybe wish in all), so days are not scattered.
    rank = {slot: n for n, slot in enumerate(instance.slots)}
    scale = 100 * max(1, len(instance.slots))
    model.maximize(
        sum((cand.weight * scale - rank[slot]) * var for cand, slot, _, var in choices)
        + WEIGHT_COVER * scale * sum(covered)
    )
    solver = _solver(seconds, workers, seed)
    status = solver.solve(model)
    log.debug(
        "slots: %s objective %s bound %s in %.1f s", solver.status_name(status),
        solver.objective_value, solver.best_objective_bound, solver.wall_time,
    )  # fmt: skip
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return []
    return [
        Planned(slot, cand.a, cand.b, mode)
        for cand, slot, mode, var in choices
        if solver.boolean_value(var)
    ]


def _solver(seconds: float, workers: int, seed: int) -> Any:
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, seconds)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    return solver
