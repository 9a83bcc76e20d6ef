import datetime as dt

import pytest

from yingji.core.models import Role
from yingji.workplan.models import ProgressReport

from .factories import plan_with_tasks, user

pytestmark = pytest.mark.django_db
API = "/api/v1/workplan"


@pytest.fixture
def world(client):
    w = plan_with_tasks()
    w["zonghe_user"] = user("zonghe", department=w["zonghe"])
    w["supervisor"] = user("supervisor", role=Role.SUPERVISOR)
    return w


def test_anonymous_is_refused(client, world):
    assert client.get(f"{API}/plans").status_code == 401


def test_board_as_of_a_date(client, world):
    client.force_login(world["supervisor"])
    plan = world["plan"]
    r = client.get(f"{API}/plans/{plan.pk}/board", {"as_of": "2022-07-15"})
    assert r.status_code == 200
    body = r.json()
    assert body["as_of"] == "2022-07-15"
    assert sum(body["totals"].values()) == 3
    assert body["totals"]["late"] == 2  # t1 missed Q1/Q2, t2 missed 30 June
    task = body["sections"][0]["tasks"][0]
    assert {"lead", "co", "status_label", "reason"} <= task.keys()


def test_department_files_a_report_and_the_status_changes(client, world):
    client.force_login(world["zonghe_user"])
    t3 = world["t3"]
    before = client.get(f"{API}/tasks/{t3.pk}").json()
    r = client.post(
        f"{API}/tasks/{t3.pk}/reports",
        {"percent": 100, "text": "清单已印发"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["addressed_to"] == "office"
    after = client.get(f"{API}/tasks/{t3.pk}", {"as_of": dt.date.today().isoformat()}).json()
    assert after["status"] == "done" and before["status"] != "done"


def test_report_for_another_departments_task_is_forbidden(client, world):
    client.force_login(world["zonghe_user"])
    r = client.post(
        f"{API}/tasks/{world['t2'].pk}/reports",
        {"percent": 10, "text": "x"},
        content_type="application/json",
    )
    assert r.status_code == 404  # not even visible to 综合处
    assert not ProgressReport.objects.exists()


def test_invalid_report_names_the_fields(client, world):
    client.force_login(world["zonghe_user"])
    r = client.post(
        f"{API}/tasks/{world['t3'].pk}/reports",
        {"percent": 150, "text": ""},
        content_type="application/json",
    )
    assert r.status_code == 422
    assert set(r.json()["detail"]) == {"percent", "text"}


def test_supervision_run_is_for_supervisors_only(client, world):
    client.force_login(world["zonghe_user"])
    url = f"{API}/plans/{world['plan'].pk}/supervise"
    assert (
        client.post(url, {"as_of": "2022-07-01"}, content_type="application/json").status_code
        == 403
    )
    client.force_login(world["supervisor"])
    r = client.post(url, {"as_of": "2022-07-01"}, content_type="application/json")
    assert r.status_code == 200
    assert len(r.json()["notices"]) == 3  # one per overdue milestone: t1 Q1 and Q2, t2
    notices = client.get(f"{API}/plans/{world['plan'].pk}/notices").json()
    assert {n["department"] for n in notices} == {"综合处", "危化处"}


def test_openapi_schema_is_served(client, world):
    client.force_login(world["supervisor"])
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert "/api/v1/workplan/plans/{plan_id}/board" in r.json()["paths"]


def test_lead_adds_a_milestone_through_the_api(client, world):
    client.force_login(world["zonghe_user"])
    r = client.post(
        f"{API}/tasks/{world['t3'].pk}/milestones",
        {"title": "征求意见", "due": "2022-09-30"},
        content_type="application/json",
    )
    assert r.status_code == 201
    detail = client.get(f"{API}/tasks/{world['t3'].pk}", {"as_of": "2022-10-10"}).json()
    assert detail["status"] == "late" and "征求意见" in detail["reason"]


def test_pause_request_and_approval_through_the_api(client, world):
    client.force_login(world["zonghe_user"])
    r = client.post(
        f"{API}/tasks/{world['t3'].pk}/pauses",
        {"reason": "上级文件未出台"},
        content_type="application/json",
    )
    assert r.status_code == 201
    pause_id = r.json()["id"]
    assert client.post(f"{API}/pauses/{pause_id}/approve").status_code == 403  # own request
    client.force_login(world["supervisor"])
    assert client.post(f"{API}/pauses/{pause_id}/bogus").status_code == 404
    r = client.post(f"{API}/pauses/{pause_id}/approve")
    assert r.status_code == 200 and r.json()["state"] == "approved"
    detail = client.get(f"{API}/tasks/{world['t3'].pk}").json()
    assert detail["status"] == "paused" and "上级文件未出台" in detail["reason"]
