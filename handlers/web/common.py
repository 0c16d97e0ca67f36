"""What the web pages share: the services key, times in the reader's language, plain texts."""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
from functools import lru_cache
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from babel import Locale
from babel.dates import format_interval, format_skeleton

from bot.i18n import Translator
from bot.services import Services

SERVICES = web.AppKey("services", Services)

_TAG = re.compile(r"<[^>]+>")
_SECRET_PATH = re.compile(r"^/board/[^/]+")


def services_of(request: web.Request) -> Services:
    """The services the server was built with."""
    return request.app[SERVICES]


def hours(tr: Translator, start: dt.datetime, end: dt.datetime, zone: dt.tzinfo) -> str:
    """09:30–09:50 as the reader's language writes a span of hours."""
    return _hours(tr.locale, start, end, zone)


# Slots are few and fixed, and Babel's interval formatting is the costliest step of a grid:
# each (language, slot) is formatted once.
@lru_cache(maxsize=8192)
def _hours(locale: str, start: dt.datetime, end: dt.datetime, zone: dt.tzinfo) -> str:
    return str(format_interval(start, end, "Hm", tzinfo=zone, locale=Locale.parse(locale)))


def day_label(tr: Translator, day: dt.date) -> str:
    """A day as a short button label (Tue, Nov 24)."""
    return str(format_skeleton("MMMEd", day, locale=tr.babel_locale))


def plain(text: str) -> str:
    """A chat message (Telegram HTML) as plain text for the page to set as textContent."""
    return html.unescape(_TAG.sub("", text))


def page_direction(tr: Translator) -> str:
    """The `dir` of a page in the reader's language."""
    return "rtl" if tr.is_rtl else "ltr"


def json_error(status: int, message: str, **extra: Any) -> web.Response:
    """A JSON error the pages show as it is."""
    return web.json_response({"error": message, **extra}, status=status)


class AccessLog(AbstractAccessLogger):
    """One DEBUG line per request, the board's secret masked (URLs with secrets stay unlogged)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if not self.logger.isEnabledFor(logging.DEBUG):
            return
        path = _SECRET_PATH.sub("/board/<secret>", request.path)
        self.logger.debug("%s %s %d %.1f ms", request.method, path, response.status, time * 1000)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.DEBUG)
