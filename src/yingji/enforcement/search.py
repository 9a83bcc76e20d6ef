"""Enforcement's finder for the search box (core/search.py): a penalty case by
its case number (any part: 2022, 〔2022〕0003, 0003) or by its party's name,
within the user's scope as the case list (services.cases_in_scope)."""

from __future__ import annotations

from typing import Any

from yingji.core import search


def find_cases(scope: Any, query: str, limit: int) -> list[search.Hit]:
    from django.db.models import Q
    from django.urls import reverse

    from yingji.enforcement import casefsm, services

    rows = (
        services.cases_in_scope(scope)
        .filter(Q(number__contains=query.replace(" ", "")) | Q(enterprise__name__contains=query))
        .order_by("-opened_on", "-id")
        .values("pk", "number", "state", "opened_on", "enterprise__name", "department__name")[
            :limit
        ]
    )
    return [
        search.Hit(
            title=r["enterprise__name"],
            url=reverse("enforcement:case", args=[r["pk"]]),
            code=r["number"],
            detail=f"{casefsm.STATE_LABELS.get(r['state'], r['state'])} · "
            f"{r['department__name']} · {r['opened_on']:%Y-%m-%d} 立案",
        )
        for r in rows
    ]


def register() -> None:
    search.register("penalty_case", "执法案件", find_cases, order=60)
