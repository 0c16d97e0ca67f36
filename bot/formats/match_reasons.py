"""Match reasons and field names as sentences in any shipped language (no Telegram here).

The bot's cards and the organizer's CLI (`matchmaker matches --lang L`) both use these.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot.domain.matching import Reason
from bot.domain.taxonomy import Taxonomy
from bot.i18n import FSI, PDI, Translator, joined, language_name, without_bidi_marks


def field_names(codes: Sequence[str], tr: Translator, taxonomy: Taxonomy) -> str:
    """Field (or broad field, or kind) names in the viewer's language, as a list."""
    return joined((taxonomy.name(code, tr.locale) for code in codes), tr, enumeration=True)


def reason_text(reason: Reason, tr: Translator, taxonomy: Taxonomy) -> str:
    """One reason two delegates match, as a sentence in the viewer's language."""
    names = field_names(reason.codes, tr, taxonomy) if reason.kind != "common_language" else ""
    theirs = reason.direction != "they_need"
    kind = reason.kind
    if kind == "same_field":
        if theirs:
            return tr._("Their offer answers your need: {fields}", fields=names)
        return tr._("Your offer answers their need: {fields}", fields=names)
    if kind == "same_broad_field":
        if theirs:
            return tr._("They offer related technology in {fields}", fields=names)
        return tr._("They look for related technology in {fields}", fields=names)
    if kind == "similar_wording":
        return tr._("Your descriptions are worded alike")
    if kind == "close_offer":
        # The quote is the counterpart's own words, in their language: isolated so an Arabic
        # phrase keeps its order inside an English sentence and the reverse.
        quote = f"{FSI}{reason.quote}{PDI}"
        if theirs:
            # Translators: {phrase} is a quotation from the counterpart's offer.
            return tr._("Their offer is close to your need: “{phrase}”", phrase=quote)
        # Translators: {phrase} is a quotation from the viewer's own offer.
        return tr._("Your offer is close to their need: “{phrase}”", phrase=quote)
    if kind == "same_kind":
        return tr._("You both want the same kind of deal: {kinds}", kinds=names)
    if kind == "investor":
        if names:
            return tr._("They invest in {fields}, and you are seeking investment", fields=names)
        return tr._("They invest, and you are seeking investment")
    if kind == "seeks_investment":
        if names:
            return tr._("They are seeking investment in {fields}, which you provide", fields=names)
        return tr._("They are seeking investment, which you provide")
    if kind == "intermediary":
        return tr._("They are a technology-transfer agency and can find you partners")
    if kind == "seeks_partners":
        return tr._("They are looking for partners or distributors, which you can provide")
    languages = joined((language_name(code, tr) for code in reason.codes), tr)
    return tr._("You can meet in {languages}", languages=languages)


def reason_plain(reason: Reason, tr: Translator, taxonomy: Taxonomy) -> str:
    """The reason as plain text (for files and terminals rather than Telegram's HTML)."""
    return without_bidi_marks(html.unescape(reason_text(reason, tr, taxonomy)))
