"""Template filters that show what a person reads in Chinese: audit entries by the
fields' verbose names, people by their names (not account names), regions by
their names (not codes) and durations in 小时/分钟."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def _field_label(model: Any, name: str) -> str:
    """A stored field name ("approver_id", "state") as its verbose name ("审批人")."""
    if model is None:
        return name
    for candidate in (name, name[:-3] if name.endswith("_id") else None):
        if not candidate:
            continue
        try:
            return str(model._meta.get_field(candidate).verbose_name)
        except Exception:  # FieldDoesNotExist and friends: try the next form
            continue
    return name


@register.filter
def field_labels(entry: Any) -> list[str]:
    """An audit entry's changed fields, by their verbose names; never the primary
    key (a new record lists it, but no one sets or reads a row's id)."""
    model = entry.content_type.model_class() if entry.content_type_id else None
    pk = {model._meta.pk.name, model._meta.pk.attname} if model is not None else set()
    return [_field_label(model, f) for f in (entry.changed_fields or []) if f not in pk]


@register.filter
def person_name(user: Any) -> str:
    """A user by name: the profile's full name, else the account name; "系统" for none."""
    if user is None:
        return "系统"
    profile = getattr(user, "profile", None)
    name = getattr(profile, "full_name", "") if profile is not None else ""
    return name or user.get_full_name() or user.get_username()


@register.filter
def actor_name(entry: Any) -> str:
    """Who made an audited change, by name (a system label such as 监测预警 as is)."""
    if entry.actor_id:
        return person_name(entry.actor)
    return entry.actor_label or "系统"


@register.filter
def duration(seconds: Any) -> str:
    """Seconds as a person says them: '24小时', '1小时30分钟', '2分钟', '45秒'."""
    try:
        total = int(seconds)
    except (TypeError, ValueError):
        return ""
    if total <= 0:
        return ""
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{days}天" if days else "",
        f"{hours}小时" if hours else "",
        f"{minutes}分钟" if minutes else "",
        f"{secs}秒" if secs else "",
    ]
    return "".join(parts)


@register.filter
def region_names(codes: Any) -> str:
    """Region codes (a list, or one code) as their names: '天河区、石牌街道'; a code
    no region has stays as it is."""
    from yingji.core.models import Region

    if isinstance(codes, str):
        codes = [codes]
    codes = [c for c in codes or [] if c]
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return "、".join(names.get(c, c) for c in codes)
