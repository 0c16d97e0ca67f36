"""/offer, /need, /items and /menu: adding, listing, editing and deleting offers and needs.

Every answer is saved at once. A new item is a draft row whose `step` is the question being
asked; an edit sets the `step` of a saved item. So the state lives in the database, and a
restart loses at most the message being typed. A delegate has one pending question at a time:
typed text answers it before registration sees the message (see `register`).
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.domain.items import (
    MAX_FIELDS,
    MAX_ITEMS,
    TEXT_MAX,
    ItemStep,
    Side,
    StoredItem,
    asks_maturity,
    parse_ip_status,
    parse_side,
    parse_trl,
    step_after,
    toggle_field,
    validate_item_text,
)
from bot.domain.models import Step
from bot.domain.registration import InvalidAnswer
from bot.i18n import N_, Translator
from bot.services import Services
from handlers import callbacks, registration
from handlers.common import (
    Buttons,
    Caller,
    caller,
    chunk,
    close_buttons,
    edit_message,
    refuse_button,
    registered_press,
    send,
    typed_choice,
)
from handlers.context import BotContext
from handlers.menu import ITEMS_NS, main_menu
from handlers.views import IP_LABELS, SIDE_MARKS, field_names, item_card, quote

NS = ITEMS_NS

# What the fields question shows: the proposed and chosen fields, the broad areas, or the
# fields of one area (its position in the taxonomy).
PROPOSED, AREAS = "s", "a"

# Group of the handler that takes answers to item questions: before registration's text handler,
# which would otherwise read every text of a registered delegate.
QUESTION_GROUP = -1


# -- guards -------------------------------------------------------------------------------------


async def registered(update: Update, context: BotContext) -> Caller | None:
    """The caller if they finished registration; others are led back to it."""
    who = await caller(update, context)
    if who is None:
        return None
    delegate = who.delegate
    if delegate is None:
        await registration.start(update, context)
        return None
    if not delegate.is_registered:
        prefix = who.tr._("Please finish your registration first.")
        await registration.ask(context, delegate, who.tr, prefix)
        return None
    if delegate.editing or delegate.step is not Step.DONE:
        # A profile edit left open gives way, so typed text answers the item's question.
        await context.services.delegates.update(delegate.id, step=Step.DONE, editing=False)
    return who


def _delegate_id(who: Caller) -> int:
    if who.delegate is None:
        raise LookupError("the caller has no delegate")
    return who.delegate.id


# -- questions ----------------------------------------------------------------------------------


def _cancel_row(item: StoredItem, tr: Translator) -> list[tuple[str, str]]:
    return [(tr.label("✖️ Cancel"), callbacks.make(NS, "cancel", item.id))]


def _text_question(item: StoredItem, tr: Translator) -> str:
    if item.side == "offer":
        text = tr._(
            "Describe the technology you offer in a few sentences, in any language: what it "
            "is, what it does, where it is used. Up to {limit} characters.",
            limit=TEXT_MAX,
        )
    else:
        text = tr._(
            "Describe the technology you are looking for, in any language: the problem to "
            "solve, the industry, your requirements. Up to {limit} characters.",
            limit=TEXT_MAX,
        )
    if item.text:
        text += "\n\n" + tr._("Now: {text}", text=item.text)
    return text


def _kind_question(item: StoredItem, tr: Translator, services: Services) -> tuple[str, Buttons]:
    taxonomy = services.matching.taxonomy
    buttons = [
        (
            ("✅ " if kind.code == item.kind else "") + taxonomy.name(kind.code, tr.locale),
            callbacks.make(NS, "kind", f"{item.id}-{kind.code}"),
        )
        for kind in taxonomy.kinds
    ]
    if item.side == "offer":
        text = tr._("What kind of deal do you offer?")
    else:
        text = tr._("What kind of deal are you looking for?")
    return text, [*chunk(buttons, 2), _cancel_row(item, tr)]


def _trl_question(item: StoredItem, tr: Translator) -> tuple[str, Buttons]:
    buttons = [
        (("✅ " if n == item.trl else "") + str(n), callbacks.make(NS, "trl", f"{item.id}-{n}"))
        for n in range(1, 10)
    ]
    text = tr._(
        "How mature is the technology? Choose its technology readiness level (TRL):\n"
        "1–3: research and proof of concept\n"
        "4–6: prototype validated in the lab or in the field\n"
        "7–9: demonstrated and proven in operation"
    )
    return text, [*chunk(buttons, 5), _cancel_row(item, tr)]


def _ip_question(item: StoredItem, tr: Translator) -> tuple[str, Buttons]:
    buttons = [
        (
            ("✅ " if status == item.ip_status else "") + tr.label(label),
            callbacks.make(NS, "ip", f"{item.id}-{status}"),
        )
        for status, label in IP_LABELS.items()
    ]
    return tr._("Is the technology protected by a patent?"), [[button] for button in buttons] + [
        _cancel_row(item, tr)
    ]


def _toggle(
    item: StoredItem, view: str, code: str, tr: Translator, services: Services
) -> tuple[str, str]:
    taxonomy = services.matching.taxonomy
    position = [f.code for f in taxonomy.fields].index(code)
    mark = "✅ " if code in item.fields else "▫️ "
    return (
        mark + taxonomy.name(code, tr.locale),
        callbacks.make(NS, "tog", f"{item.id}-{view}-{position}"),
    )


def _fields_question(
    item: StoredItem, tr: Translator, services: Services, view: str
) -> tuple[str, Buttons]:
    taxonomy = services.matching.taxonomy
    save = (tr.label("💾 Save"), callbacks.make(NS, "save", item.id))
    if view == PROPOSED:
        proposed = services.matching.classify(item.text)
        shown = [*proposed, *(code for code in item.fields if code not in proposed)]
        if shown:
            text = tr._(
                "Which technology fields is it about? I chose these from your text. Tap a field "
                "to select or deselect it, then Save."
            )
        else:
            text = tr._(
                "I could not tell the technology field from your text. Please pick one or more "
                "under Other fields."
            )
        rows: Buttons = [[_toggle(item, view, code, tr, services)] for code in shown]
        other = (tr.label("🗂 Other fields"), callbacks.make(NS, "view", f"{item.id}-{AREAS}"))
        rows.append([other, save])
    elif view == AREAS:
        text = tr._("Choose a broad area to see its fields.")
        chosen_areas = {taxonomy.broad_of(code) for code in item.fields}
        buttons = [
            (
                ("✅ " if broad.code in chosen_areas else "")
                + taxonomy.name(broad.code, tr.locale),
                callbacks.make(NS, "view", f"{item.id}-{position}"),
            )
            for position, broad in enumerate(taxonomy.broad_fields)
        ]
        rows = chunk(buttons, 2)
        back = (tr.label("◀ Back"), callbacks.make(NS, "view", f"{item.id}-{PROPOSED}"))
        rows.append([back, save])
    else:
        broad = taxonomy.broad_fields[int(view)]
        text = tr._(
            "Fields in {area}: tap a field to select or deselect it, then Save.",
            area=taxonomy.name(broad.code, tr.locale),
        )
        rows = [
            [_toggle(item, view, field.code, tr, services)]
            for field in taxonomy.fields
            if field.broad == broad.code
        ]
        back = (tr.label("◀ Areas"), callbacks.make(NS, "view", f"{item.id}-{AREAS}"))
        rows.append([back, save])
    if item.fields:
        names = field_names(item.fields, tr, taxonomy)
        text += "\n\n" + tr._("Selected: {fields}", fields=names)
    else:
        text += "\n\n" + tr._("Nothing selected yet.")
    rows.append(_cancel_row(item, tr))
    return text, rows


def question(
    item: StoredItem, tr: Translator, services: Services, view: str = PROPOSED
) -> tuple[str, Buttons]:
    """The text and buttons that ask an item's pending question."""
    if item.step is ItemStep.KIND:
        return _kind_question(item, tr, services)
    if item.step is ItemStep.TRL:
        return _trl_question(item, tr)
    if item.step is ItemStep.IP:
        return _ip_question(item, tr)
    if item.step is ItemStep.FIELDS:
        return _fields_question(item, tr, services, view)
    return _text_question(item, tr), [_cancel_row(item, tr)]


