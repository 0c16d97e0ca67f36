"""A delegate file sent in chat by an organizer: imported in the background, with progress
(an exhibits file goes on to handlers/organizer/exhibits_import.py).

The import runs as its own task, so the organizer's chat (and everyone else's) stays answered:
parsing and classifying run in worker threads, rows are written in short batches
(bot/importer.py), and one progress message is edited as the batches commit, at most every
PROGRESS_EVERY seconds. One import runs at a time, in chat or on the command line (the import
lease); a second one is refused politely, as is a file above the row limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import io
import logging
import time

from telegram import InputFile, Message, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.domain.importing import ImportResult, parse_delegate_csv
from bot.services.exhibits import is_exhibits_file
from bot.services.importing import (
    MAX_IMPORT_ROWS,
    ImportReport,
    ImportRunning,
    format_report,
    import_delegates,
    import_lock,
    loop_first,
    row_count,
)
from handlers.common import Caller, send
from handlers.context import BotContext
from handlers.organizer.exhibits_import import import_exhibits
from handlers.organizer.import_texts import REPORT_LIMIT, number, progress_text

log = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 5 * 1024 * 1024
PROGRESS_EVERY = 3.0  # seconds between two edits of the progress message
RELOAD_ABOVE = 500  # more changed delegates than this: rebuild the match index once instead


async def import_document(update: Update, context: BotContext, who: Caller) -> None:
    """An organizer's delegates CSV, or an exhibits file: start importing it, or say why not."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    services = context.services
    document = message.document
    if document.file_size is not None and document.file_size > MAX_IMPORT_BYTES:
        await send(context, who.chat_id, who.tr._("This file is too large to import."))
        raise ApplicationHandlerStop
    data = bytes(await (await document.get_file()).download_as_bytearray())
    name = document.file_name or "delegates.csv"
    if is_exhibits_file(name, data):
        await import_exhibits(update, context, who, name, data)
        raise ApplicationHandlerStop
    with loop_first():
        parsed = await asyncio.to_thread(parse_delegate_csv, data)
    if parsed.file_error is not None:
        text = who.tr._(
            "{file}: {error} Nothing was imported.", file=name, error=parsed.file_error
        )
        await send(context, who.chat_id, text)
        raise ApplicationHandlerStop
    rows = row_count(parsed)
    if rows > MAX_IMPORT_ROWS:
        text = who.tr.ngettext(
            "{file} has {rows} row; an import takes at most {limit}. Nothing was imported.",
            "{file} has {rows} rows; an import takes at most {limit}. Please split it and "
            "send the parts one after the other. Nothing was imported.",
            rows,
            file=name,
            rows=number(who.tr, rows),
            limit=number(who.tr, MAX_IMPORT_ROWS),
        )
        await send(context, who.chat_id, text)
        raise ApplicationHandlerStop
    lock = contextlib.ExitStack()
    started = f"{services.clock.now():%Y-%m-%d %H:%M:%S} UTC"
    holder = f"organizer {who.user_id} in chat"
    try:
        lock.enter_context(import_lock(services.db.path, holder, name, started))
    except ImportRunning as running:
        text = who.tr._(
            "Another import is running ({file}). Nothing was imported; please send this file "
            "again when it has finished.",
            file=running.running.file_name,
        )
        await send(context, who.chat_id, text)
        raise ApplicationHandlerStop from None
    try:
        progress = await context.bot.send_message(
            who.chat_id, progress_text(who.tr, name, 0, len(parsed.delegates))
        )
    except BaseException:
        lock.close()
        raise
    context.application.create_task(
        _run(context, who, name, parsed, progress, lock), update=update, name="chat-import"
    )
    raise ApplicationHandlerStop


async def _run(
    context: BotContext,
    who: Caller,
    name: str,
    parsed: ImportResult,
    progress: Message,
    lock: contextlib.ExitStack,
) -> None:
    services = context.services
    last_edit = time.monotonic()
    written = 0

    async def show(done: int, total: int, *, final: bool = False) -> None:
        nonlocal last_edit, written
        written = done
        now = time.monotonic()
        if not final and now - last_edit < PROGRESS_EVERY:
            return
        last_edit = now
        text = progress_text(who.tr, name, done, total)
        if final:
            text = who.tr.ngettext(
                "Imported {file}: {total} row read.",
                "Imported {file}: {total} rows read.",
                row_count(parsed),
                file=name,
                total=number(who.tr, row_count(parsed)),
            )
        try:
            await context.bot.edit_message_text(text, who.chat_id, progress.message_id)
        except TelegramError as error:
            # Progress is a courtesy: the report follows whatever happens to an edit.
            log.info("import progress not shown: %s", error)

    with lock, loop_first():
        try:
            report = await import_delegates(
                services.db,
                services.imports,
                services.matching.items,
                services.matching.classify,
                parsed,
                progress=show,
            )
        except Exception:
            log.exception("the import of a file sent in chat stopped")
            text = who.tr._(
                "The import of {file} stopped after {done} rows. What was written stays; "
                "send the file again to complete it.",
                file=name,
                done=number(who.tr, written),
            )
            await send(context, who.chat_id, text)
            return
    await show(len(parsed.delegates), len(parsed.delegates), final=True)
    with loop_first():
        await _after(context, who, name, report)


async def _after(context: BotContext, who: Caller, name: str, report: ImportReport) -> None:
    services = context.services
    if len(report.changed_ids) > RELOAD_ABOVE:
        await services.matching.load()  # one rebuild, off the event loop
    else:
        for delegate_id in report.changed_ids:
            await services.matching.refresh_delegate(delegate_id, announce=False)
    await services.organizers.audit.record(
        who.user_id, "import", name, {"inserted": report.inserted, "updated": report.updated}
    )
    lines = format_report(name, report)
    body = "\n".join(lines)
    if len(body) <= REPORT_LIMIT:
        await send(context, who.chat_id, f"<pre>{html.escape(body)}</pre>")
    else:
        await send(context, who.chat_id, html.escape(lines[-1]))
        await context.bot.send_document(
            who.chat_id,
            InputFile(io.BytesIO(body.encode("utf-8")), filename="import-report.txt"),
        )
