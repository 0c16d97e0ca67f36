"""Whether a private chat still accepts messages: a block drops what the outbox owes it."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.ext import Application, ChatMemberHandler

from handlers.context import BotContext

log = logging.getLogger(__name__)


async def on_my_chat_member(update: Update, context: BotContext) -> None:
    """Track whether a private chat accepts messages: blocked drops what is owed to it."""
    change = update.my_chat_member
    if change is None or change.chat.type != change.chat.PRIVATE:
        return
    outbox = context.services.outbox
    status = change.new_chat_member.status
    if status == ChatMember.BANNED:
        dropped = await outbox.mark_unreachable(change.chat.id, "the user blocked the bot")
        log.info("chat %d blocked the bot; dropped %d item(s)", change.chat.id, dropped)
    elif status == ChatMember.MEMBER:
        await outbox.mark_reachable(change.chat.id)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
