"""Registration: /start, each step's question and answer, and the profile summary."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.domain import languages
from bot.domain import registration as rules
from bot.domain.countries import LIKELY_COUNTRIES, country_name, flag, resolve_country
from bot.domain.crash import crash_point
from bot.domain.models import Delegate, Role, Step
from bot.domain.registration import InvalidAnswer, Problem
from bot.i18n import (
    LANGUAGE_LABELS,
    N_,
    SUPPORTED_LOCALES,
    Html,
    Translator,
    joined,
    language_name,
)
from handlers import callbacks
from handlers.common import (
    Buttons,
    Caller,
    caller,
    chunk,
    close_buttons,
    edit_message,
    keyboard,
    refuse_button,
    send,
    typed_choice,
)
from handlers.context import BotContext
from handlers.menu import main_menu

NS = "r"

MEETING_CHOICES = frozenset(languages.MEETING_LANGUAGE_CHOICES)

ROLE_LABELS: dict[Role, str] = {
    Role.COMPANY: N_("Company"),
    Role.UNIVERSITY: N_("University"),
    Role.INSTITUTE: N_("Research institute"),
    Role.INVESTOR: N_("Investor"),
    Role.AGENCY: N_("Tech-transfer agency"),
    Role.GOVERNMENT: N_("Government body"),
}

EDIT_LABELS: dict[Step, str] = {
    Step.NAME: N_("✏️ Name"),
    Step.ORGANIZATION: N_("✏️ Organization"),
    Step.COUNTRY: N_("✏️ Country"),
    Step.ROLE: N_("✏️ Role"),
    Step.MEETING_LANGUAGES: N_("✏️ Meeting languages"),
    Step.CONTACT: N_("✏️ Contact"),
    Step.CONSENT: N_("✏️ Visibility"),
    Step.LANGUAGE: N_("🌐 Interface language"),
}


def role_label(role: Role, tr: Translator) -> str:
    """The role's name in the viewer's language."""
    return tr.label(ROLE_LABELS[role])


def language_buttons(namespace: str, current: str) -> Buttons:
    """Buttons for the interface languages, the current one ticked."""
    buttons = [
        (
            ("✅ " if code == current else "") + LANGUAGE_LABELS[code],
            callbacks.make(namespace, "lang", code),
        )
        for code in SUPPORTED_LOCALES
    ]
    return chunk(buttons, 2)


def problem_text(error: InvalidAnswer, tr: Translator) -> str:
    """Explain in the user's language why an answer was refused."""
    if error.problem is Problem.TOO_LONG:
        return tr.ngettext(
            "That is too long: please keep it to {n} character.",
            "That is too long: please keep it to {n} characters.",
            error.limit,
        )
    messages = {
        Problem.EMPTY: N_("I could not find any text in that. Please type your answer."),
        Problem.NO_LETTERS: N_("Please use letters or digits, not only symbols or emoji."),
        Problem.BAD_CONTACT: N_(
            "That is neither an e-mail address nor a phone number. "
            "Try name@example.com or +86 138 0000 0000."
        ),
        Problem.UNKNOWN_COUNTRY: N_(
            "I do not know that country. Please check the spelling or pick a button."
        ),
        Problem.NO_MEETING_LANGUAGE: N_("Please select at least one language."),
        Problem.TOO_FEW_WORDS: N_(
            "Please describe it in a few words, so that the right delegates find it, for "
            "example: “Membrane bioreactors for textile wastewater”."
        ),
    }
    return tr._(messages[error.problem])


