"""The classifier reads technology texts in five languages and scripts."""

from __future__ import annotations

import pytest

from bot.domain.classifier import Classifier
from bot.domain.textnorm import (
    detect_language,
    normalize_arabic,
    stem_russian,
    strip_korean_particles,
    tokenize,
    transliterate,
)
from locales.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(load_taxonomy())


def top_codes(classifier: Classifier, text: str, n: int = 1) -> list[str]:
    return [f.code for f in classifier.classify(text, limit=n)]


ENGLISH = [
    ("Rooftop solar PV modules and inverters", "energy.solar_pv"),
    ("CT and MRI scanners for district hospitals", "med.imaging"),
    ("Drip irrigation kits for orchards", "agri.irrigation"),
    ("Membrane bioreactors for municipal sewage", "env.wastewater"),
    ("Five-axis machining centres", "mfg.cnc_machine_tools"),
    ("Looking for tunnel boring machines", "con.tunnelling"),
]
CHINESE = [
    ("屋顶分布式光伏电站", "energy.solar_pv"),
    ("污水处理厂污泥脱水设备", "env.wastewater"),
    ("温室大棚补光灯", "agri.greenhouse"),
    ("智能水表远程抄表系统", "env.water_networks"),
    ("盾构机", "con.tunnelling"),
    ("寻求锂离子电池正极材料技术", "energy.batteries"),
]
RUSSIAN = [  # inflected forms that differ from the dictionary forms in the taxonomy
    ("Ищем поставщиков тепловых насосов", "energy.geothermal_heat_pumps"),
    ("Переработка пластиковых бутылок", "env.plastic_recycling"),
    ("Станки с ЧПУ для металлообработки", "mfg.cnc_machine_tools"),
    ("Оснащение ферм системами капельного орошения", "agri.irrigation"),
    ("Уличное освещение светодиодными светильниками", "elec.led_lighting"),
    ("Очистка сточных вод на предприятиях", "env.wastewater"),
]
ARABIC = [  # with and without diacritics, hamza and ta marbuta variants, clitic prefixes
    ("ألواح شمسية للمنازل", "energy.solar_pv"),
    ("الواح شمسيه للمنازل", "energy.solar_pv"),
    ("تَحْلِيَةُ مِيَاهِ البَحْرِ", "env.desalination"),
    ("تحلية مياه البحر", "env.desalination"),
    ("وأجهزة التنفس الصناعي للمستشفيات", "med.critical_care"),
    ("نبحث عن أنظمة الري بالتنقيط", "agri.irrigation"),
]
KOREAN = [  # particles attached to the nouns, spacing varied
    ("태양광 패널을 공급합니다", "energy.solar_pv"),
    ("소형모듈원자로를 개발합니다", "energy.nuclear"),
    ("스마트팜에서 쓰는 수경재배 시스템", "agri.greenhouse"),
    ("하수처리장의 슬러지 처리", "env.wastewater"),
    ("산업용 레이저 절단기가 필요합니다", "mfg.laser"),
    ("전기차 급속충전기", "trans.ev_charging"),
]
ABBREVIATIONS = [
    ("PV", "energy.solar_pv"),
    ("EV charging", "trans.ev_charging"),
    ("MRI", "med.imaging"),
    ("IoT gateways", "ict.iot"),
    ("LED lamps", "elec.led_lighting"),
    ("BIM", "con.bim"),
    ("5G", "ict.mobile_networks"),
    ("Аппараты ИВЛ", "med.critical_care"),
]


@pytest.mark.parametrize(
    ("text", "code"), ENGLISH + CHINESE + RUSSIAN + ARABIC + KOREAN + ABBREVIATIONS
)
def test_top_field(classifier: Classifier, text: str, code: str) -> None:
    assert top_codes(classifier, text) == [code]


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("温室植物生长LED补光灯", {"agri.greenhouse", "elec.led_lighting"}),
        ("светодиодные фитолампы для теплиц", {"agri.greenhouse", "elec.led_lighting"}),
        ("全钒液流电池储能系统，适用于微电网", {"energy.storage", "energy.batteries"}),
    ],
)
def test_mixed_topics_give_several_fields(
    classifier: Classifier, text: str, codes: set[str]
) -> None:
    assert codes <= set(top_codes(classifier, text, n=3))


def test_longest_keyword_wins(classifier: Classifier) -> None:
    # "太阳能电池" is a solar cell, not a battery
    assert top_codes(classifier, "太阳能电池板", n=3) == ["energy.solar_pv"]


def test_short_abbreviations_need_capitals(classifier: Classifier) -> None:
    assert "env.plastic_recycling" not in top_codes(classifier, "pet food", n=3)
    assert top_codes(classifier, "PET bottle flakes") == ["env.plastic_recycling"]


def test_scores_are_ranked_probabilities(classifier: Classifier) -> None:
    scores = classifier.classify("Solar panels and wind turbines for islands", limit=5)
    assert {s.code for s in scores[:2]} == {"energy.solar_pv", "energy.wind"}
    assert all(0.0 < s.score < 1.0 for s in scores)
    assert [s.evidence for s in scores] == sorted((s.evidence for s in scores), reverse=True)


def test_unrelated_text_has_no_field(classifier: Classifier) -> None:
    assert classifier.classify("Hello, nice to meet you") == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Looking for investors", "investment"),
        ("寻求投资", "investment"),
        ("Ищем дистрибьюторов в Китае", "partnership"),
        ("寻找海外代理商", "partnership"),
        ("licence for our patented process", "licence"),
    ],
)
def test_deal_kinds(classifier: Classifier, text: str, kind: str) -> None:
    assert kind in classifier.detect_kinds(text)


def test_broad_fields_follow_specific_ones(classifier: Classifier) -> None:
    analysis = classifier.analyse("地源热泵供暖")
    assert analysis.broad[0].code == "energy"
    assert analysis.language == "zh"


# --- normalisation helpers -------------------------------------------------------------------


def test_arabic_normalisation() -> None:
    assert normalize_arabic("أَإِآ ة ى ـــ") == "ااا ه ي "
    assert normalize_arabic("مَدْرَسَةٌ") == "مدرسه"


@pytest.mark.parametrize(
    ("word", "stem"),
    [("원자로를", "원자로"), ("협력을", "협력"), ("센터에서", "센터"), ("수소", "수소")],
)
def test_korean_particles(word: str, stem: str) -> None:
    assert strip_korean_particles(word) == stem


@pytest.mark.parametrize(
    ("forms", "stem"),
    [
        (("насос", "насосы", "насосов", "насосами"), "насос"),
        (("сеть", "сети", "сетей"), "сет"),
        (("мебель", "мебели"), "мебел"),
    ],
)
def test_russian_stems_agree(forms: tuple[str, ...], stem: str) -> None:
    assert {stem_russian(f) for f in forms} == {stem}


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("LED路灯", "zh"),
        ("소형 모듈 원자로(SMR)", "ko"),
        ("Станки с ЧПУ", "ru"),
        ("إعادة تدوير PET", "ar"),
        ("Solar panels", "en"),
        ("2024", None),
    ],
)
def test_detect_language(text: str, lang: str | None) -> None:
    assert detect_language(text) == lang


def test_tokenize_splits_scripts_and_keeps_abbreviations() -> None:
    tokens = tokenize("温室LED补光灯")
    assert [(t.surface, t.script, t.abbr) for t in tokens] == [
        ("温室", "han", False),
        ("LED", "latin", True),
        ("补光灯", "han", False),
    ]


def test_transliterate() -> None:
    assert transliterate("Томск") == "tomsk"
    assert transliterate("华为") == "huawei"
