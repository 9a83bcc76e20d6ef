"""Template filters of the enforcement pages."""

from django import template

register = template.Library()


@register.filter
def category_label(code: str) -> str:
    """危险化学品使用 for hc_use: the Chinese name of a draw category."""
    from yingji.enforcement.services import CATEGORY_LABELS

    return CATEGORY_LABELS.get(code, code)
