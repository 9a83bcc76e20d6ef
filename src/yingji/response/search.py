"""Incident command in the search box (core/search.py): incidents by title or place
(they carry no code of their own), within the user's scope exactly as the
incident pages filter them (services.incidents_in_scope); emergency plans by
name, for everyone the plan library opens for. One query each; region names
joined, no boundary read."""

from __future__ import annotations

from typing import Any

from yingji.core import search
from yingji.core.search import Hit


def find_incidents(scope: Any, q: str, limit: int) -> list[Hit]:
    from django.db.models import Q
    from django.urls import reverse
    from django.utils import timezone

    from yingji.core.scope import NOTHING
    from yingji.response import levels
    from yingji.response.models import Incident
    from yingji.response.services import incidents_in_scope

    if scope == NOTHING:
        return []
    rows = (
        incidents_in_scope(scope)
        .filter(Q(title__icontains=q) | Q(address__icontains=q))
        .order_by("-occurred_at", "-pk")
        .values(
            "pk",
            "title",
            "level",
            "status",
            "occurred_at",
            "is_exercise",
            "district__name",
            "street__name",
        )[:limit]
    )
    statuses = dict(Incident.Status.choices)
    base = reverse("response:incidents")
    return [
        Hit(
            ("【演练】" if r["is_exercise"] else "") + r["title"],
            f"{base}{r['pk']}/",
            detail=" · ".join(
                p
                for p in (
                    levels.LABELS.get(r["level"], ""),
                    statuses.get(r["status"], ""),
                    (r["district__name"] or "") + (r["street__name"] or ""),
                    f"{timezone.localtime(r['occurred_at']):%Y-%m-%d %H:%M}",
                )
                if p
            ),
        )
        for r in rows
    ]


def find_plans(scope: Any, q: str, limit: int) -> list[Hit]:
    from django.urls import reverse

    from yingji.core.scope import NOTHING
    from yingji.response.models import EmergencyPlan

    if scope == NOTHING:  # the plan library opens for every user with a scope
        return []
    rows = (
        EmergencyPlan.objects.filter(title__icontains=q)
        .order_by("kind", "title", "pk")
        .values("pk", "title", "kind", "status", "version", "owner__name")[:limit]
    )
    kinds = dict(EmergencyPlan.Kind.choices)
    statuses = dict(EmergencyPlan.Status.choices)
    base = reverse("response:plans")
    return [
        Hit(
            r["title"],
            f"{base}{r['pk']}/",
            detail=" · ".join(
                p
                for p in (
                    kinds.get(r["kind"], ""),
                    statuses.get(r["status"], ""),
                    f"版本 {r['version']}" if r["version"] else "",
                    r["owner__name"] or "",
                )
                if p
            ),
        )
        for r in rows
    ]


def register() -> None:
    """Called from ResponseConfig.ready()."""
    search.register("incident", "突发事件", find_incidents, order=50)
    search.register("plan", "应急预案", find_plans, order=51)
