"""Near-duplicate department names (pure: no database)."""

import itertools
import re
from pathlib import Path

from yingji.core import deptnames

SEED = Path("/work/shared/seeds/000_fcd55c30be0749a7.txt")

# Every department named in the seed's owner parentheses, as written.
SEED_NAMES = [
    "机关党委",
    "办公室",
    "新闻处",
    "人事处",
    "机关纪委",
    "综合处",
    "科技和统计处",
    "减灾处",
    "指挥处",
    "法规处",
    "三防处",
    "三防指挥中心",
    "地震局",
    "救援预案处",
    "防火处",
    "基础处",
    "危化处",
    "指挥中心",
    "执法处",
    "地震监测中心",
    "科技处",
    "火灾处",
    "火灾管理处",
]

SUGGESTED = {
    frozenset({"科技处", "科技和统计处"}),
    frozenset({"火灾处", "火灾管理处"}),
    frozenset({"火灾处", "防火处"}),
    frozenset({"火灾管理处", "防火处"}),
    frozenset({"指挥中心", "三防指挥中心"}),
}

# Look alike but are different bodies; each is kept apart by a named part of the rule.
NOT_SUGGESTED = [
    ("指挥处", "指挥中心"),  # a 处 is not a 中心
    ("三防处", "三防指挥中心"),
    ("指挥处", "三防指挥中心"),
    ("地震局", "地震监测中心"),  # a 局 is not a 中心
    ("机关党委", "机关纪委"),  # 党委 and 纪委 are different organ types
    ("减灾处", "火灾处"),  # one shared character of two is not enough
    ("减灾处", "火灾管理处"),
    ("三防处", "防火处"),
    ("综合处", "执法处"),
    ("科技处", "法规处"),
]


def test_seed_names_list_is_the_seed():
    assert len(set(SEED_NAMES)) == 23
    if not SEED.exists():
        return  # the shared seed lives outside the repository; the list above is the contract
    text = SEED.read_text(encoding="utf-8")
    found = []
    for inner in re.findall(r"[((]([^()()]*)[))]", text):
        for part in re.split(r"[、,,]", inner):
            part = part.strip()
            if re.fullmatch(r"[\u4e00-\u9fff]{2,8}(处|室|委|局|中心)", part) and part not in found:
                found.append(part)
    assert found == SEED_NAMES


def test_exactly_the_known_near_duplicates_of_the_seed_are_suggested():
    pairs = deptnames.similar_pairs(SEED_NAMES)
    assert {frozenset((a, b)) for a, b, _ in pairs} == SUGGESTED


def test_reasons_are_chinese_and_name_the_rule():
    reasons = {frozenset((a, b)): r for a, b, r in deptnames.similar_pairs(SEED_NAMES)}
    assert reasons[frozenset({"科技处", "科技和统计处"})] == "去掉通用后缀后相同"
    assert reasons[frozenset({"火灾处", "火灾管理处"})] == "去掉通用后缀后相同"
    assert reasons[frozenset({"指挥中心", "三防指挥中心"})] == "名称包含关系"
    assert reasons[frozenset({"火灾处", "防火处"})] == "同义词:防火≈火灾"


def test_the_other_seed_pairs_are_not_suggested():
    for a, b in NOT_SUGGESTED:
        assert deptnames.similar(a, b) is None, (a, b)
    all_pairs = {frozenset(p) for p in itertools.combinations(SEED_NAMES, 2)}
    assert len(all_pairs - SUGGESTED) == 253 - 5


def test_full_width_and_spaces_are_normalised():
    assert deptnames.normalize(" 科技 处\u3000") == "科技处"
    assert deptnames.normalize("ABC处") == "ABC处"
    assert deptnames.similar("科技 处", "科技处") == "规范化后相同"


def test_city_prefix_is_ignored():
    assert deptnames.similar("市地震局", "地震局") == "去掉市名前缀后相同"
    assert deptnames.similar("广州市水务局", "市水务局") == "去掉市名前缀后相同"
    # only one prefix: 市市场监管局 is 市场监管, not 场监管
    assert deptnames.analyse("市市场监管局").stem == "市场监管"


def test_literal_similarity_catches_spelling_variants():
    reason = deptnames.similar("科技信息化处", "科技和信息化处")
    assert reason is not None and reason.startswith("字面相似度 0.")


def test_containment_only_at_either_end():
    assert deptnames.similar("三防指挥中心", "指挥中心") == "名称包含关系"
    # 综合 in the middle of 风险监测和综合减灾 is another division
    assert deptnames.similar("综合处", "风险监测和综合减灾处") is None


def test_synonyms_are_data():
    rules = deptnames.NameRules(synonyms=(frozenset({"应急", "急救"}),))
    assert deptnames.similar("应急处", "急救处", rules) == "同义词:应急≈急救"
    assert deptnames.similar("防火处", "火灾处", rules) is None


def test_keyed_comparison_skips_a_departments_own_aliases():
    entries = [(1, "危化处"), (2, "基础处"), (1, "危险化学品处"), (2, "安全生产基础处")]
    assert deptnames.similar_keyed(entries) == []
    entries.append((3, "危化品处"))
    assert [(a, b) for a, _, b, _, _ in deptnames.similar_keyed(entries)] == [(1, 3)]


def test_district_governments_are_not_near_duplicates_of_each_other():
    names = [f"{d}区政府" for d in "荔湾 越秀 海珠 天河 白云 黄埔 番禺 花都 南沙 从化 增城".split()]
    assert deptnames.similar_pairs(names) == []
