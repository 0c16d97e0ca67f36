"""The messages the outbox sends about meetings, rendered in each recipient's language at
send time."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.domain.meetings import (
    Meeting,
)
from bot.domain.outbox import Rendered
from bot.domain.registration import readable_contact
from bot.formats.match_reasons import reason_text
from bot.i18n import N_, Html, Translator, clauses
from bot.services import Services
from bot.services import meetings as ms
from bot.services.meetings import Party
from handlers import callbacks
from handlers.meetings.common import (
    NS,
    languages_line,
    local_time_line,
    meetings_of,
    moment_text,
    table_text,
    when_text,
    who_text,
)

log = logging.getLogger(__name__)


async def match_reasons(
    services: Services, me: Party | None, other: Party | None, tr: Translator
) -> str | None:
    """Why two delegates match, in the reader's language, computed when the message is sent."""
    if me is None or other is None:
        return None
    match = await services.matching.pair(me.id, other.id)
    if match is None:
        return None
    taxonomy = services.matching.taxonomy
    reasons = [r for r in match.reasons if r.kind != "common_language"][:2]
    return clauses((reason_text(reason, tr, taxonomy) for reason in reasons), tr) or None


def renderers(services: Services) -> dict[str, Any]:
    """The renderer of each meetings template, closing over the services."""
    service = meetings_of(services)

    async def load(
        params: Mapping[str, Any],
    ) -> tuple[Meeting | None, Party | None, Party | None]:
        meeting = await service.get(int(params["meeting"]))
        if meeting is None:
            return None, None, None
        me_id = int(params["as"])
        # An organization's representative who is not (or no longer) the invitee reads the
        # request as the invitee does: the requester is the other side.
        other_id = meeting.other(me_id) if meeting.involves(me_id) else meeting.requester_id
        return meeting, await service.party(me_id), await service.party(other_id)

    def on_behalf(tr: Translator, me: Party | None) -> list[str]:
        if me is not None and me.chat_id is None:
            return [tr._("On behalf of {name}:", name=who_text(me, tr))]
        return []

    def gone(tr: Translator) -> Rendered:
        return Rendered(tr._("A meeting you were part of has changed. See /agenda."))

    async def request(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        meeting, me, other = await load(params)
        if meeting is None:
            return gone(tr)
        when = when_text(tr, meeting.slot_start, meeting.slot_end, services)
        replaced = await service.get(meeting.replaces_id) if meeting.replaces_id else None
        lines = on_behalf(tr, me)
        if replaced is not None and replaced.table is not None and not replaced.proposed:
            lines.append(
                tr._(
                    "<b>{name} asks to move your meeting</b> from {old} to {when}.",
                    name=who_text(other, tr),
                    old=when_text(tr, replaced.slot_start, replaced.slot_end, services),
                    when=when,
                )
            )
        elif replaced is not None:
            lines.append(
                tr._(
                    "<b>{name} proposes another time:</b> {when}.",
                    name=who_text(other, tr),
                    when=when,
                )
            )
        else:
            lines.append(
                tr._(
                    "<b>{name} would like to meet you</b> on {when}.",
                    name=who_text(other, tr),
                    when=when,
                )
            )
        why = await match_reasons(services, me, other, tr)
        if why:
            lines.append(tr._("Why you match: {reason}", reason=Html(why)))
        elif meeting.reason:
            lines.append(tr._("Why you match: {reason}", reason=meeting.reason))
        if meeting.note:
            lines.append(tr._("Their note: {note}", note=meeting.note))
        lines.append(languages_line(me, other, tr))
        expires = moment_text(tr, meeting.expires_at, services)
        lines.append(tr._("Please answer by {time}.", time=expires))
        buttons = (
            (
                (tr.label("✅ Accept"), callbacks.make(NS, "acc", meeting.id)),
                (tr.label("Decline"), callbacks.make(NS, "dec", meeting.id)),
            ),
            ((tr.label("🕒 Propose another time"), callbacks.make(NS, "prop", meeting.id)),),
        )
        return Rendered("\n".join(lines), buttons)

    async def proposal(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        meeting, me, other = await load(params)
        if meeting is None:
            return gone(tr)
        lines = on_behalf(tr, me)
        lines.append(
            tr._(
                "📅 <b>The organizers propose a meeting</b> with {name} on {when}, at {table}. "
                "{name} would like to meet you.",
                name=who_text(other, tr),
                when=when_text(tr, meeting.slot_start, meeting.slot_end, services),
                table=table_text(meeting.table, services, tr),
            )
        )
        why = await match_reasons(services, me, other, tr)
        if why:
            lines.append(tr._("Why you match: {reason}", reason=Html(why)))
        lines.append(languages_line(me, other, tr))
        expires = moment_text(tr, meeting.expires_at, services)
        lines.append(
            tr._("The table is kept for you until {time}. Please answer by then.", time=expires)
        )
        buttons = (
            (
                (tr.label("✅ Accept"), callbacks.make(NS, "acc", meeting.id)),
                (tr.label("Decline"), callbacks.make(NS, "dec", meeting.id)),
            ),
            ((tr.label("🕒 Propose another time"), callbacks.make(NS, "prop", meeting.id)),),
        )
        return Rendered("\n".join(lines), buttons)

    async def confirmed(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        meeting, me, other = await load(params)
        if meeting is None:
            return gone(tr)
        lines = on_behalf(tr, me)
        lines += [
            tr._("✅ <b>Meeting confirmed</b>"),
            tr._(
                "When: {when}", when=when_text(tr, meeting.slot_start, meeting.slot_end, services)
            ),
            *local_time_line(tr, meeting.slot_start, me, services),
            tr._("Where: {table}", table=table_text(meeting.table, services, tr)),
            tr._("With: {name}", name=who_text(other, tr)),
        ]
        if other is not None and other.contact:
            lines.append(tr._("Contact: {contact}", contact=readable_contact(other.contact)))
        lines.append(languages_line(me, other, tr))
        lines.append(tr._("Your meetings: /agenda"))
        return Rendered("\n".join(lines))

    def simple(message: str) -> Any:
        async def render(tr: Translator, params: Mapping[str, Any]) -> Rendered:
            meeting, me, other = await load(params)
            if meeting is None:
                return gone(tr)
            text = tr._(
                message,
                name=who_text(other, tr),
                when=when_text(tr, meeting.slot_start, meeting.slot_end, services),
                table=table_text(meeting.table, services, tr),
            )
            return Rendered("\n".join([*on_behalf(tr, me), text]))

        return render

    async def follow_up(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        meeting, me, other = await load(params)
        if meeting is None:
            return gone(tr)
        text = tr._(
            "Did your meeting with {name} ({when}) take place?",
            name=who_text(other, tr),
            when=when_text(tr, meeting.slot_start, meeting.slot_end, services),
        )
        buttons = (
            (
                (tr.label("Yes"), callbacks.make(NS, "fb", f"{meeting.id}_h")),
                (tr.label("They did not come"), callbacks.make(NS, "fb", f"{meeting.id}_n")),
            ),
            (
                (
                    tr.label("Cancelled at short notice"),
                    callbacks.make(NS, "fb", f"{meeting.id}_l"),
                ),
            ),
        )
        return Rendered("\n".join([*on_behalf(tr, me), text]), buttons)

    async def taken(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        meeting, _, other = await load(params)
        if meeting is None:
            return gone(tr)
        colleague = await service.party(meeting.invitee_id)
        text = tr._(
            "{colleague} of your organization accepted the meeting with {name} on {when}; "
            "the request is taken.",
            colleague=who_text(colleague, tr),
            name=who_text(other, tr),
            when=when_text(tr, meeting.slot_start, meeting.slot_end, services),
        )
        return Rendered(text)

    return {
        ms.T_TAKEN: taken,
        ms.T_REQUEST: request,
        ms.T_CONFIRMED: confirmed,
        ms.T_DECLINED: simple(N_("{name} declined your meeting request for {when}.")),
        ms.T_EXPIRED: simple(
            N_("The meeting request between you and {name} for {when} expired without an "
               "answer. The time is free again.")
        ),
        ms.T_WITHDRAWN: simple(
            N_("The meeting request with {name} for {when} was withdrawn: that time was just "
               "booked for another meeting.")
        ),
        ms.T_CANCELLED: simple(
            N_("{name} cancelled your meeting on {when}. The time is free again.")
        ),
        ms.T_REMINDER: simple(
            N_("⏰ Reminder: your meeting with {name} starts soon, {when}, at {table}.")
        ),
        ms.T_FOLLOW_UP: follow_up,
        ms.T_PROPOSAL: proposal,
        ms.T_PROPOSED: simple(
            N_("📅 The organizers propose a meeting with {name} on {when}, at {table}, as you "
               "wished. I asked {name} to confirm and will tell you the answer.")
        ),
        ms.T_LEFT: simple(
            N_("The delegate you were to meet on {when} has left the matchmaking. The meeting is "
               "cancelled and the time is free again.")
        ),
    }  # fmt: skip
