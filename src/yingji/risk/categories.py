"""The seed's key categories of enterprises (重点行业领域) and the hazard
vocabulary: pure data, no Django, so parsers and benchmarks use the same lists."""

from __future__ import annotations

# code -> Chinese label; the order is the order of the seed (items 28, 31-33).
KEY_CATEGORIES: dict[str, str] = {
    "hc_production": "危险化学品生产",
    "hc_storage": "危险化学品储存",
    "hc_trade": "危险化学品经营",
    "hc_use": "危险化学品使用",
    "major_hazard_installation": "重大危险源",
    "town_gas": "城镇燃气",
    "crowded_place": "人员密集场所(消防)",
    "transport": "交通运输",
    "construction": "建筑施工",
    "confined_space": "有限空间",
    "dust_explosion": "粉尘涉爆",
    "ammonia_refrigeration": "涉氨制冷",
    "non_coal_mine": "非煤矿山",
    "steel_metallurgy": "钢铁冶金",
    "aluminium_casting": "铝加工(深井铸造)",
    "oil_gas_storage": "大型油气储存基地",
    "chemical_park": "化工园区",
    "pipeline": "油气长输管道",
}
CATEGORY_BY_LABEL = {label: code for code, label in KEY_CATEGORIES.items()}

HAZARD_CATEGORIES: dict[str, str] = {
    "equipment": "设备设施",
    "operation": "作业行为",
    "management": "安全管理",
    "environment": "作业环境",
    "fire": "消防安全",
    "electrical": "电气安全",
    "hazardous_chemicals": "危险化学品",
    "other": "其他",
}

# 生产安全事故类别 after GB 6441-1986 (企业职工伤亡事故分类).
ACCIDENT_TYPES: dict[str, str] = {
    "struck_by_object": "物体打击",
    "vehicle": "车辆伤害",
    "machinery": "机械伤害",
    "lifting": "起重伤害",
    "electric_shock": "触电",
    "drowning": "淹溺",
    "scald": "灼烫",
    "fire": "火灾",
    "fall": "高处坠落",
    "collapse": "坍塌",
    "roof_fall": "冒顶片帮",
    "water_inrush": "透水",
    "blasting": "放炮",
    "explosive": "火药爆炸",
    "gas_explosion": "瓦斯爆炸",
    "boiler_explosion": "锅炉爆炸",
    "vessel_explosion": "容器爆炸",
    "other_explosion": "其他爆炸",
    "poisoning": "中毒和窒息",
    "other": "其他伤害",
}


def parse_categories(text: str) -> tuple[list[str], list[str]]:
    """Split a cell such as "城镇燃气、有限空间" (or codes) into category codes.

    Returns (codes, unknown parts); separators 、,,;;/| and whitespace.
    """
    import re

    codes: list[str] = []
    unknown: list[str] = []
    for part in re.split(r"[、,,;;/|\s]+", text or ""):
        part = part.strip()
        if not part:
            continue
        code = part if part in KEY_CATEGORIES else CATEGORY_BY_LABEL.get(part)
        if code is None:
            unknown.append(part)
        elif code not in codes:
            codes.append(code)
    return codes, unknown