async def ask_item(context: BotContext, who: Caller, item: StoredItem, prefix: str = "") -> None:
    """Send the item's pending question, after a prefix."""
    text, rows = question(item, who.tr, context.services)
    await send(context, who.chat_id, f"{prefix}\n\n{text}" if prefix else text, rows)


# -- answers ------------------------------------------------------------------------------------


async def answer(
    context: BotContext, who: Caller, item: StoredItem, answered: ItemStep, **changes: object
) -> None:
    """Save an answer and the question that follows it at once, then ask it (or finish)."""
    services = context.services
    async with services.db.transaction():
        saved = await services.items.update(item.id, **changes)
        following = step_after(saved, answered)
        if following is ItemStep.FIELDS and (not saved.complete or answered is ItemStep.TEXT):
            # The proposal is the starting selection; the delegate confirms or corrects it.
            proposed = tuple(services.matching.classify(saved.text)[:MAX_FIELDS])
            saved = await services.items.update(
                item.id, step=following, fields=proposed or saved.fields
            )
        elif following is not None:
            saved = await services.items.update(item.id, step=following)
    if following is None:
        await finish(context, who, saved)
    else:
        await ask_item(context, who, saved)


async def finish(context: BotContext, who: Caller, item: StoredItem) -> None:
    """Save the item as complete, update matches at once and show the result."""
    services, tr = context.services, who.tr
    was_draft = not item.complete
    saved = await services.items.update(item.id, complete=True, step=None)
    await services.matching.refresh_delegate(saved.delegate_id)
    card = item_card(saved, tr, services.matching.taxonomy)
    if not was_draft:
        await send(
            context, who.chat_id, tr._("✅ Changes saved.") + "\n\n" + card, _card_rows(saved, tr)
        )
        return
    found = len(await services.matching.top(saved.delegate_id))
    if found:
        tail = tr.ngettext(
            "I found {n} matching delegate. Tap My matches to see them.",
            "I found {n} matching delegates. Tap My matches to see them.",
            found,
        )
    else:
        tail = tr._("No matches yet. I will tell you when a matching delegate joins.")
    saved_line = tr._("✅ Saved.")
    await send(context, who.chat_id, f"{saved_line}\n\n{card}\n\n{tail}", main_menu(tr))


