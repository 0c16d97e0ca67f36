"""An exhibits file (CSV or XLSX, README "Exhibits") sent in chat by an organizer: imported.

Like the delegate file (handlers/organizer/importing.py): the file is read off the event loop,
one import runs at a time (the same import lease as the CLI's), a progress message is edited
when the import is done, and the row report follows; a file that cannot be read is answered
with the reason and nothing is imported. The running bot's search sees the new catalogue at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import io
import logging

from telegram import InputFile, Message, Update
from telegram.error import TelegramError

from bot.domain.exhibits import ExhibitParse
from bot.services.exhibits import read_file
from bot.services.importing import MAX_IMPORT_ROWS, ImportRunning, import_lock, loop_first
from handlers.common import Caller, send
from handlers.context import BotContext
from handlers.organizer.import_texts import REPORT_LIMIT, number, progress_text

log = logging.getLogger(__name__)


def _rows(parsed: ExhibitParse) -> int:
    return len(parsed.exhibits) + len({e.line for e in parsed.errors})


async def import_exhibits(
    update: Update, context: BotContext, who: Caller, name: str, data: bytes
) -> None:
    """Start importing an exhibits file the organizer sent, or say why not."""
    services, tr = context.services, who.tr
    with loop_first():
        parsed = await asyncio.to_thread(read_file, name, data)
    if parsed.file_error is not None:
        text = tr._("{file}: {error} Nothing was imported.", file=name, error=parsed.file_error)
        await send(context, who.chat_id, text)
        return
    rows = _rows(parsed)
    if rows > MAX_IMPORT_ROWS:
        text = tr.ngettext(
            "{file} has {rows} row; an import takes at most {limit}. Nothing was imported.",
            "{file} has {rows} rows; an import takes at most {limit}. Please split it and "
            "send the parts one after the other. Nothing was imported.",
            rows,
            file=name,
            rows=number(tr, rows),
            limit=number(tr, MAX_IMPORT_ROWS),
        )
        await send(context, who.chat_id, text)
        return
    lock = contextlib.ExitStack()
    started = f"{services.clock.now():%Y-%m-%d %H:%M:%S} UTC"
    try:
        lock.enter_context(
            import_lock(services.db.path, f"organizer {who.user_id} in chat", name, started)
        )
    except ImportRunning as running:
        text = tr._(
            "Another import is running ({file}). Nothing was imported; please send this file "
            "again when it has finished.",
            file=running.running.file_name,
        )
        await send(context, who.chat_id, text)
        return
    try:
        progress = await context.bot.send_message(
            who.chat_id, progress_text(tr, name, 0, len(parsed.exhibits))
        )
    except BaseException:
        lock.close()
        raise
    context.application.create_task(
        _run(context, who, name, parsed, progress, lock), update=update, name="chat-exhibits"
    )


async def _run(
    context: BotContext,
    who: Caller,
    name: str,
    parsed: ExhibitParse,
    progress: Message,
    lock: contextlib.ExitStack,
) -> None:
    services, tr = context.services, who.tr
    with lock, loop_first():
        try:
            report = await services.exhibits.import_parsed(parsed)
        except Exception:
            log.exception("the import of an exhibits file sent in chat stopped")
            text = tr._(
                "The import of {file} stopped. What was written stays; send the file again to "
                "complete it.",
                file=name,
            )
            await send(context, who.chat_id, text)
            return
    done = tr.ngettext(
        "Imported {file}: {total} row read.",
        "Imported {file}: {total} rows read.",
        report.rows,
        file=name,
        total=number(tr, report.rows),
    )
    try:
        await context.bot.edit_message_text(done, who.chat_id, progress.message_id)
    except TelegramError as error:
        log.info("import progress not shown: %s", error)
    summary = report.summary
    await services.organizers.audit.record(
        who.user_id,
        "import_exhibits",
        name,
        {"added": summary.added, "updated": summary.updated} if summary else {},
    )
    lines = report.lines(name)
    body = "\n".join(lines)
    if len(body) <= REPORT_LIMIT:
        await send(context, who.chat_id, f"<pre>{html.escape(body)}</pre>")
    else:
        await send(context, who.chat_id, html.escape(lines[-1]))
        await context.bot.send_document(
            who.chat_id,
            InputFile(io.BytesIO(body.encode("utf-8")), filename="import-report.txt"),
        )
