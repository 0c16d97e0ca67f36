"""The Mini App's catalogue tab: search and filter the exhibits, and Save to the chat's /saved.

The same calls as the chat: ExhibitService.find (text search through the matching engine, or
browsing, within the filters) and ExhibitService.save, the shortlist /saved lists. Every call is
authenticated like the rest of the Mini App (`miniapp.authenticated`: signed launch data, its
age, a registered delegate, the per-user request budget). Filters are given by value
(`field=energy.batteries&hall=A&trl_min=4&trl_max=9&kind=licence`); a value the catalogue does
not have is a 400, not an empty page.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.domain.exhibit_filters import TRL_LEVELS, ExhibitFilter, Facets, trl_filter
from bot.i18n import Translator, language_name
from bot.services.exhibits import Exhibit, title_of
from handlers import callbacks
from handlers.exhibit_filters import hall_text
from handlers.exhibits import booth_text
from handlers.web.auth import WebCaller, authenticated
from handlers.web.common import plain, services_of

PAGE = 20
QUERY_MAX = 200


def labels(tr: Translator) -> dict[str, str]:
    """The tab's texts for the page (plain text; it sets them as textContent)."""
    return {
        # Translators: the Mini App's tab with the exhibits catalogue.
        "catalogue": tr.label("Catalogue"),
        "search": tr.label("Search exhibits"),
        # Translators: the Mini App's catalogue, the button that runs the search.
        "find": tr.label("Find"),
        "field": tr.label("🔬 Field"),
        "hall": tr.label("🏛 Hall"),
        "trl_from": tr.label("TRL from"),
        "trl_to": tr.label("TRL up to"),
        "kind": tr.label("🤝 Deal kind"),
        "any": tr.label("Any"),
        "save": tr.label("Save"),
        # Translators: the Mini App's catalogue, on an exhibit already on the shortlist.
        "saved": tr.label("Saved"),
        "no_exhibits": tr.label("No exhibit matches this search."),
        "more": tr.label("More"),
    }


def _filter(request: web.Request, facets: Facets) -> ExhibitFilter:
    query = request.query
    fields = frozenset(query.getall("field", []))
    hall = query.get("hall") or None
    kind = query.get("kind") or None
    if not fields <= set(facets.fields) or (hall is not None and hall not in facets.halls):
        raise web.HTTPBadRequest()
    if kind is not None and kind not in facets.kinds:
        raise web.HTTPBadRequest()
    levels: list[int | None] = []
    for name in ("trl_min", "trl_max"):
        text = query.get(name, "")
        if text and not (text.isdecimal() and int(text) in TRL_LEVELS):
            raise web.HTTPBadRequest()
        levels.append(int(text) if text else None)
    chosen = trl_filter(ExhibitFilter(fields=fields, hall=hall, kind=kind), *levels)
    if chosen is None:
        raise web.HTTPBadRequest()
    return chosen


def _offset(request: web.Request) -> int:
    text = request.query.get("offset", "0")
    if not text.isdecimal() or int(text) > 100_000:
        raise web.HTTPBadRequest()
    return int(text)


def _entry(exhibit: Exhibit, tr: Translator, saved: set[int]) -> dict[str, Any]:
    lang, title = title_of(exhibit, tr.locale)
    return {
        "id": exhibit.id,
        "title": title,
        # The original's language, named, where the reader's is missing.
        "language": None if lang == tr.locale else language_name(lang, tr),
        "org": exhibit.data.organization,
        "booth": plain(booth_text(exhibit, tr)),
        "trl": exhibit.data.trl,
        "saved": exhibit.id in saved,
    }


def _options(
    values: tuple[str, ...], counts: dict[str, int], chosen: set[str], name: Any
) -> list[dict[str, Any]]:
    return [
        {"value": v, "label": name(v), "count": counts.get(v, 0), "selected": v in chosen}
        for v in values
        if counts.get(v, 0) or v in chosen
    ]


async def exhibits(request: web.Request) -> web.Response:
    """A page of exhibits for the search box and the filters, with the filters' choices."""
    who: WebCaller = await authenticated(request)
    services = services_of(request)
    tr = who.tr
    text = request.query.get("q", "").strip()[:QUERY_MAX]
    facets = await services.exhibits.facets()
    chosen = _filter(request, facets)
    offset = _offset(request)
    page = await services.exhibits.find(text, chosen, limit=PAGE, offset=offset)
    saved = {e.id for e in await services.exhibits.saved(who.delegate.id)}
    taxonomy = services.matching.taxonomy
    counts = page.counts
    return web.json_response(
        {
            "results": [_entry(hit.exhibit, tr, saved) for hit in page.hits],
            "total": page.total,
            "next": offset + PAGE if offset + PAGE < page.total else None,
            "filters": {
                "fields": sorted(
                    _options(
                        facets.fields,
                        dict(counts.fields),
                        set(chosen.fields),
                        lambda c: taxonomy.name(c, tr.locale),
                    ),
                    key=lambda o: str(o["label"]),
                ),
                "halls": _options(
                    facets.halls,
                    dict(counts.halls),
                    {chosen.hall} if chosen.hall else set(),
                    lambda h: hall_text(h, tr),
                ),
                "kinds": _options(
                    facets.kinds,
                    dict(counts.kinds),
                    {chosen.kind} if chosen.kind else set(),
                    lambda k: taxonomy.name(k, tr.locale),
                ),
                "trls": list(facets.trls),
                "trl_min": chosen.trl_min,
                "trl_max": chosen.trl_max,
            },
        }
    )


async def save(request: web.Request) -> web.Response:
    """Save: onto the shortlist the chat's /saved lists."""
    who = await authenticated(request)
    services = services_of(request)
    try:
        body = await request.json()
        exhibit_id = body["exhibit"]
    except (ValueError, KeyError, TypeError):
        raise web.HTTPBadRequest() from None
    if not isinstance(exhibit_id, int) or not callbacks.is_id(str(exhibit_id)):
        raise web.HTTPBadRequest()
    exhibit = await services.exhibits.get(exhibit_id)
    if exhibit is None:
        raise web.HTTPNotFound()
    await services.exhibits.save(who.delegate.id, exhibit.id)
    return web.json_response({"saved": True, "message": who.tr.label("Saved: see /saved")})


def add_routes(app: web.Application) -> None:
    """The catalogue's paths (the Mini App's request budget applies to them)."""
    app.router.add_get("/app/api/exhibits", exhibits)
    app.router.add_post("/app/api/exhibits/save", save)