# -- commands -----------------------------------------------------------------------------------


async def begin(context: BotContext, who: Caller, side: Side) -> None:
    """Start a new offer or need, or continue the unfinished one of that side."""
    services, tr = context.services, who.tr
    delegate_id = _delegate_id(who)
    pending = await services.items.pending_question(delegate_id)
    if pending is not None and not pending.complete and pending.side == side:
        if side == "offer":
            prefix = tr._("Let us continue with your unfinished offer.")
        else:
            prefix = tr._("Let us continue with your unfinished need.")
        await ask_item(context, who, pending, prefix)
        return
    if await services.items.count_complete(delegate_id) >= MAX_ITEMS:
        await send(
            context,
            who.chat_id,
            tr.ngettext(
                "You already have {n} item, the most I can keep. Delete one in /items first.",
                "You already have {n} items, the most I can keep. Delete one in /items first.",
                MAX_ITEMS,
            ),
        )
        return
    await ask_item(context, who, await services.items.start_draft(delegate_id, side))


async def new_offer(update: Update, context: BotContext) -> None:
    """/offer: add a technology the delegate offers."""
    who = await registered(update, context)
    if who is not None:
        await begin(context, who, "offer")


async def new_need(update: Update, context: BotContext) -> None:
    """/need: add a technology the delegate is looking for."""
    who = await registered(update, context)
    if who is not None:
        await begin(context, who, "need")


def _list_text(items: list[StoredItem], tr: Translator) -> tuple[str, Buttons]:
    if not items:
        return tr._(
            "You have not added any offers or needs yet. Add one, and I will find the "
            "delegates who match it."
        ), main_menu(tr)[:1]
    lines = [tr._("<b>Your offers and needs</b>")]
    rows: Buttons = []
    for n, item in enumerate(items, start=1):
        mark = SIDE_MARKS[item.side]
        unfinished = "" if item.complete else " " + tr._("<i>(not finished)</i>")
        text = html.escape(quote(item.text or "…", 150), quote=False)
        lines.append(f"{n}. {mark} {text}{unfinished}")
        rows.append([(f"{n}. {mark} {quote(item.text or '…', 40)}", _card(item))])
    lines.append("")
    lines.append(tr._("Tap an item to see, edit or delete it."))
    return "\n".join(lines), [*rows, *main_menu(tr)[:1]]


def _card(item: StoredItem) -> str:
    return callbacks.make(NS, "card", item.id)


