"""Out-of-range query parameters are refused with a 422 naming the parameter (found
by fuzzing the OpenAPI schema: they used to reach a date or a slice and fail)."""

import pytest
from django.contrib.auth.models import User

from yingji.core.models import Profile, Role


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url, param",
    [
        ("/api/v1/risk/risk-points?page=1207928313938276314513408", "page"),
        ("/api/v1/risk/hazards?page=0", "page"),
        ("/api/v1/risk/reports/quarterly?year=2025&quarter=5", "quarter"),
        ("/api/v1/enforcement/statistics?year=0", "year"),
        ("/api/v1/enforcement/publications?year=47646", "year"),
        ("/api/v1/enforcement/lookbacks?year=-3695265", "year"),
        ("/api/v1/enforcement/lookbacks/summary?year=0", "year"),
        ("/api/v1/monitoring/dead-letters?limit=-918", "limit"),
    ],
)
def test_out_of_range_parameters_are_a_422_naming_them(client, url, param):
    user = User.objects.create_user("sup", password="pw-123456")
    Profile.objects.create(user=user, role=Role.SUPERVISOR)
    client.force_login(user)
    r = client.get(url)
    assert r.status_code == 422
    assert any(param in err["loc"] for err in r.json()["detail"])


@pytest.mark.django_db
def test_bad_plan_body_and_dates_beyond_the_calendar_are_422(client):
    from yingji.core.models import Department

    user = User.objects.create_user("sup", password="pw-123456")
    Profile.objects.create(user=user, role=Role.SUPERVISOR)
    client.force_login(user)
    dept = Department.objects.create(name="执法处")
    r = client.post(
        "/api/v1/enforcement/plans",
        {
            "year": 6775328197217,
            "title": "x",
            "department_id": dept.pk,
            "default_proportion": -0.5,
            "publication_workdays": -7,
        },
        content_type="application/json",
    )
    assert r.status_code == 422
    assert {e["loc"][-1] for e in r.json()["detail"]} >= {
        "year",
        "default_proportion",
        "publication_workdays",
    }
    from pathlib import Path

    import yingji.workplan
    from yingji.core.departments import load_departments
    from yingji.workplan import services

    load_departments()
    plan = services.import_plan_file(
        Path(yingji.workplan.__file__).parent / "data" / "guangzhou_2022_plan.txt"
    )
    r = client.post(
        f"/api/v1/workplan/plans/{plan.pk}/supervise",
        {"as_of": "2068-01-01"},
        content_type="application/json",
    )
    assert r.status_code == 422 and "2068" in r.json()["detail"]
