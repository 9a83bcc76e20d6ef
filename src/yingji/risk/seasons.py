"""Seasonal risk notes for reports and consultation sheets (pure; no Django).

Guangdong's flood season (汛期) runs 15 April to 15 October (前汛期 April–June
is the dragon-boat rains, 后汛期 July–September the typhoon season); summer
heat brings confined-space poisoning and heat stroke; the dry season
(November–March) forest and fire risks. The notes are advice text, kept here
as data so the report and the consultation sheet say the same thing.
"""

from __future__ import annotations

import datetime as dt

FLOOD_SEASON = ((4, 15), (10, 15))

NOTES_BY_MONTH: dict[int, list[str]] = {
    1: [
        "岁末年初生产经营活动集中,防范赶工期、抢进度引发事故",
        "冬季用火用电用气增加,防范火灾和一氧化碳中毒",
    ],
    2: ["春节前后停产复工复产,加强复工复产安全检查", "烟花爆竹经营储存安全"],
    3: ["春季森林防火关键期", "复工复产后有限空间作业和动火作业风险"],
    4: ["进入汛期(前汛期“龙舟水”),防范强降雨引发内涝、山体滑坡", "清明祭扫森林防火"],
    5: ["前汛期强降雨和雷雨大风", "“安全生产月”前隐患排查"],
    6: ["“龙舟水”强降雨,地下空间、低洼地带防浸水", "高温天气有限空间中毒窒息风险上升"],
    7: [
        "后汛期台风、暴雨,做好“五停”准备(停工、停产、停业、停运、停课)",
        "高温作业中暑、危险化学品储存温度控制",
    ],
    8: ["台风季,建筑工地塔吊、脚手架和临时设施防风", "高温天气危化品储运安全"],
    9: ["台风和秋季强降雨", "中秋国庆前安全检查,人员密集场所消防安全"],
    10: ["国庆长假人员密集场所和交通运输安全", "汛期结束前防范秋汛"],
    11: ["秋冬季森林防火", "年底赶工期建筑施工安全"],
    12: ["冬季用火用电用气安全", "岁末年初安全生产大检查"],
}


def in_flood_season(day: dt.date) -> bool:
    (m1, d1), (m2, d2) = FLOOD_SEASON
    return dt.date(day.year, m1, d1) <= day <= dt.date(day.year, m2, d2)


def notes_for(start: dt.date, end: dt.date) -> list[str]:
    """The seasonal notes of every month touched by [start, end], in order, once each."""
    notes: list[str] = []
    day = dt.date(start.year, start.month, 1)
    while day <= end:
        for note in NOTES_BY_MONTH[day.month]:
            if note not in notes:
                notes.append(note)
        day = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    if (
        any(in_flood_season(d) for d in (start, end))
        or (start.month < 4 and end.month > 10)
        or start.year != end.year
    ):
        notes.insert(
            0,
            f"时段处于或跨越汛期({FLOOD_SEASON[0][0]}月{FLOOD_SEASON[0][1]}日至"
            f"{FLOOD_SEASON[1][0]}月{FLOOD_SEASON[1][1]}日)",
        )
    return notes
