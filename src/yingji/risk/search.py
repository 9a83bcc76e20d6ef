"""The risk module's finders for the search box (core/search.py): a hazard by
its code or words of its description, an enterprise by its unified social
credit code or its name. Each within the user's scope exactly as the ledger
pages (services.hazards_in_scope, services.enterprises_in_scope), so a hit
always opens."""

from __future__ import annotations

from typing import Any

from yingji.core import search


def _code(query: str) -> str:
    return query.replace(" ", "").upper()


def find_hazards(scope: Any, query: str, limit: int) -> list[search.Hit]:
    from django.db.models import Q
    from django.urls import reverse

    from yingji.risk import hazardflow, services

    rows = (
        services.hazards_in_scope(scope)
        .filter(Q(code__startswith=_code(query)) | Q(description__contains=query))
        .order_by("-found_on", "-id")
        .values("pk", "code", "description", "state", "enterprise__name", "district__name")[:limit]
    )
    return [
        search.Hit(
            title=r["description"] if len(r["description"]) <= 40 else r["description"][:39] + "…",
            url=reverse("risk:hazard", args=[r["pk"]]),
            code=r["code"],
            detail=" · ".join(
                p
                for p in (
                    r["enterprise__name"],
                    r["district__name"],
                    hazardflow.STATE_LABELS.get(r["state"], ""),
                )
                if p
            ),
        )
        for r in rows
    ]


def find_enterprises(scope: Any, query: str, limit: int) -> list[search.Hit]:
    from django.db.models import Q
    from django.urls import reverse

    from yingji.risk import services

    rows = (
        services.enterprises_in_scope(scope)
        .filter(Q(credit_code__startswith=_code(query)) | Q(name__contains=query))
        .order_by("name", "id")
        .values("pk", "name", "credit_code", "district__name", "street__name", "address")[:limit]
    )
    return [
        search.Hit(
            title=r["name"],
            url=reverse("risk:enterprise", args=[r["pk"]]),
            code=r["credit_code"],
            detail="".join(n for n in (r["district__name"], r["street__name"]) if n)
            or r["address"],
        )
        for r in rows
    ]


def register() -> None:
    search.register("hazard", "隐患", find_hazards, order=20)
    search.register("enterprise", "企业", find_enterprises, order=21)