def question(step: Step, delegate: Delegate, tr: Translator) -> tuple[str, Buttons]:
    """The text and buttons that ask for a step's answer."""
    if step is Step.LANGUAGE:
        return tr._("Please choose your language."), language_buttons(
            NS, delegate.locale or tr.locale
        )
    if step is Step.NAME:
        return tr._(
            "What is your name, as it should appear on your badge? (up to {limit} characters)",
            limit=rules.NAME_MAX,
        ), []
    if step is Step.ORGANIZATION:
        return tr._("Which organization do you represent?"), []
    if step is Step.COUNTRY:
        buttons = [
            (f"{flag(code)} {country_name(code, tr.locale)}", callbacks.make(NS, "ctry", code))
            for code in LIKELY_COUNTRIES
        ]
        return tr._(
            "Which country are you from? Pick one below or type its name in any language."
        ), chunk(buttons, 2)
    if step is Step.ROLE:
        buttons = [(role_label(role, tr), callbacks.make(NS, "role", role.value)) for role in Role]
        return tr._("What kind of organization is it?"), chunk(buttons, 2)
    if step is Step.MEETING_LANGUAGES:
        chosen = set(delegate.meeting_languages)
        buttons = [
            (
                ("✅ " if code in chosen else "▫️ ") + language_name(code, tr),
                callbacks.make(NS, "ml", code),
            )
            for code in languages.MEETING_LANGUAGE_CHOICES
        ]
        rows = chunk(buttons, 3)
        rows.append([(tr.label("Done"), callbacks.make(NS, "mldone"))])
        return tr._(
            "In which languages can you hold a meeting? Tap all that apply, then Done."
        ), rows
    if step is Step.CONTACT:
        return tr._(
            "Optionally, type a phone number or e-mail address. Only delegates whose meeting "
            "with you is confirmed will see it."
        ), [[(tr.label("Skip"), callbacks.make(NS, "skip"))]]
    if step is Step.CONSENT:
        return tr._(
            "May we show your profile to delegates who match your interests? "
            "Your contact stays hidden until you accept a meeting."
        ), [
            [
                (tr.label("Yes, show my profile"), callbacks.make(NS, "cons", 1)),
                (tr.label("No, keep it hidden"), callbacks.make(NS, "cons", 0)),
            ]
        ]
    return summary(delegate, tr)


def summary(delegate: Delegate, tr: Translator) -> tuple[str, Buttons]:
    """The profile as the delegate sees it, with a button to edit each field."""
    not_given = tr._("not given")
    # Separate calls: pybabel does not extract a _() nested inside another _() call.
    shown = tr._("yes") if delegate.consent else tr._("no")
    announce = tr._("yes") if delegate.notify_matches else tr._("no")
    country = (
        f"{flag(delegate.country)} {country_name(delegate.country, tr.locale)}"
        if delegate.country
        else not_given
    )
    lines = [
        tr._("<b>Your profile</b>"),
        tr._("Name: {name}", name=delegate.name or "—"),
        tr._("Organization: {organization}", organization=delegate.organization or "—"),
        tr._("Country: {country}", country=country),
        tr._("Role: {role}", role=role_label(delegate.role, tr) if delegate.role else not_given),
        tr._(
            "Meeting languages: {languages}",
            languages=joined((language_name(c, tr) for c in delegate.meeting_languages), tr),
        ),
        tr._(
            "Contact: {contact}",
            contact=rules.readable_contact(delegate.contact)
            if delegate.contact
            else Html(not_given),
        ),
        tr._(
            "Shown to matching delegates: {answer}",
            answer=Html(shown),
        ),
        tr._(
            "Interface language: {language}",
            language=LANGUAGE_LABELS.get(delegate.locale or "", "—"),
        ),
        tr._("Tell me about new matches: {answer}", answer=Html(announce)),
        tr._(
            "Suggest meetings while I have none: {answer}",
            answer=Html(tr._("yes") if delegate.nudges else tr._("no")),
        ),
    ]
    buttons = [
        (tr.label(label), callbacks.make(NS, "edit", step.value))
        for step, label in EDIT_LABELS.items()
    ]
    if delegate.notify_matches:
        toggle = (tr.label("🔕 Stop match alerts"), callbacks.make(NS, "notify", 0))
    else:
        toggle = (tr.label("🔔 Send match alerts"), callbacks.make(NS, "notify", 1))
    rows = chunk(buttons, 2)
    rows.append([toggle])
    if delegate.is_registered:
        # The nudges' toggle (handlers/nudges.py, namespace "n").
        if delegate.nudges:
            nudge = (tr.label("💤 Stop meeting suggestions"), callbacks.make("n", "tog", 0))
        else:
            nudge = (tr.label("💡 Suggest meetings"), callbacks.make("n", "tog", 1))
        rows.append([nudge])
        rows.append(
            [(tr.label("⏰ Meeting reminders"), callbacks.make(callbacks.MEETINGS, "rem"))]
        )
        rows += main_menu(tr)
    return "\n".join(lines), rows


async def ask(context: BotContext, delegate: Delegate, tr: Translator, prefix: str = "") -> None:
    """Send the question of the delegate's current step (or the summary), after a prefix."""
    text, rows = question(delegate.step, delegate, tr)
    await send(context, _chat(delegate), f"{prefix}\n\n{text}" if prefix else text, rows)


