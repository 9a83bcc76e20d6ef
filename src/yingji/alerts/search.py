"""Warnings in the search box (core/search.py): by CAP identifier or headline.

The warning list and pages are open to every signed-in user (warnings are
public once released, and drafts are the bureau's shared work), so the finder
filters exactly as the list does: by nothing but the query. One query; the
newest first, an exact identifier before everything else.
"""

from __future__ import annotations

from typing import Any

from yingji.core import search
from yingji.core.search import Hit


def find_warnings(scope: Any, q: str, limit: int) -> list[Hit]:
    from django.db.models import Case, IntegerField, Q, Value, When
    from django.urls import reverse

    from yingji.alerts import conventions
    from yingji.alerts import workflow as wf
    from yingji.alerts.models import Alert

    rows = (
        Alert.objects.filter(Q(identifier__icontains=q) | Q(headline__icontains=q))
        .annotate(
            exact=Case(
                When(identifier__iexact=q, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("exact", "-created_at", "-pk")
        .values("pk", "identifier", "headline", "state", "colour", "sent")[:limit]
    )
    hits = []
    for r in rows:
        released = r["sent"] is not None  # a draft's identifier is internal until release
        detail = [
            wf.STATE_LABELS.get(r["state"], ""),
            f"{conventions.COLOUR_NAMES[r['colour']]}预警" if r["colour"] else "",
        ]
        hits.append(
            Hit(
                r["headline"],
                reverse("alerts:detail", args=[r["pk"]]),
                code=r["identifier"] if released else "",
                detail=" · ".join(p for p in detail if p),
            )
        )
    return hits


def register() -> None:
    """Called from AlertsConfig.ready()."""
    search.register("warning", "预警", find_warnings, order=40)
