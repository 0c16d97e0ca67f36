"""Wishes: *Must meet*, *Would like to* and *Not interested* on match cards, and /wishes.

The counterpart is never told: a wish only steers the organizers' auto-scheduler, and the
counterpart learns who wished when a meeting is proposed.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.domain.autoschedule import Priority
from bot.i18n import Html, Translator, joined
from bot.services import Services
from bot.services.autoschedule import WishRepository
from handlers import callbacks
from handlers.common import send
from handlers.context import BotContext
from handlers.offers import registered
from handlers.views import headline

ACTION = "w"  # in the matches namespace: w:<counterpart>-<m|y|n>-<card number>
CODES = {"m": Priority.MUST, "y": Priority.MAYBE, "n": Priority.NO}
_CODE_OF = {priority: code for code, priority in CODES.items()}


def wishes_of(services: Services) -> WishRepository:
    """The wishes repository, built once with the other services."""
    return services.wishes


def _label(priority: Priority, tr: Translator) -> str:
    if priority is Priority.MUST:
        return tr.label("⭐ Must meet")
    if priority is Priority.MAYBE:
        return tr.label("👍 Would like to")
    return tr.label("🚫 Not interested")


def wish_row(
    namespace: str, tr: Translator, other_id: int, number: int | None, current: Priority | None
) -> list[tuple[str, str]]:
    """The three wish buttons of a card, the current choice ticked (a second tap clears it)."""
    row = []
    for priority in (Priority.MUST, Priority.MAYBE, Priority.NO):
        text = _label(priority, tr)
        if priority is current:
            text = "✓ " + text
        arg = f"{other_id}-{_CODE_OF[priority]}" + (f"-{number}" if number is not None else "")
        row.append((text, callbacks.make(namespace, ACTION, arg)))
    return row


def parse_arg(arg: str) -> tuple[int, Priority, int | None] | None:
    """Read `<counterpart>-<code>[-<number>]`; None when malformed."""
    parts = arg.split("-")
    if len(parts) not in (2, 3) or parts[1] not in CODES:
        return None
    if not all(p.isascii() and p.isdigit() for p in (parts[0], *parts[2:])):
        return None
    number = int(parts[2]) if len(parts) == 3 else None
    return int(parts[0]), CODES[parts[1]], number


async def toggle(
    services: Services, delegate_id: int, other_id: int, priority: Priority
) -> Priority | None:
    """Set the wish, or clear it when it already was this one; return the wish now held."""
    repo = wishes_of(services)
    if await repo.get(delegate_id, other_id) is priority:
        await repo.clear(delegate_id, other_id)
        return None
    await repo.set(delegate_id, other_id, priority)
    return priority


def saved_text(priority: Priority | None, name: str, tr: Translator) -> str:
    """The short answer to a wish button (a plain-text alert)."""
    if priority is Priority.MUST:
        return tr.label("Saved: you must meet {name}. They are not told.", name=name)
    if priority is Priority.MAYBE:
        return tr.label("Saved: you would like to meet {name}. They are not told.", name=name)
    if priority is Priority.NO:
        return tr.label("Saved: no meeting with {name} will be proposed.", name=name)
    return tr.label("Your mark for {name} is cleared.", name=name)


async def show_wishes(update: Update, context: BotContext) -> None:
    """/wishes: whom the delegate marked, by priority."""
    who = await registered(update, context)
    if who is None or who.delegate is None:
        return
    services, tr = context.services, who.tr
    groups: dict[Priority, list[str]] = {p: [] for p in Priority}
    for other_id, priority in await wishes_of(services).for_delegate(who.delegate.id):
        other = await services.matching.profile(other_id)
        if other is not None:
            groups[priority].append(headline(other.name, other.organization, other.country, tr))
    if not any(groups.values()):
        text = tr._(
            "You have not marked anyone yet. On a card in /matches, tap ⭐ Must meet, "
            "👍 Would like to or 🚫 Not interested. The organizers build the meeting schedule "
            "from these marks; nobody is told until a meeting is proposed."
        )
        await send(context, who.chat_id, text)
        return
    lines = [tr._("<b>Your marks</b>")]
    for priority in (Priority.MUST, Priority.MAYBE, Priority.NO):
        if groups[priority]:
            lines.append(
                tr._(
                    "{mark}: {names}",
                    mark=_label(priority, tr),
                    names=Html(joined(groups[priority], tr)),
                )
            )
    lines.append(tr._("Change a mark on the card in /matches. Nobody is told about your marks."))
    await send(context, who.chat_id, "\n".join(lines))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add /wishes (the buttons are handled with the match cards)."""
    app.add_handler(CommandHandler("wishes", show_wishes, filters=filters.ChatType.PRIVATE))