async def list_items(update: Update, context: BotContext) -> None:
    """/items: the delegate's offers and needs, each with a button to open it."""
    who = await registered(update, context)
    if who is None:
        return
    text, rows = _list_text(await context.services.items.for_delegate(_delegate_id(who)), who.tr)
    await send(context, who.chat_id, text, rows)


async def show_menu(update: Update, context: BotContext) -> None:
    """/menu: what a registered delegate can do."""
    who = await registered(update, context)
    if who is not None:
        await send(context, who.chat_id, who.tr._("What would you like to do?"), main_menu(who.tr))


# -- typed answers ------------------------------------------------------------------------------


async def on_message(update: Update, context: BotContext) -> None:
    """Take a message that answers an item question; leave everything else to registration."""
    who = await caller(update, context)
    message = update.effective_message
    if who is None or message is None or who.delegate is None:
        return
    delegate = who.delegate
    if not delegate.is_registered or delegate.editing or delegate.step is not Step.DONE:
        return
    item = await context.services.items.pending_question(delegate.id)
    if item is None:
        return
    tr = who.tr
    if message.text is not None and await _typed_button(context, who, item, message.text):
        raise ApplicationHandlerStop
    if item.step is ItemStep.TEXT and message.text is not None:
        try:
            text = validate_item_text(message.text)
        except InvalidAnswer as error:
            await ask_item(context, who, item, registration.problem_text(error, tr))
        else:
            await answer(context, who, item, ItemStep.TEXT, text=text)
    elif item.step is ItemStep.TEXT:
        await ask_item(
            context, who, item, tr._("I can only read text here. Please type your answer.")
        )
    else:
        await ask_item(context, who, item, tr._("Please use the buttons below."))
    raise ApplicationHandlerStop


async def _typed_button(context: BotContext, who: Caller, item: StoredItem, text: str) -> bool:
    """The exact label of one of the question's buttons ("Product", "TRL 4", "✖️ Cancel"),
    typed rather than pressed, is that button; True when it was taken so."""
    _, rows = question(item, who.tr, context.services)
    data = callbacks.parse(typed_choice(text, rows), NS, frozenset(ITEM_ACTIONS))
    if data is None:
        return False
    item_id, rest = _split(data.arg)
    if item_id != item.id:
        return False
    return await ITEM_ACTIONS[data.action](ItemPress(context, who, None, item, rest))


# -- buttons ------------------------------------------------------------------------------------


def _card_rows(item: StoredItem, tr: Translator) -> Buttons:
    def edit(label: str, step: ItemStep) -> tuple[str, str]:
        return tr.label(label), callbacks.make(NS, "ed", f"{item.id}-{step.value}")

    rows: Buttons = [[edit(N_("✏️ Text"), ItemStep.TEXT), edit(N_("✏️ Kind"), ItemStep.KIND)]]
    if asks_maturity(item.side, item.kind):
        rows.append([edit(N_("✏️ TRL"), ItemStep.TRL), edit(N_("✏️ Patent"), ItemStep.IP)])
    rows.append(
        [
            edit(N_("✏️ Fields"), ItemStep.FIELDS),
            (tr.label("🗑 Delete"), callbacks.make(NS, "del", item.id)),
        ]
    )
    rows.append([(tr.label("◀ All items"), callbacks.make(NS, "list"))])
    return rows


def _split(arg: str) -> tuple[int | None, str]:
    head, _, rest = arg.partition("-")
    return (int(head) if head.isascii() and head.isdigit() else None), rest


async def on_button(update: Update, context: BotContext) -> None:
    """Handle item buttons; each re-checks that the item is the presser's and still asks it."""
    press = await registered_press(update, context, NS, frozenset({"new", "list", *ITEM_ACTIONS}))
    if press is None:
        return
    query, who, delegate, data = press.query, press.who, press.delegate, press.data
    services, tr = context.services, who.tr
    if data.action in {"new", "list"}:
        side = parse_side(data.arg)
        if data.action == "new" and side is None:
            await refuse_button(query, tr)
            return
        await query.answer()
        if delegate.editing or delegate.step is not Step.DONE:
            await services.delegates.update(delegate.id, step=Step.DONE, editing=False)
        if side is not None:
            await begin(context, who, side)
        else:
            text, rows = _list_text(await services.items.for_delegate(delegate.id), tr)
            await send(context, who.chat_id, text, rows)
        return
    item_id, rest = _split(data.arg)
    item = await services.items.get(item_id) if item_id is not None else None
    if item is None or item.delegate_id != delegate.id:
        await refuse_button(query, tr)
        return
    if not await ITEM_ACTIONS[data.action](ItemPress(context, who, query, item, rest)):
        await refuse_button(query, tr)


