"""Who is calling the Mini App's API: Telegram's signed launch data, then a registered delegate.

Every API call carries Telegram's launch data (`Authorization: tma <initData>`), validated with
the bot token and its age (bot/domain/webapp.py) before anything is read; each Telegram user has
a request budget; the caller must be a registered delegate.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from aiohttp import web

from bot.domain.models import Delegate
from bot.domain.ratelimit import RateLimit
from bot.domain.webapp import InitDataError, validate_init_data
from bot.i18n import Translator
from handlers.common import translator_for
from handlers.web.common import services_of

log = logging.getLogger("handlers.web.miniapp")

# Per Telegram user: a burst of 20 calls, then 5 a second (a person tapping never gets near).
LIMIT = web.AppKey("miniapp_limit", RateLimit)
BURST, PER_SECOND = 20, 5.0


@dataclass(frozen=True)
class WebCaller:
    """A registered delegate behind a Mini App call, with their translator."""

    user_id: int
    delegate: Delegate
    tr: Translator


async def authenticated(request: web.Request) -> WebCaller:
    """The caller of a Mini App call, or an HTTP error that says why not."""
    services = services_of(request)
    default = services.i18n.translator(services.settings.default_language)
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "tma" or not raw:
        raise _refusal(401, default.label("Open this page from the bot in Telegram."))
    now = services.clock.now()
    try:
        user = validate_init_data(raw, services.settings.token, now)
    except InitDataError as error:
        log.info("Mini App call refused: %s", error)
        raise _refusal(401, default.label("Open this page from the bot in Telegram.")) from None
    if not request.app[LIMIT].allow(user.id, now):
        raise _refusal(429, default.label("Too many requests; please wait a moment."))
    delegate = await services.web.delegate(user.id)
    tr = translator_for(services, delegate, user.language_code)
    if delegate is None or not delegate.is_registered:
        raise _refusal(403, tr.label("Please finish your registration first: send /start."))
    return WebCaller(user.id, delegate, tr)


_REFUSALS: dict[int, type[web.HTTPException]] = {
    401: web.HTTPUnauthorized,
    403: web.HTTPForbidden,
    429: web.HTTPTooManyRequests,
}


def _refusal(status: int, message: str) -> web.HTTPException:
    return _REFUSALS[status](
        text=json.dumps({"error": message}, ensure_ascii=False), content_type="application/json"
    )
