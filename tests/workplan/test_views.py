import datetime as dt

import pytest
from django.urls import reverse

from yingji.core.models import AuditEntry, Role
from yingji.workplan import services
from yingji.workplan.models import ProgressReport

from .factories import plan_with_tasks, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    w = plan_with_tasks()
    w["zonghe_user"] = user("zonghe", department=w["zonghe"])
    w["supervisor"] = user("supervisor", role=Role.SUPERVISOR)
    return w


def test_pages_need_login(client, world):
    r = client.get(reverse("workplan:board", args=[world["plan"].pk]))
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_board_shows_sections_by_status_as_of_a_date(client, world):
    client.force_login(world["supervisor"])
    url = reverse("workplan:board", args=[world["plan"].pk])
    html = client.get(url, {"as_of": "2022-02-01"}).content.decode()
    assert "挂图作战" in html and "一、强化风险防范" in html
    assert "未启动 3" in html
    html = client.get(url, {"as_of": "2022-07-15"}).content.decode()
    assert "滞后 2" in html


def test_a_past_years_board_opens_as_of_its_year_end_and_the_date_can_be_changed(client, world):
    """The 2022 plan's board, opened in a later year, shows how 2022 closed (not
    every open task as overdue counted to today), says so, and links to today."""
    client.force_login(world["supervisor"])
    url = reverse("workplan:board", args=[world["plan"].pk])
    html = client.get(url).content.decode()
    assert "截至 2022-12-31" in html and 'value="2022-12-31"' in html
    assert "2022 年度计划,默认显示年末状态" in html
    today = services.today().isoformat()
    assert f"?as_of={today}" in html
    assert f"截至 {today}" in client.get(url, {"as_of": today}).content.decode()
    # the task list and the plan list default to the year end too
    tasks = client.get(reverse("workplan:tasks", args=[world["plan"].pk])).content.decode()
    assert 'value="2022-12-31"' in tasks


def test_this_years_board_opens_as_of_today(client):
    w = plan_with_tasks(year=services.today().year)
    client.force_login(user("sup2", role=Role.SUPERVISOR))
    html = client.get(reverse("workplan:board", args=[w["plan"].pk])).content.decode()
    assert f"截至 {services.today().isoformat()}" in html and "as-of-note" not in html


def test_board_filters_and_htmx_partial(client, world):
    client.force_login(world["supervisor"])
    url = reverse("workplan:board", args=[world["plan"].pk])
    r = client.get(url, {"as_of": "2022-07-15", "status": "late"}, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert "<html" not in html  # only the board body is swapped in
    assert "季度风险分析会" in html and "修订免处罚清单" not in html


def test_bad_date_is_a_clear_error(client, world):
    client.force_login(world["supervisor"])
    r = client.get(reverse("workplan:board", args=[world["plan"].pk]), {"as_of": "2022-13-01"})
    assert r.status_code == 400 and "YYYY-MM-DD" in r.content.decode()


def test_department_user_files_report_from_task_page(client, world):
    client.force_login(world["zonghe_user"])
    t3 = world["t3"]
    page = client.get(reverse("workplan:task", args=[t3.pk])).content.decode()
    assert "报送进展" in page
    r = client.post(
        reverse("workplan:report", args=[t3.pk]),
        {"percent": "60", "text": "已形成修订稿,征求意见中"},
        follow=True,
    )
    html = r.content.decode()
    assert "进展已报送" in html and "已形成修订稿" in html
    assert ProgressReport.objects.filter(task=t3, percent=60).exists()
    assert AuditEntry.objects.filter(
        content_type__model="progressreport", actor=world["zonghe_user"]
    ).exists()


def test_department_user_cannot_open_other_departments_task(client, world):
    client.force_login(world["zonghe_user"])
    assert client.get(reverse("workplan:task", args=[world["t2"].pk])).status_code == 404


def test_my_tasks_lists_lead_and_co_roles(client, world):
    client.force_login(world["zonghe_user"])
    html = client.get(reverse("workplan:my_tasks")).content.decode()
    assert "季度风险分析会" in html and "修订免处罚清单" in html
    assert "开展老旧装置" not in html


def test_task_list_as_of(client, world):
    client.force_login(world["supervisor"])
    html = client.get(
        reverse("workplan:tasks", args=[world["plan"].pk]),
        {"as_of": dt.date(2022, 7, 15).isoformat()},
    ).content.decode()
    assert "已逾期" in html and "危化处" in html