@dataclass(frozen=True)
class ItemPress:
    """A press on a button of one of the presser's own items (checked before it gets here)."""

    context: BotContext
    who: Caller
    # None when the button's label was typed rather than pressed (see `on_message`): no toast
    # to show and no pressed message to close; an alert is sent with the question instead.
    query: CallbackQuery | None
    item: StoredItem
    rest: str  # what follows the item id in the argument

    @property
    def tr(self) -> Translator:
        return self.who.tr

    async def acknowledge(self, alert: str | None = None) -> None:
        """Answer the press (with an alert, if given)."""
        if self.query is not None:
            await self.query.answer(alert, show_alert=alert is not None)
        elif alert is not None:
            await ask_item(self.context, self.who, self.item, alert)

    async def close(self) -> None:
        """Answer the press and close its message, the choice echoed under the question."""
        if self.query is not None:
            await self.query.answer()
            await close_buttons(self.query)

    async def answer_item(self, step: ItemStep, **changes: Any) -> None:
        """Take the answer to `step` of the item and ask the next question."""
        await self.close()
        await answer(self.context, self.who, self.item, step, **changes)


# An action returns False when the press no longer applies (the item moved on): refused.
ItemAction = Callable[[ItemPress], Awaitable[bool]]


async def _show_item(press: ItemPress) -> bool:
    item, tr = press.item, press.tr
    await press.acknowledge()
    if not item.complete:
        await ask_item(press.context, press.who, item)
    else:
        taxonomy = press.context.services.matching.taxonomy
        await send(
            press.context, press.who.chat_id, item_card(item, tr, taxonomy), _card_rows(item, tr)
        )
    return True


async def _edit_item(press: ItemPress) -> bool:
    item, rest = press.item, press.rest
    wanted = ItemStep(rest) if rest in {s.value for s in ItemStep} else None
    maturity = wanted in {ItemStep.TRL, ItemStep.IP}
    if (
        wanted is None
        or not item.complete
        or (maturity and not asks_maturity(item.side, item.kind))
    ):
        return False
    await press.close()
    asked = await press.context.services.items.ask(item.id, wanted)
    await ask_item(press.context, press.who, asked)
    return True


async def _kind(press: ItemPress) -> bool:
    kinds = {k.code for k in press.context.services.matching.taxonomy.kinds}
    if press.item.step is not ItemStep.KIND or press.rest not in kinds:
        return False
    changes: dict[str, object] = {"kind": press.rest}
    if not asks_maturity(press.item.side, press.rest):
        changes.update(trl=None, ip_status=None)
    await press.answer_item(ItemStep.KIND, **changes)
    return True


async def _trl(press: ItemPress) -> bool:
    trl = parse_trl(press.rest)
    if press.item.step is not ItemStep.TRL or trl is None:
        return False
    await press.answer_item(ItemStep.TRL, trl=trl)
    return True


async def _ip_status(press: ItemPress) -> bool:
    status = parse_ip_status(press.rest)
    if press.item.step is not ItemStep.IP or status is None:
        return False
    await press.answer_item(ItemStep.IP, ip_status=status.value)
    return True


async def _toggle_field(press: ItemPress) -> bool:
    if press.item.step is not ItemStep.FIELDS:
        return False
    return await _fields_button(press, "tog")


async def _fields_view(press: ItemPress) -> bool:
    if press.item.step is not ItemStep.FIELDS:
        return False
    return await _fields_button(press, "view")


async def _save_fields(press: ItemPress) -> bool:
    if press.item.step is not ItemStep.FIELDS:
        return False
    if not press.item.fields:
        await press.acknowledge(press.tr.label("Please select at least one field."))
        return True
    await press.close()
    await finish(press.context, press.who, press.item)
    return True


async def _cancel_item(press: ItemPress) -> bool:
    item, tr, services = press.item, press.tr, press.context.services
    if item.step is None:
        return False
    await press.close()
    if item.complete:
        await services.items.update(item.id, step=None)
        text = tr._("Nothing was changed.")
    else:
        await services.items.delete(item.id)
        text = tr._("Cancelled. Nothing was saved.")
    await send(press.context, press.who.chat_id, text, main_menu(tr))
    return True


