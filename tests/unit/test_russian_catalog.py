"""The Russian catalog as a native editor would have it (issue 17, item 12): ё throughout."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

CATALOG = Path(__file__).resolve().parents[2] / "locales" / "ru" / "LC_MESSAGES" / "messages.po"
# Words that are other words when written with е ("все" is "all", "всё" is "everything").
HOMOGRAPHS = frozenset({"все"})


def russian_words() -> set[str]:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    words: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            words |= set(re.findall(r"[а-яё]+", (text or "").lower()))
    return words


def test_a_word_written_with_yo_is_never_also_written_with_ye() -> None:
    words = russian_words()
    with_yo = {word for word in words if "ё" in word}
    assert {"ещё", "её", "партнёр"} <= with_yo
    spelled_both = sorted(
        word for word in with_yo if (plain := word.replace("ё", "е")) in words
        and plain not in HOMOGRAPHS
    )  # fmt: skip
    assert spelled_both == []


def test_common_words_that_take_yo_are_never_written_with_ye() -> None:
    words = russian_words()
    assert not {"еще", "ее", "партнер", "партнеры", "удален", "отклонен", "сохраненные"} & words