async def start_with_link(update: Update, context: BotContext, payload: str) -> None:
    """`/start <deep link>` by someone not registered yet: registration comes first.

    The link is kept in the database (it survives a restart) and followed once, when the
    registration is complete, by the resumer its feature added (`add_link_resumer`).
    """
    await start(update, context)
    who = await caller(update, context)
    if who is not None and who.delegate is not None and payload:
        await context.services.delegates.remember_link(who.delegate.id, payload)


async def _resume_link(context: BotContext, saved: Delegate, tr: Translator) -> None:
    payload = await context.services.delegates.take_link(saved.id)
    if payload is None or saved.telegram_user_id is None:
        return
    for prefix, resume in context.link_resumers.items():
        if payload.startswith(prefix):
            await resume(context, Caller(saved.telegram_user_id, _chat(saved), saved, tr), payload)
            return


def _chat(delegate: Delegate) -> int:
    if delegate.chat_id is None:
        raise LookupError("the delegate has no chat")
    return delegate.chat_id


async def advance(
    context: BotContext, delegate: Delegate, answered: Step, **fields: object
) -> None:
    """Save an answer and the step that follows it at once, then ask that step."""
    services = context.services
    following = rules.step_after(delegate, answered)
    if following is Step.MEETING_LANGUAGES and not delegate.meeting_languages:
        # Most delegates meet in the language they read; pre-select it.
        fields.setdefault("meeting_languages", (delegate.locale or "en",))
    finished = following is Step.DONE and not delegate.is_registered
    if finished:
        fields["registered_at"] = services.clock.now()
    saved = await services.delegates.update(delegate.id, step=following, editing=False, **fields)
    crash_point("registration.after_save")
    if saved.is_registered:
        # Consent, organization, role and languages all count in matching.
        await services.matching.refresh_delegate(saved.id)
    tr = services.i18n.translator(saved.locale)
    if finished:
        text, rows = summary(saved, tr)
        done = tr._("Thank you, {name}! Your registration is complete.", name=saved.name or "")
        await send(context, _chat(saved), f"{done}\n\n{text}", rows)
        await _resume_link(context, saved, tr)
    else:
        await ask(context, saved, tr)


async def start(update: Update, context: BotContext) -> None:
    """Begin or resume registration, or greet a registered delegate."""
    who = await caller(update, context)
    if who is None:
        return
    services = context.services
    delegate = who.delegate or await services.delegates.start_draft(who.user_id, who.chat_id)
    if delegate.chat_id != who.chat_id:
        delegate = await services.delegates.update(delegate.id, chat_id=who.chat_id)
    if who.delegate is None:
        greeting = who.tr._(
            "Welcome to the matchmaking of {event}! I will register you in a few short steps.",
            event=services.settings.event_name,
        )
        await ask(context, delegate, who.tr, greeting)
    elif delegate.is_registered:
        await ask(
            context, delegate, who.tr, who.tr._("Welcome back, {name}!", name=delegate.name or "")
        )
    else:
        await ask(
            context, delegate, who.tr, who.tr._("Welcome back! Let us continue where you stopped.")
        )


async def on_text(update: Update, context: BotContext) -> None:
    """Take a typed answer for the step being asked."""
    who = await caller(update, context)
    message = update.effective_message
    if who is None or message is None:
        return
    if who.delegate is None:
        await start(update, context)
        return
    delegate, tr = who.delegate, who.tr
    text = message.text or ""
    step = delegate.step
    if step is not Step.DONE and await _typed_button(context, who, text):
        return
    try:
        if step is Step.NAME:
            await advance(context, delegate, step, name=rules.validate_name(text))
        elif step is Step.ORGANIZATION:
            await advance(context, delegate, step, organization=rules.validate_organization(text))
        elif step is Step.COUNTRY:
            await _typed_country(context, who, text)
        elif step is Step.CONTACT:
            contact = rules.validate_contact(text, delegate.country)
            await advance(
                context, delegate, step, contact=contact.value, contact_kind=contact.kind.value
            )
        elif step is Step.DONE:
            await send(
                context,
                who.chat_id,
                tr._(
                    "I did not understand that. Use /profile to see or edit your profile, "
                    "or /help for everything I can do."
                ),
            )
        else:
            await ask(context, delegate, tr, tr._("Please use the buttons below."))
    except InvalidAnswer as error:
        await ask(context, delegate, tr, problem_text(error, tr))


