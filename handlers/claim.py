"""Claiming an imported profile: the private link, and recognition by Telegram username.

The organizers import delegates and send each a link `t.me/<bot>?start=c_...`. Opening it binds
the Telegram account to the imported profile, once: a used link is dead for every other account.
A bare /start from an account whose username an imported, unclaimed profile names asks
"Are you <name>, <organization>?" before binding; "No" goes on to normal registration.

An account that already holds a registered profile cannot claim another: it is told so and
nothing changes (the link stays valid for its owner). An unfinished registration is dropped in
favour of the imported profile.

Registered before registration's /start handler: these handlers take /start first and hand
everything that is not theirs to registration.start.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.domain.links import CLAIM_PREFIX, is_claim_token
from bot.domain.models import Step
from bot.services.claims import ClaimTarget
from handlers import callbacks, registration
from handlers.common import Caller, caller, caller_press, close_buttons, refuse_button, send
from handlers.context import BotContext

log = logging.getLogger(__name__)

NS = "cl"
ACTIONS = frozenset({"yes", "no"})


async def _greet_claimed(context: BotContext, delegate_id: int, chat_id: int) -> None:
    """Welcome the delegate to their profile, in its language; ask for consent if missing."""
    services = context.services
    delegate = await services.delegates.get(delegate_id)
    if delegate is None:
        raise LookupError(f"delegate {delegate_id} vanished right after binding")
    await services.matching.refresh_delegate(delegate_id, announce=False)
    tr = services.i18n.translator(delegate.locale)
    text, rows = registration.summary(delegate, tr)
    # Translators: sent once, when a delegate opens the private link the organizers sent them.
    greeting = tr._(
        "Welcome, {name}! The organizers of {event} registered you, and this Telegram account "
        "is now linked to your profile.",
        name=delegate.name or "",
        event=services.settings.event_name,
    )
    await send(context, chat_id, f"{greeting}\n\n{text}", rows)
    if not delegate.consent:
        # Imported without consent: hidden from matches until the delegate agrees here.
        asking = await services.delegates.update(delegate_id, step=Step.CONSENT, editing=True)
        await registration.ask(context, asking, tr)


async def _claim(context: BotContext, who: Caller, target: ClaimTarget) -> bool:
    """Bind the caller to the target or explain why not; True when bound."""
    services = context.services
    tr = who.tr
    if target.deleted:
        await _invalid_link(context, who)
        return False
    if target.telegram_user_id == who.user_id:
        delegate = who.delegate
        if delegate is not None:
            text, rows = registration.summary(delegate, tr)
            already = tr._("This profile is already linked to your account.")
            await send(context, who.chat_id, f"{already}\n\n{text}", rows)
        return False
    if target.claimed:
        await send(
            context,
            who.chat_id,
            tr._(
                "This link has already been used by another Telegram account, so it cannot be "
                "used again. If you think this is a mistake, please contact the organizers."
            ),
        )
        return False
    if who.delegate is not None and who.delegate.is_registered:
        await send(
            context,
            who.chat_id,
            tr._(
                "Your Telegram account already has a profile: {name}, {organization}. The link "
                "was not used. If the profile in the link is yours, delete your current profile "
                "with /delete_me and open the link again, or contact the organizers.",
                name=who.delegate.name or "—",
                organization=who.delegate.organization or "—",
            ),
        )
        return False
    if not await services.claims.bind(target.delegate_id, who.user_id, who.chat_id):
        # Another account was faster, or this one registered meanwhile: nothing was bound.
        await send(
            context,
            who.chat_id,
            tr._(
                "This profile could not be linked to your account. Please open the link again "
                "or contact the organizers."
            ),
        )
        return False
    log.info("delegate %d claimed by Telegram user %d", target.delegate_id, who.user_id)
    await _greet_claimed(context, target.delegate_id, who.chat_id)
    return True


async def _invalid_link(context: BotContext, who: Caller) -> None:
    await send(
        context,
        who.chat_id,
        who.tr._(
            "This link is not valid: it may be incomplete or withdrawn. Please ask the "
            "organizers for your link, or send /start to register yourself."
        ),
    )


async def open_claim_link(update: Update, context: BotContext) -> None:
    """/start c_<token>: bind the account to the imported profile the token belongs to."""
    who = await caller(update, context)
    if who is None:
        return
    token = context.args[0] if context.args else ""
    target = await context.services.claims.by_claim_token(token) if is_claim_token(token) else None
    if target is None:
        await _invalid_link(context, who)
        return
    await _claim(context, who, target)


async def _username_match(update: Update, context: BotContext, who: Caller) -> ClaimTarget | None:
    """The one unclaimed imported profile naming this account's username, if it should ask."""
    user = update.effective_user
    if user is None or not user.username:
        return None
    claims = context.services.claims
    if who.delegate is not None and (
        who.delegate.is_registered or await claims.has_declined(who.delegate.id)
    ):
        return None
    targets = await claims.unclaimed_by_username(user.username)
    # Two imported profiles with one username is an organizer's typo: do not guess.
    return targets[0] if len(targets) == 1 else None


async def start(update: Update, context: BotContext) -> None:
    """A bare /start: ask "Are you <name>?" on a username match, else register as usual."""
    who = await caller(update, context)
    if who is None:
        return
    target = await _username_match(update, context, who)
    if target is None:
        await registration.start(update, context)
        return
    tr = who.tr
    # Translators: {name}, {organization} are of a delegate imported by the organizers; Yes binds
    # this Telegram account to that profile.
    text = tr._(
        "The organizers of {event} registered a delegate with your Telegram username. "
        "Are you {name}, {organization}?",
        event=context.services.settings.event_name,
        name=target.name,
        organization=target.organization,
    )
    rows = [
        [
            (tr.label("Yes, that is me"), callbacks.make(NS, "yes", target.delegate_id)),
            (tr.label("No, I am someone else"), callbacks.make(NS, "no", target.delegate_id)),
        ]
    ]
    await send(context, who.chat_id, text, rows)


async def on_button(update: Update, context: BotContext) -> None:
    """Yes binds (after checking the username again); No goes on to normal registration."""
    press = await caller_press(update, context, NS, ACTIONS)
    if press is None:
        return
    query, who, data = press.query, press.who, press.data
    target = await _username_match(update, context, who)
    if target is None or str(target.delegate_id) != data.arg:
        await refuse_button(query, who.tr)
        return
    await query.answer()
    await close_buttons(query)
    if data.action == "yes":
        await _claim(context, who, target)
        return
    await registration.start(update, context)
    draft = await context.services.delegates.by_telegram_user(who.user_id)
    if draft is not None:
        await context.services.claims.decline(draft.id)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the claim handlers; call before registration.register, which also handles /start."""
    private = filters.ChatType.PRIVATE
    link = filters.Regex(rf"^/start(@\w+)?\s+{CLAIM_PREFIX}")
    app.add_handler(CommandHandler("start", open_claim_link, filters=private & link))
    app.add_handler(CommandHandler("start", start, filters=private, has_args=False))
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(NS)))
