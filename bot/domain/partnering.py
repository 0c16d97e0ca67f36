"""Partnering and service needs: what a delegate seeks that is not a technology.

"A pilot site for our agrivoltaic panels" names the seeker's own technology (solar), but what it
asks for is a pilot site; a solar company is no answer, a farm that hosts trials is. So needs
and offers are read for the resources below, in the five languages: a need seeking one is
answered by an ordinary offer of an organization that has it, not only by agencies.
"""

from __future__ import annotations

import unicodedata

# resource -> words that name it (casefolded; a Latin or Cyrillic word matches as a prefix of a
# word, Han, Hangul and Arabic terms match as substrings).
RESOURCES: dict[str, tuple[str, ...]] = {
    "pilot_site": (
        "pilot site",
        "pilot plant",
        "pilot project",
        "pilot customer",
        "trial site",
        "pilot",
        "中试",
        "试点",
        "示范基地",
        "示范园",
        "中试基地",
        "试验基地",
        "실증",
        "시범 사업",
        "파일럿",
        "пилотн",
        "موقع تجريبي",
        "تجريبي",
        "مشروع تجريبي",
    ),
    "test_bed": (
        "test bed",
        "testbed",
        "test site",
        "test range",
        "proving ground",
        "test facility",
        "测试场",
        "试验场",
        "测试基地",
        "试验区",
        "테스트베드",
        "실증 해역",
        "시험장",
        "시험 시설",
        "полигон",
        "испытательн",
        "стенд",
        "منصة اختبار",
        "ميدان اختبار",
        "حقل تجارب",
    ),
    "demo_site": (
        "demonstration farm",
        "demo farm",
        "demonstration site",
        "demonstration",
        "showroom",
        "field day",
        "示范",
        "展示中心",
        "样板",
        "시범 농장",
        "시범농장",
        "전시장",
        "시연",
        "демонстрацион",
        "показательн",
        "шоурум",
        "مزرعة نموذجية",
        "نموذجية",
        "صالة عرض",
        "عرض توضيحي",
    ),
    "distribution": (
        "distributor",
        "distribution",
        "dealer",
        "reseller",
        "sales channel",
        "channel partner",
        "sales network",
        "importer",
        "经销商",
        "代理商",
        "分销",
        "渠道",
        "销售网络",
        "进口商",
        "유통",
        "판매 채널",
        "채널 파트너",
        "대리점",
        "총판",
        "수입업체",
        "дистрибьют",
        "дилер",
        "сбыт",
        "торгов",
        "продаж",
        "موزع",
        "توزيع",
        "شبكة مبيعات",
        "قنوات البيع",
        "وكيل",
        "مستورد",
    ),
    "data": (
        "dataset",
        "data set",
        "field data",
        "sensor data",
        "operational data",
        "data",
        "数据",
        "数据集",
        "데이터",
        "данны",
        "датасет",
        "بيانات",
    ),
}


def _fold(text: str) -> str:
    return " " + " ".join(unicodedata.normalize("NFKC", text).casefold().split()) + " "


def _mentions(folded: str, term: str) -> bool:
    first = term[0]
    if first.isascii() or "\u0400" <= first <= "\u04ff":
        # A word beginning: " pilot" matches "pilot site" and "pilots", not "autopilot".
        return f" {term}" in folded or f"-{term}" in folded or f"({term}" in folded
    return term in folded


def resources(text: str) -> frozenset[str]:
    """The partnering resources a text mentions (pilot_site, test_bed, demo_site, ...)."""
    folded = _fold(text)
    return frozenset(
        name for name, terms in RESOURCES.items() if any(_mentions(folded, t) for t in terms)
    )