async def _ask_delete(press: ItemPress) -> bool:
    item, tr = press.item, press.tr
    if press.query is None:  # on a card only, never typed
        return False
    await press.query.answer()
    rows = [
        [
            (tr.label("Yes, delete it"), callbacks.make(NS, "delyes", item.id)),
            (tr.label("No, keep it"), callbacks.make(NS, "keep", item.id)),
        ]
    ]
    confirm = tr._("Delete this item? This cannot be undone.")
    card = item_card(item, tr, press.context.services.matching.taxonomy)
    await edit_message(press.query, f"{card}\n\n{confirm}", rows)
    return True


async def _keep(press: ItemPress) -> bool:
    item, tr = press.item, press.tr
    if press.query is None:  # on a card only, never typed
        return False
    if not item.complete:
        return False
    await press.query.answer()
    card = item_card(item, tr, press.context.services.matching.taxonomy)
    await edit_message(press.query, card, _card_rows(item, tr))
    return True


async def _delete(press: ItemPress) -> bool:
    item, tr, services = press.item, press.tr, press.context.services
    if press.query is None:  # on a card only, never typed
        return False
    await press.query.answer()
    await services.items.delete(item.id)
    await services.matching.refresh_delegate(item.delegate_id, announce=False)
    rows = [[(tr.label("◀ All items"), callbacks.make(NS, "list"))]]
    await edit_message(press.query, tr._("The item was deleted."), rows)
    return True


# Callback codes of the item namespace that act on one item (argument: item id, then "-" and
# what the action needs). "new" (side) and "list" (none) are handled before an item is read.
ITEM_ACTIONS: Mapping[str, ItemAction] = {
    "card": _show_item,  # show the card, or ask the question it is at
    "ed": _edit_item,  # - step: ask that question again
    "kind": _kind,  # - kind code
    "trl": _trl,  # - technology readiness level 1..9
    "ip": _ip_status,  # - IP status code
    "tog": _toggle_field,  # - view - field position: toggle a field
    "view": _fields_view,  # - view: what the fields question shows
    "save": _save_fields,  # the fields are chosen
    "cancel": _cancel_item,  # stop editing (or drop an unfinished item)
    "del": _ask_delete,  # ask before deleting
    "keep": _keep,  # do not delete after all
    "delyes": _delete,  # delete
}


def _view(value: str, services: Services) -> bool:
    if value in {PROPOSED, AREAS}:
        return True
    return (
        value.isascii()
        and value.isdigit()
        and int(value) < len(services.matching.taxonomy.broad_fields)
    )


async def _fields_button(press: ItemPress, action: str) -> bool:
    """Toggle a field or switch what the fields question shows, editing it in place (or, for
    a typed label, asking it again)."""
    context, who, query, item, rest = press.context, press.who, press.query, press.item, press.rest
    services, tr = context.services, who.tr
    fields = services.matching.taxonomy.fields
    view, _, position = rest.partition("-")
    if not _view(view, services):
        return False
    if action == "tog":
        if not (position.isascii() and position.isdigit() and int(position) < len(fields)):
            return False
        chosen = toggle_field(item.fields, fields[int(position)].code)
        if len(chosen) > MAX_FIELDS:
            limit = tr.ngettext(
                "You can choose up to {n} field.", "You can choose up to {n} fields.", MAX_FIELDS
            )
            await press.acknowledge(limit)
            return True
        item = await services.items.update(item.id, fields=chosen)
    elif position:
        return False
    text, rows = question(item, tr, services, view)
    if query is None:
        await send(context, who.chat_id, text, rows)
        return True
    await query.answer()
    await edit_message(query, text, rows)
    return True


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the item handlers; answers to item questions are taken before registration's."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("offer", new_offer, filters=private))
    app.add_handler(CommandHandler("need", new_need, filters=private))
    app.add_handler(CommandHandler("items", list_items, filters=private))
    app.add_handler(CommandHandler("menu", show_menu, filters=private))
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(NS)))
    app.add_handler(
        MessageHandler(private & ~filters.COMMAND & ~filters.StatusUpdate.ALL, on_message),
        group=QUESTION_GROUP,
    )
