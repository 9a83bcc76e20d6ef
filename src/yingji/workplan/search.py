"""The work plan's finder for the search box (core/search.py): a task by its
number (12, 第12项) or by words of its text, within the user's scope as the task
page has it (services.tasks_in_scope)."""

from __future__ import annotations

import re
from typing import Any

from yingji.core import search

_NUMBER = re.compile(r"^(?:第)?\s*(\d{1,4})\s*(?:项)?(?:任务)?$")


def task_number(query: str) -> int | None:
    """The task number a query names ("12", "第12项"), or None."""
    m = _NUMBER.match(query.strip())
    return int(m.group(1)) if m else None


def find_tasks(scope: Any, query: str, limit: int) -> list[search.Hit]:
    from django.db.models import Q
    from django.urls import reverse

    from yingji.workplan import services
    from yingji.workplan.models import Assignment, Task

    match = Q(text__contains=query)
    number = task_number(query)
    if number is not None:
        match |= Q(number=number)
    tasks = list(
        services.tasks_in_scope(scope, Task.objects.filter(match))
        .select_related("plan")
        .only("pk", "number", "text", "plan__year", "plan__title")
        .order_by("-plan__year", "plan_id", "number")[:limit]
    )
    leads: dict[int, list[str]] = {}
    for task_id, name in (
        Assignment.objects.filter(
            task_id__in=[t.pk for t in tasks], clause__isnull=True, role=Assignment.Role.LEAD
        )
        .order_by("position")
        .values_list("task_id", "department__name")
    ):
        leads.setdefault(task_id, []).append(name)
    return [
        search.Hit(
            title=t.short,
            url=reverse("workplan:task", args=[t.pk]),
            code=f"{t.plan.year}年第{t.number}项",
            detail=f"{t.plan.title}"
            + (f" · 牵头 {'、'.join(leads[t.pk])}" if t.pk in leads else ""),
        )
        for t in tasks
    ]


def register() -> None:
    search.register("task", "工作要点任务", find_tasks, order=10)
