"""Reasons and field names in the viewer's language, and messages kept within Telegram's limit."""

from __future__ import annotations

import pytest

from bot.domain.items import (
    ItemStep,
    StoredItem,
    asks_maturity,
    missing_step,
    step_after,
    toggle_field,
    validate_item_text,
)
from bot.domain.matching import Reason
from bot.domain.registration import InvalidAnswer, Problem
from bot.formats.match_reasons import field_names, reason_plain, reason_text
from bot.i18n import I18n
from handlers.views import fit, pack, utf16_len
from locales.taxonomy import load_taxonomy
from tests.conftest import EVENT_START

TAXONOMY = load_taxonomy()
EN = I18n().translator("en")


@pytest.mark.parametrize(
    ("reason", "sentence"),
    [
        (Reason("same_field", "they_offer", ("env.wastewater",)),
         "Their offer answers your need: Wastewater treatment"),
        (Reason("same_field", "they_need", ("env.wastewater", "energy.hydrogen")),
         "Your offer answers their need: Wastewater treatment, Hydrogen"),
        (Reason("same_broad_field", "they_offer", ("environment",)),
         "They offer related technology in Environment and water"),
        (Reason("same_broad_field", "they_need", ("environment",)),
         "They look for related technology in Environment and water"),
        (Reason("same_kind", "both", ("joint_rnd",)),
         "You both want the same kind of deal: Joint R&D"),
        (Reason("investor", "they_offer", ()), "They invest, and you are seeking investment"),
        (Reason("seeks_investment", "they_need", ("env.wastewater",)),
         "They are seeking investment in Wastewater treatment, which you provide"),
        (Reason("intermediary", "they_offer"), "They are a technology-transfer agency"),
        (Reason("seeks_partners", "they_need"), "They are looking for partners or distributors"),
        (Reason("similar_wording", "they_offer"), "Your descriptions are worded alike"),
        (Reason("common_language", None, ("ru", "en")), "You can meet in Russian and English"),
    ],
)  # fmt: skip
def test_every_reason_reads_as_a_sentence(reason: Reason, sentence: str) -> None:
    assert reason_plain(reason, EN, TAXONOMY).startswith(sentence.replace("Hydrogen", ""))


def test_names_come_from_the_taxonomy_in_the_viewers_language() -> None:
    zh = I18n().translator("zh")
    # Terms that hold a conjunction themselves are enumerated, not joined by another one.
    assert (
        field_names(("env.wastewater", "light.textiles"), zh, TAXONOMY) == "污水处理、纺织与服装"
    )
    ru, ar = I18n().translator("ru"), I18n().translator("ar")
    pair = ("energy.hydrogen", "env.wastewater")
    assert field_names(pair, ru, TAXONOMY) == ", ".join(TAXONOMY.name(c, "ru") for c in pair)
    assert field_names(pair, ar, TAXONOMY) == "، ".join(TAXONOMY.name(c, "ar") for c in pair)
    reason = Reason("same_kind", "both", ("joint_rnd",))
    assert "R&amp;D" in reason_text(reason, EN, TAXONOMY)  # HTML for Telegram
    ar = I18n().translator("ar")
    assert "\u2068" in reason_text(reason, ar, TAXONOMY)  # isolated inside Arabic text


def test_messages_are_packed_and_cut_within_the_limit() -> None:
    blocks = ["💧" * 1500, "b" * 1000, "c" * 3000, "d" * 5000]  # a drop is 2 UTF-16 units
    messages = pack(blocks)
    assert all(utf16_len(m) <= 4096 for m in messages)
    assert messages[:2] == ["💧" * 1500 + "\n\n" + "b" * 1000, "c" * 3000]
    assert len(messages) == 3 and messages[-1] == "d" * 4095 + "…"
    assert fit("💧" * 3000) == "💧" * 2047 + "…"
    assert fit("a &amp; b " * 1000).endswith(("b …", "a …", " …"))
    assert fit("short") == "short"
    long = "\n".join(["line " * 100] * 20)
    assert utf16_len(fit(long)) <= 4096 and fit(long).endswith("…")


def _item(**fields: object) -> StoredItem:
    base: dict[str, object] = {
        "id": 1, "delegate_id": 1, "side": "offer", "text": "Solar", "kind": None, "trl": None,
        "ip_status": None, "fields": (), "complete": False, "created_at": EVENT_START,
        "updated_at": EVENT_START, "step": ItemStep.TEXT,
    }  # fmt: skip
    base.update(fields)
    return StoredItem(**base)  # type: ignore[arg-type]


def test_questions_follow_the_side_and_the_kind() -> None:
    assert step_after(_item(), ItemStep.TEXT) is ItemStep.KIND
    assert step_after(_item(kind="licence"), ItemStep.KIND) is ItemStep.TRL
    assert step_after(_item(kind="licence", trl=5), ItemStep.TRL) is ItemStep.IP
    done = _item(kind="licence", trl=5, ip_status="none")
    assert step_after(done, ItemStep.IP) is ItemStep.FIELDS
    assert step_after(done, ItemStep.FIELDS) is None
    assert step_after(_item(side="need", kind="licence"), ItemStep.KIND) is ItemStep.FIELDS
    assert step_after(_item(kind="investment"), ItemStep.KIND) is ItemStep.FIELDS
    # Editing a saved item asks only what the change left missing.
    saved = _item(kind="licence", trl=5, ip_status="none", complete=True)
    assert step_after(saved, ItemStep.KIND) is None
    assert step_after(saved, ItemStep.TEXT) is ItemStep.FIELDS
    assert step_after(_item(kind="product", complete=True), ItemStep.KIND) is ItemStep.TRL
    assert missing_step(_item(text="")) is ItemStep.TEXT
    assert not asks_maturity("need", "licence") and asks_maturity("offer", None)
    assert toggle_field(("a", "b"), "a") == ("b",) and toggle_field(("b",), "a") == ("b", "a")


@pytest.mark.parametrize(
    ("text", "problem"),
    [("   ", Problem.EMPTY), ("x" * 1001, Problem.TOO_LONG), ("🚀 🚀", Problem.NO_LETTERS),
     ("\u3164\u3164", Problem.EMPTY), ("🚀\u3164", Problem.NO_LETTERS)],
)  # fmt: skip
def test_item_text_is_validated(text: str, problem: Problem) -> None:
    with pytest.raises(InvalidAnswer) as refused:
        validate_item_text(text)
    assert refused.value.problem is problem
    assert validate_item_text("  水处理\u200b  技术 ") == "水处理 技术"
