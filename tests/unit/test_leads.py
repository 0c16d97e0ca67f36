"""The leads rules: who represents an organization, scores, notes, counts per hall."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.leads import (
    Counts,
    LeadError,
    check_score,
    clean_note,
    follow_up_window,
    organization_key,
    per_hall,
    representatives,
    same_organization,
    stars,
)


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("Xi'an Jiaotong University", "XI'AN JIAOTONG  UNIVERSITY", True),
        ("Xi'an Jiaotong University", "Xian Jiaotong University", True),
        ("Томский политехнический", "Tomskiy politekhnicheskiy", True),
        ("KAIST", "KAUST", False),
        ("", "", False),
    ],
)
def test_organizations_compare_as_matching_compares_them(one: str, other: str, same: bool) -> None:
    assert same_organization(one, other) is same
    assert (organization_key(one) == organization_key(other)) is (same or one == other)


def test_representatives_are_the_owner_then_the_organizations_delegates_by_id() -> None:
    delegates = [(7, "XJTU"), (3, "xjtu"), (5, "Other"), (9, None), (2, "X.J.T.U.")]
    assert representatives("XJTU", 5, delegates) == [5, 2, 3, 7]
    assert representatives("XJTU", None, delegates) == [2, 3, 7]
    assert representatives("", None, delegates) == []


@pytest.mark.parametrize("score", [0, 6, -1])
def test_a_score_is_one_to_five(score: int) -> None:
    with pytest.raises(LeadError):
        check_score(score)
    assert [check_score(s) for s in (1, 5)] == [1, 5]
    assert stars(3) == "★★★☆☆" and stars(None) == ""


def test_a_note_is_one_line_and_cut() -> None:
    assert clean_note("  wants\n a pilot  ") == "wants a pilot"
    assert clean_note(" \n ") is None
    long = clean_note("x" * 900)
    assert long is not None and len(long) == 500 and long.endswith("…")


def test_counts_sum_per_hall_busiest_first() -> None:
    rows = [("A", Counts(1, 0, 0, 0)), ("B", Counts(2, 1, 1, 1)), ("A", Counts(1, 1, 0, 1)),
            (None, Counts())]  # fmt: skip
    assert per_hall(rows) == [("B", Counts(2, 1, 1, 1)), ("A", Counts(2, 1, 0, 1)), ("", Counts())]


def test_the_follow_up_waits_a_moment_after_the_end_and_not_for_ever() -> None:
    now = dt.datetime(2026, 11, 24, 4, 10, tzinfo=dt.UTC)
    low, high = follow_up_window(now)
    assert high == now - dt.timedelta(minutes=5) and low == now - dt.timedelta(hours=12)
