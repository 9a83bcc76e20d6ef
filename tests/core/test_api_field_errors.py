"""The server errors schemathesis found (issue 13) are 422s naming the field:
negative counts on incidents and their reports, a circle with one number in an
alert area, an integer beyond 64 bits in an accident, an unknown coordinate
system on an enterprise; a NUL character anywhere; and the work-plan lists
match their response schemas (two schemas of one name had overwritten each
other). Records: tests/scope_world.py."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.scope_world import PANYU, POINTS, TIANHE


@pytest.fixture
def w(two_districts, db):
    return two_districts


def as_user(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def fields(response) -> set[str]:
    """The fields a 422 names (pydantic's loc, or the keys of a service's message)."""
    detail = response.json()["detail"]
    if isinstance(detail, list):
        return {str(e["loc"][-1]) for e in detail}
    return set(detail)


@pytest.mark.parametrize("field", ["deaths", "missing", "injured", "evacuated"])
def test_a_negative_count_on_an_incident_names_the_field(w, field):
    duty = as_user(w.users["duty"])
    r = post(
        duty,
        "/api/v1/response/incidents",
        {"title": "内涝", "incident_type": "暴雨", field: -1, **_at(PANYU)},
    )
    assert r.status_code == 422 and fields(r) == {field}
    r = post(
        duty,
        f"/api/v1/response/incidents/{w.incidents[PANYU].pk}/reports",
        {"text": "续报", field: -3},
    )
    assert r.status_code == 422 and fields(r) == {field}


def test_the_pages_refuse_a_count_beyond_the_column_with_a_message(w):
    from yingji.response.models import Incident

    r = as_user(w.users["duty"]).post(
        "/response/incidents/new/",
        {"title": "超大数", "incident_type": "暴雨", "deaths": "99999999999"},
        follow=True,
    )
    assert r.status_code == 200
    assert "死亡人数须为 0 至 2147483647 之间的整数" in r.content.decode()
    assert not Incident.objects.filter(title="超大数").exists()


def test_a_circle_needs_three_numbers(w):
    r = post(
        as_user(w.users["py"]),
        "/api/v1/alerts/",
        {
            "hazard": "rainstorm",
            "colour": "yellow",
            "description": "暴雨",
            "areas": [{"circle": [22.97]}],
        },
    )
    assert r.status_code == 422 and fields(r) == {"circle"}


@pytest.mark.parametrize("field", ["deaths", "missing", "serious_injuries"])
def test_an_integer_beyond_64_bits_in_an_accident_names_the_field(w, field):
    r = post(
        as_user(w.users["th"]),
        "/api/v1/risk/accidents",
        {
            "code": "SG-BIG",
            "occurred_at": "2025-02-10T09:00:00+08:00",
            "accident_type": "fall",
            field: 2**70,
            **_at(TIANHE),
        },
    )
    assert r.status_code == 422 and fields(r) == {field}


def test_a_loss_beyond_the_ledgers_digits_names_the_field(w):
    r = post(
        as_user(w.users["th"]),
        "/api/v1/risk/accidents",
        {
            "code": "SG-BIG",
            "occurred_at": "2025-02-10T09:00:00+08:00",
            "accident_type": "fall",
            "direct_loss": "1e40",
        },
    )
    assert r.status_code == 422 and fields(r) == {"direct_loss"}


def test_an_unknown_coordinate_system_names_the_field(w):
    r = post(
        as_user(w.users["th"]),
        "/api/v1/risk/enterprises",
        {
            "credit_code": w.enterprises[TIANHE].credit_code,
            "name": "天河某化工有限公司",
            "industry_code": "C2614",
            "crs": "mars",
            **_at(TIANHE),
        },
    )
    assert r.status_code == 422 and fields(r) == {"crs"}
    assert "wgs84、gcj02 或 bd09" in r.json()["detail"]["crs"][0]


def test_a_nul_character_anywhere_is_a_422_naming_where(w):
    th = as_user(w.users["th"])
    r = post(th, "/api/v1/monitoring/rules/dry-run", {"name": "x", "sensor_codes": ["a\x00"]})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "sensor_codes", 0]
    r = th.get("/api/v1/risk/enterprises", {"q": "化工\x00"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "q"]


def test_the_work_plan_lists_match_their_schemas(w):
    from yingji.api import api

    schemas = api.get_openapi_schema()["components"]["schemas"]
    plan = as_user(w.users["leader"]).get("/api/v1/workplan/plans").json()[0]
    assert set(plan) == set(schemas["WorkPlanOut"]["required"])
    mine = as_user(w.users["py"]).get("/api/v1/workplan/mine").json()
    assert mine and set(mine[0]) == set(schemas["TaskOut"]["required"])


def test_no_two_api_schemas_share_a_name():
    """Ninja names a schema by its class: two of one name overwrite each other in
    the OpenAPI document (the work-plan lists were described as inspection plans)."""
    import importlib
    import pkgutil

    import ninja

    import yingji

    seen: dict[str, str] = {}
    clashes = []
    for module_info in pkgutil.walk_packages(yingji.__path__, "yingji."):
        if not module_info.name.rsplit(".", 1)[-1].startswith("api"):
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, ninja.Schema)
                and value.__module__ == module.__name__
            ):
                if name in seen:
                    clashes.append(f"{name}: {seen[name]} / {module.__name__}")
                seen[name] = module.__name__
    assert not clashes, clashes


def _at(code: str) -> dict:
    lon, lat = POINTS[code]
    return {"lon": lon, "lat": lat}
