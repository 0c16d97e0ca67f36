"""Talk before the meeting and guests at the table: the pure rules."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain import guests, talk
from bot.domain.guests import GuestKind
from bot.domain.meetings import Meeting, MeetingState
from bot.domain.talk import Basis, TalkEnded, TooLong, Written

SLOT = dt.datetime(2026, 11, 24, 1, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "languages", "expected"),
    [
        # The writer's own language, in its script: named as theirs.
        ("مرحبا، هل نلتقي؟", ("ar", "en"), Written("ar", Basis.PROFILE)),
        ("Hello there", ("ar", "en"), Written("en", Basis.PROFILE)),
        ("До встречи", ("en", "ru"), Written("ru", Basis.PROFILE)),
        ("До встречи", ("en", "kk"), Written("kk", Basis.PROFILE)),  # Kazakh uses Cyrillic too
        ("明天见", ("ko", "zh"), Written("zh", Basis.PROFILE)),
        ("明日会いましょう", ("zh", "ja"), Written("ja", Basis.PROFILE)),  # kana: Japanese
        # Not one of the writer's languages: a guess from the script, marked as a guess.
        ("안녕하세요", ("en", "ru"), Written("ko", Basis.SCRIPT)),
        ("До встречи", ("en",), Written("ru", Basis.SCRIPT)),
        ("Сәлем, қалайсыз?", ("en",), Written("kk", Basis.SCRIPT)),
        ("سلام، چطور هستید؟", ("en",), Written("fa", Basis.SCRIPT)),
        ("مرحبا", ("en",), Written("ar", Basis.SCRIPT)),
        ("שלום", ("en",), Written("he", Basis.SCRIPT)),
        # The Latin script is shared by too many languages to guess; no letters, no language.
        ("Bonjour à tous", ("zh",), Written(None, Basis.NONE)),
        ("👍 10:30 ?", ("en",), Written(None, Basis.NONE)),
        # Mixed: most letters decide (a Latin name in an Arabic sentence stays Arabic).
        ("أهلا Anna، نلتقي في القاعة", ("ar",), Written("ar", Basis.PROFILE)),
    ],
)
def test_the_language_of_a_message_is_told_honestly(
    text: str, languages: tuple[str, ...], expected: Written
) -> None:
    assert talk.written_language(text, languages) == expected


def test_the_writer_languages_put_the_interface_language_first() -> None:
    assert talk.writer_languages("ru", ("en", "ru", "zh")) == ("ru", "en", "zh")
    assert talk.writer_languages(None, ("en",)) == ("en",)


def test_a_message_is_trimmed_and_refused_past_the_limit() -> None:
    assert talk.clean_message("  hi \n") == "hi"
    assert talk.clean_message("x" * talk.MESSAGE_MAX) == "x" * talk.MESSAGE_MAX
    with pytest.raises(TooLong) as refused:
        talk.clean_message("x" * (talk.MESSAGE_MAX + 1))
    assert refused.value.length == talk.MESSAGE_MAX + 1


def meeting(state: MeetingState, *, expires: dt.datetime | None = None) -> Meeting:
    return Meeting(
        id=1, requester_id=1, invitee_id=2, slot_start=SLOT,
        slot_end=SLOT + dt.timedelta(minutes=20), state=state, table=None, note=None,
        reason=None, expires_at=expires or SLOT, replaces_id=None, created_at=SLOT,
        updated_at=SLOT,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("state", "why"),
    [
        (MeetingState.DECLINED, "declined"),
        (MeetingState.EXPIRED, "expired"),
        (MeetingState.CANCELLED, "cancelled"),
        (MeetingState.WITHDRAWN, "withdrawn"),
        (MeetingState.RESCHEDULED, "replaced"),
    ],
)
def test_a_closed_request_ends_the_thread(state: MeetingState, why: str) -> None:
    with pytest.raises(TalkEnded) as ended:
        talk.check_open(meeting(state), SLOT - dt.timedelta(hours=1))
    assert ended.value.why == why


def test_open_requests_and_meetings_may_be_written_about_until_they_are_over() -> None:
    before = SLOT - dt.timedelta(hours=1)
    talk.check_open(meeting(MeetingState.REQUESTED), before)
    talk.check_open(meeting(MeetingState.ACCEPTED), SLOT + dt.timedelta(minutes=10))
    with pytest.raises(TalkEnded) as late:
        talk.check_open(meeting(MeetingState.REQUESTED, expires=before), before)
    assert late.value.why == "expired"
    with pytest.raises(TalkEnded) as over:
        talk.check_open(meeting(MeetingState.ACCEPTED), SLOT + dt.timedelta(minutes=20))
    assert over.value.why == talk.PAST


def test_who_may_join_a_table() -> None:
    assert guests.guest_kind("Tomsk Polytechnic", " tomsk  POLYTECHNIC", "university") is (
        GuestKind.COLLEAGUE
    )
    assert guests.guest_kind("Сибирский завод", "СИБИРСКИЙ ЗАВОД", "company") is (
        GuestKind.COLLEAGUE
    )
    assert guests.guest_kind("Tomsk Polytechnic", "Free Lance", "interpreter") is (
        GuestKind.INTERPRETER
    )
    assert guests.guest_kind("Tomsk Polytechnic", "Elsewhere", "company") is None
    assert guests.guest_kind(None, None, "company") is None


def test_seats_left_at_a_table() -> None:
    assert guests.seats_left(guests.DEFAULT_SEATS, 0) == 2
    assert guests.seats_left(4, 2) == 0
    assert guests.seats_left(3, 1) == 0
    assert guests.seats_left(2, 0) == 0
