"""Template filters of the response pages: levels as a person reads them."""

from django import template

from yingji.response import levels

register = template.Library()


@register.filter
def level_numeral(level: str) -> str:
    """Ⅱ for "II": a stored level in the Roman numerals Chinese documents use
    ("Ⅱ级事件", "Ⅱ级行动卡")."""
    return levels.NUMERALS.get(level, level)


@register.filter
def response_level(level: str) -> str:
    """二级响应 for "II"."""
    return levels.RESPONSE_LABELS.get(level, level)