async def _typed_button(context: BotContext, who: Caller, text: str) -> bool:
    """The exact label of one of the step's buttons, typed rather than pressed ("中文", "기업",
    "Skip", "Done"), is that button; True when it was taken so."""
    assert who.delegate is not None
    _, rows = question(who.delegate.step, who.delegate, who.tr)
    data = callbacks.parse(typed_choice(text, rows), NS, frozenset(ACTIONS))
    if data is None:
        return False
    press = RegistrationPress(None, context, who, who.delegate, data.arg)
    return await ACTIONS[data.action](press)


async def _typed_country(context: BotContext, who: Caller, text: str) -> None:
    assert who.delegate is not None
    delegate, tr = who.delegate, who.tr
    cleaned = rules.clean_text(text)
    if len(cleaned) > 60:
        raise InvalidAnswer(Problem.TOO_LONG, 60)
    codes = resolve_country(cleaned)
    if not codes:
        raise InvalidAnswer(Problem.UNKNOWN_COUNTRY)
    if len(codes) == 1:
        await advance(context, delegate, Step.COUNTRY, country=codes[0])
        return
    buttons = [
        (f"{flag(code)} {country_name(code, tr.locale)}", callbacks.make(NS, "ctry", code))
        for code in codes
    ]
    await send(context, who.chat_id, tr._("Did you mean one of these?"), chunk(buttons, 2))


async def on_contact(update: Update, context: BotContext) -> None:
    """Accept a shared Telegram contact as the phone number at the contact step."""
    who = await caller(update, context)
    message = update.effective_message
    if who is None or message is None or message.contact is None:
        return
    if who.delegate is None or who.delegate.step is not Step.CONTACT:
        await on_other(update, context)
        return
    try:
        # Telegram sends the account's number in international form, sometimes without its "+".
        shared = message.contact.phone_number.strip()
        contact = rules.validate_contact(shared if shared.startswith("+") else f"+{shared}")
    except InvalidAnswer as error:
        await ask(context, who.delegate, who.tr, problem_text(error, who.tr))
        return
    await advance(
        context, who.delegate, Step.CONTACT, contact=contact.value, contact_kind=contact.kind.value
    )


async def on_other(update: Update, context: BotContext) -> None:
    """Answer stickers, photos and other non-text messages by asking the step again."""
    who = await caller(update, context)
    if who is None:
        return
    if who.delegate is None:
        await start(update, context)
        return
    if who.delegate.step is Step.DONE:
        await send(
            context,
            who.chat_id,
            who.tr._("I can only read text messages here. Use /help to see what I can do."),
        )
        return
    await ask(
        context,
        who.delegate,
        who.tr,
        who.tr._("I can only read text here. Please type your answer or use the buttons."),
    )


@dataclass(frozen=True)
class RegistrationPress:
    """A press on a registration button, by a delegate with a profile (draft or registered).

    `query` is None when the button's label was typed instead (see `on_text`): then there is
    no toast to show and no pressed message to close; what a toast would say is sent instead.
    """

    query: CallbackQuery | None
    context: BotContext
    who: Caller
    delegate: Delegate
    arg: str

    async def acknowledge(self, alert: str | None = None) -> None:
        """Answer the press (with an alert, if given)."""
        if self.query is not None:
            await self.query.answer(alert, show_alert=alert is not None)
        elif alert is not None:
            await ask(self.context, self.delegate, self.who.tr, alert)

    async def close(self, echo: str | None = None) -> None:
        """Answer the press and close its message, the choice echoed under the question."""
        if self.query is not None:
            await self.query.answer()
            await close_buttons(self.query, echo)

    async def advance(self, step: Step, *, echo: str | None = None, **answer: Any) -> None:
        """Take the answer to `step` and ask the next question (`echo`: see `close`)."""
        await self.close(echo)
        await advance(self.context, self.delegate, step, **answer)


# An action returns False when the press does not fit the step being asked (a stale button).
PressAction = Callable[[RegistrationPress], Awaitable[bool]]


async def _language(press: RegistrationPress) -> bool:
    if press.delegate.step is not Step.LANGUAGE or press.arg not in SUPPORTED_LOCALES:
        return False
    chosen = press.context.services.i18n.translator(press.arg)
    label = LANGUAGE_LABELS[press.arg]
    # Echoed in the language just chosen: "✅ Язык интерфейса: Русский".
    await press.close("✅ " + chosen._("Interface language: {language}", language=label))
    saved = await press.context.services.delegates.update(press.delegate.id, locale=press.arg)
    await advance(press.context, saved, Step.LANGUAGE)
    return True


async def _country(press: RegistrationPress) -> bool:
    arg = press.arg
    if press.delegate.step is not Step.COUNTRY or len(arg) != 2 or not arg.isupper():
        return False
    await press.advance(Step.COUNTRY, country=arg)
    return True


