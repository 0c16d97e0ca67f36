"""How items, fields and match reasons read in the viewer's language."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from bot.domain.countries import country_name, flag
from bot.domain.items import StoredItem, asks_maturity
from bot.domain.matching import Reason
from bot.domain.taxonomy import Taxonomy
from bot.formats.match_reasons import field_names, reason_text
from bot.i18n import N_, Translator, joined, language_name

__all__ = ["field_names", "joined", "reason_text"]

# Telegram counts a message's length in UTF-16 code units after entities are parsed.
MESSAGE_LIMIT = 4096

IP_LABELS: dict[str, str] = {
    "granted": N_("Patent granted"),
    "pending": N_("Patent pending"),
    "none": N_("No patent"),
}

SIDE_MARKS = {"offer": "🟢", "need": "🔵"}


def utf16_len(text: str) -> int:
    """The length Telegram measures."""
    return len(text.encode("utf-16-le")) // 2


# What a message may quote of text the user typed (UTF-16 code units, as Telegram counts).
QUOTE_MAX = 100
_RUNS_OF_SPACE = re.compile(r"\s+")


def quote(text: str, limit: int = QUOTE_MAX) -> str:
    """User text to quote in a message: on one line, cut to `limit` with an ellipsis.

    Plain text, for a translator placeholder (which escapes and bidi-isolates it); the whole
    message stays within Telegram's limit however long the user's text was.
    """
    text = _RUNS_OF_SPACE.sub(" ", text).strip()
    if utf16_len(text) <= limit:
        return text
    used, end = 1, 0  # the ellipsis
    for index, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            end = index
            break
    return text[:end].rstrip() + "…"


def place(country: str | None, tr: Translator) -> str:
    """A country as its flag and name in the viewer's language."""
    if not country:
        return ""
    return f"{flag(country)} {country_name(country, tr.locale)}"


def side_heading(item: StoredItem, tr: Translator) -> str:
    """'Your offer' or 'Your need', marked."""
    if item.side == "offer":
        return SIDE_MARKS["offer"] + " " + tr._("<b>Your offer</b>")
    return SIDE_MARKS["need"] + " " + tr._("<b>Your need</b>")


def item_details(item: StoredItem, tr: Translator, taxonomy: Taxonomy) -> list[str]:
    """Kind, maturity, patent and fields of an item, one line each (what is known)."""
    lines: list[str] = []
    if item.kind:
        lines.append(tr._("Kind: {kind}", kind=taxonomy.name(item.kind, tr.locale)))
    if asks_maturity(item.side, item.kind):
        if item.trl is not None:
            lines.append(tr._("Maturity: TRL {trl}", trl=item.trl))
        if item.ip_status in IP_LABELS:
            lines.append(tr._("Patent: {status}", status=tr.label(IP_LABELS[item.ip_status])))
    if item.fields:
        lines.append(tr._("Fields: {fields}", fields=field_names(item.fields, tr, taxonomy)))
    return lines


def item_card(item: StoredItem, tr: Translator, taxonomy: Taxonomy) -> str:
    """The delegate's own item in full."""
    lines = [side_heading(item, tr), html.escape(item.text or "…", quote=False)]
    lines += item_details(item, tr, taxonomy)
    if not item.complete:
        lines.append(tr._("<i>Not finished yet: it is not used for matching.</i>"))
    return "\n".join(lines)


def their_item(item: StoredItem, tr: Translator, taxonomy: Taxonomy) -> list[str]:
    """A counterpart's item in its original language, with its fields in the viewer's."""
    if item.side == "offer":
        lines = [SIDE_MARKS["offer"] + " " + tr._("They offer: {text}", text=item.text)]
    else:
        lines = [SIDE_MARKS["need"] + " " + tr._("They need: {text}", text=item.text)]
    return lines + item_details(item, tr, taxonomy)


def reason_lines(reasons: Iterable[Reason], tr: Translator, taxonomy: Taxonomy) -> list[str]:
    """The reasons as bullet lines; a shared language is left to the language note."""
    return [
        "• " + reason_text(reason, tr, taxonomy)
        for reason in reasons
        if reason.kind != "common_language"
    ]


def language_note(shared: Iterable[str], theirs: Sequence[str], tr: Translator) -> str | None:
    """A warning when two delegates share no meeting language."""
    if any(True for _ in shared) or not theirs:
        return None
    return tr._(
        "⚠️ You share no meeting language: they meet in {languages}. You may need an interpreter.",
        languages=joined((language_name(code, tr) for code in theirs), tr),
    )


def headline(name: str, organization: str, country: str | None, tr: Translator) -> str:
    """A counterpart's name, organization and flag."""
    text = tr._("<b>{name}</b>, {organization}", name=name, organization=organization)
    return f"{text} {flag(country)}" if country else text


def fit(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Make sure a message is within Telegram's limit, cutting whole lines (a last resort)."""
    if utf16_len(text) <= limit:
        return text
    kept: list[str] = []
    used = 1  # the ellipsis
    for line in text.split("\n"):
        cost = utf16_len(line) + (1 if kept else 0)
        if used + cost > limit:
            if not kept:
                kept.append(_cut(line, limit - used))
            break
        kept.append(line)
        used += cost
    return "\n".join(kept) + "…"


def _cut(line: str, units: int) -> str:
    # Lines are plain text with escaped entities; never end inside "&amp;" or a tag.
    used, end = 0, len(line)
    for index, ch in enumerate(line):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > units:
            end = index
            break
    cut = line[:end]
    for opener, closer in (("&", ";"), ("<", ">")):
        if cut.rfind(opener) > cut.rfind(closer):
            cut = cut[: cut.rfind(opener)]
    return cut


def pack(blocks: Sequence[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Group blocks (separated by blank lines) into as few messages as fit the limit."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}\n\n{block}" if current else block
        if utf16_len(candidate) <= limit:
            current = candidate
            continue
        if current:
            messages.append(current)
        current = fit(block, limit)
    if current:
        messages.append(current)
    return messages
