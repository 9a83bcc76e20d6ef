"""Monitoring in the search box (core/search.py): sensors by code or name, within
the user's scope exactly as the sensor pages filter them (services.sensor_filter),
so a hit never opens a 404. One query; names of the district, street and
department joined (no boundary read)."""

from __future__ import annotations

from typing import Any

from yingji.core import search
from yingji.core.search import Hit


def find_sensors(scope: Any, q: str, limit: int) -> list[Hit]:
    from django.db.models import Case, IntegerField, Q, Value, When
    from django.urls import reverse

    from yingji.core.scope import NOTHING
    from yingji.monitoring.models import Sensor, SensorType
    from yingji.monitoring.services import sensor_filter

    if scope == NOTHING:
        return []
    rows = (
        Sensor.objects.filter(sensor_filter(scope))
        .filter(Q(code__icontains=q) | Q(name__icontains=q))
        .annotate(
            exact=Case(
                When(code__iexact=q, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("exact", "code")
        .values("pk", "code", "name", "type", "district__name", "street__name", "department__name")[
            :limit
        ]
    )
    labels = dict(SensorType.choices)
    return [
        Hit(
            r["name"],
            reverse("monitoring:sensor", args=[r["pk"]]),
            code=r["code"],
            detail=" · ".join(
                p
                for p in (
                    labels.get(r["type"], ""),
                    (r["district__name"] or "") + (r["street__name"] or ""),
                    r["department__name"] or "",
                )
                if p
            ),
        )
        for r in rows
    ]


def register() -> None:
    """Called from MonitoringConfig.ready()."""
    search.register("sensor", "监测传感器", find_sensors, order=30)