async def _role(press: RegistrationPress) -> bool:
    role = rules.parse_role(press.arg)
    if press.delegate.step is not Step.ROLE or role is None:
        return False
    await press.advance(Step.ROLE, role=role.value)
    return True


async def _toggle_meeting_language(press: RegistrationPress) -> bool:
    delegate = press.delegate
    if delegate.step is not Step.MEETING_LANGUAGES or press.arg not in MEETING_CHOICES:
        return False
    chosen = set(delegate.meeting_languages) ^ {press.arg}
    ordered = tuple(c for c in languages.MEETING_LANGUAGE_CHOICES if c in chosen)
    saved = await press.context.services.delegates.update(delegate.id, meeting_languages=ordered)
    if press.query is None:
        await ask(press.context, saved, press.who.tr)
        return True
    await press.query.answer()
    _, rows = question(Step.MEETING_LANGUAGES, saved, press.who.tr)
    await press.query.edit_message_reply_markup(reply_markup=keyboard(rows))
    return True


async def _meeting_languages_done(press: RegistrationPress) -> bool:
    if press.delegate.step is not Step.MEETING_LANGUAGES:
        return False
    try:
        chosen = rules.validate_meeting_languages(press.delegate.meeting_languages)
    except InvalidAnswer as error:
        await press.acknowledge(problem_text(error, press.who.tr))
        return True
    # The choice, not the word "Done", under the question: "✅ English and Russian".
    names = joined((language_name(code, press.who.tr) for code in chosen), press.who.tr)
    echo = "✅ " + html.escape(names, quote=False)
    await press.advance(Step.MEETING_LANGUAGES, echo=echo, meeting_languages=chosen)
    return True


async def _skip_contact(press: RegistrationPress) -> bool:
    if press.delegate.step is not Step.CONTACT:
        return False
    await press.advance(Step.CONTACT, contact=None, contact_kind=None)
    return True


async def _consent(press: RegistrationPress) -> bool:
    if press.delegate.step is not Step.CONSENT or press.arg not in {"0", "1"}:
        return False
    await press.advance(Step.CONSENT, consent=press.arg == "1")
    return True


async def _edit(press: RegistrationPress) -> bool:
    if not press.delegate.is_registered or press.arg not in {s.value for s in EDIT_LABELS}:
        return False
    await press.close()
    delegates = press.context.services.delegates
    editing = await delegates.update(press.delegate.id, step=Step(press.arg), editing=True)
    await ask(press.context, editing, press.who.tr)
    return True


async def _notify(press: RegistrationPress) -> bool:
    if not press.delegate.is_registered or press.arg not in {"0", "1"}:
        return False
    services = press.context.services
    saved = await services.delegates.update(press.delegate.id, notify_matches=press.arg == "1")
    text, rows = summary(saved, press.who.tr)
    if press.query is None:
        await send(press.context, press.who.chat_id, text, rows)
    else:
        await press.query.answer()
        await edit_message(press.query, text, rows)
    if saved.notify_matches:
        await services.matching.refresh_delegate(saved.id)
    return True


# Callback codes of the "r" namespace and their argument.
ACTIONS: Mapping[str, PressAction] = {
    "lang": _language,  # interface language code
    "ctry": _country,  # ISO 3166 alpha-2 country code
    "role": _role,  # role code
    "ml": _toggle_meeting_language,  # meeting language code, toggled
    "mldone": _meeting_languages_done,  # (none): the meeting languages are chosen
    "skip": _skip_contact,  # (none): no contact
    "cons": _consent,  # 1 or 0: shown to matching delegates or not
    "edit": _edit,  # the step to edit, from the profile
    "notify": _notify,  # 1 or 0: tell me about new matches
}


async def on_button(update: Update, context: BotContext) -> None:
    """Handle registration buttons; each is checked against the step being asked."""
    query = update.callback_query
    who = await caller(update, context)
    if query is None or who is None:
        return
    data = callbacks.parse(query.data, NS, frozenset(ACTIONS))
    delegate = who.delegate
    if data is None or delegate is None:
        await refuse_button(query, who.tr)
        return
    press = RegistrationPress(query, context, who, delegate, data.arg)
    if not await ACTIONS[data.action](press):
        await refuse_button(query, who.tr)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the registration handlers."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("start", start, filters=private))
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(NS)))
    app.add_handler(MessageHandler(private & filters.CONTACT, on_contact))
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, on_text))
