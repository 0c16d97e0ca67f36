"""Registration rules: what each step accepts and which step follows."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain import registration as rules
from bot.domain.countries import flag, resolve_country
from bot.domain.models import ContactKind, Delegate, Step
from bot.domain.registration import InvalidAnswer, Problem

NOW = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)


def _delegate(**changes: object) -> Delegate:
    fields: dict[str, object] = dict(
        id=1, telegram_user_id=7, chat_id=7, locale="en", name=None, organization=None,
        country=None, role=None, meeting_languages=(), contact=None, contact_kind=None,
        consent=None, step=Step.NAME, editing=False, reachable=True, created_at=NOW,
        updated_at=NOW, registered_at=None,
    )  # fmt: skip
    fields.update(changes)
    return Delegate(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("  Ivan   Petrov ", "Ivan Petrov"),
        ("<b>Bold</b> & Co", "<b>Bold</b> & Co"),
        ("李明", "李明"),
        ("محمد علي", "محمد علي"),
        ("Ann 🚀", "Ann 🚀"),
        ("Eve\u202eevil\u200b", "Eveevil"),
        ("김민준", "김민준"),
        ("José\u0301", "José\u0301"),
    ],
)
def test_names_are_cleaned_not_mangled(typed: str, kept: str) -> None:
    assert rules.validate_name(typed) == kept


@pytest.mark.parametrize(
    ("typed", "problem"),
    [("", Problem.EMPTY), ("   ", Problem.EMPTY), ("\u200b", Problem.EMPTY),
     ("🚀🚀", Problem.NO_LETTERS), ("x" * 4096, Problem.TOO_LONG),
     # Invisible fillers: Unicode counts the Hangul ones as letters, yet they show nothing.
     ("\u3164", Problem.EMPTY), ("\u3164 \u3164\u3164", Problem.EMPTY), ("\uffa0", Problem.EMPTY),
     ("\u115f\u1160", Problem.EMPTY), ("\u2800\u2800", Problem.EMPTY), ("\u2060", Problem.EMPTY),
     ("\u034f\u3164\u00ad", Problem.EMPTY), ("\U000e0041\u3164", Problem.EMPTY)],
)  # fmt: skip
def test_bad_names_are_refused_with_a_reason(typed: str, problem: Problem) -> None:
    with pytest.raises(InvalidAnswer) as error:
        rules.validate_name(typed)
    assert error.value.problem is problem
    if problem is Problem.TOO_LONG:
        assert error.value.limit == rules.NAME_MAX


@pytest.mark.parametrize(
    ("typed", "kind", "value"),
    [
        ("ivan@tpu.ru", ContactKind.EMAIL, "ivan@tpu.ru"),
        ("+86 138-0000-0000", ContactKind.PHONE, "+8613800000000"),
        ("0086 (25) 8888 7777", ContactKind.PHONE, "+862588887777"),
        ("+7 913 123 45 67", ContactKind.PHONE, "+79131234567"),
    ],
)
def test_contacts_are_validated(typed: str, kind: ContactKind, value: str) -> None:
    contact = rules.validate_contact(typed)
    assert (contact.kind, contact.value) == (kind, value)


@pytest.mark.parametrize(
    "typed",
    ["ivan@", "@tpu.ru", "a@b", "12345", "call me", "+1 23x4567", "a@b..ru", "<script>@x.com"],
)
def test_bad_contacts_are_refused(typed: str) -> None:
    with pytest.raises(InvalidAnswer) as error:
        rules.validate_contact(typed)
    assert error.value.problem is Problem.BAD_CONTACT


def test_meeting_languages_need_one_and_keep_the_offered_order() -> None:
    assert rules.validate_meeting_languages(("ru", "en", "xx")) == ("en", "ru")
    with pytest.raises(InvalidAnswer):
        rules.validate_meeting_languages(())


def test_steps_follow_in_order_and_an_edit_returns_to_the_summary() -> None:
    order = rules.REGISTRATION_ORDER
    for answered, following in zip(order, [*order[1:], Step.DONE], strict=True):
        assert rules.step_after(_delegate(), answered) is following
    assert rules.step_after(_delegate(editing=True), Step.NAME) is Step.DONE
    assert rules.step_after(_delegate(registered_at=NOW), Step.COUNTRY) is Step.DONE


@pytest.mark.parametrize(
    ("typed", "code"),
    [("Россия", "RU"), ("俄罗斯", "RU"), ("russia", "RU"), ("RUSSIA ", "RU"), ("ru", "RU"),
     ("росия", "RU"), ("중국", "CN"), ("中国", "CN"), ("China", "CN"), ("한국", "KR"),
     ("대한민국", "KR"), ("Южная Корея", "KR"), ("Nederland", "NL"), ("Нидерланды", "NL"),
     ("Israel", "IL"), ("Isreal", "IL"), ("إسرائيل", "IL"), ("السعودية", "SA"),
     ("الإمارات العربية المتحدة", "AE"), ("Kazakstan", "KZ"), ("Германия", "DE")],
)  # fmt: skip
def test_countries_resolve_in_every_language(typed: str, code: str) -> None:
    assert resolve_country(typed)[0] == code


@pytest.mark.parametrize("typed", ["", "xx", "qwertyuiop", "🚀"])
def test_nonsense_is_no_country(typed: str) -> None:
    assert resolve_country(typed) == []


def test_flags() -> None:
    assert flag("RU") == "🇷🇺"
    assert flag("??") == ""
