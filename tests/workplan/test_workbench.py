"""The work plan on the workbench (工作台) and in the search box, as each user
sees them on 2022-07-15: leads with late tasks and unanswered supervision
notices, co-organisers with their monthly report to the lead, approvers with
pauses, leaders with escalations and the plan's progress; nobody sees another
department's work."""

import datetime as dt

import pytest

from yingji.core.models import Department, DepartmentKind, Region, Role
from yingji.workplan import scoring, services
from yingji.workplan.models import Assignment, SupervisionNotice

from ..core.workbench_page import figures, freeze, local, of, search_hits, worklist
from .factories import plan_with_tasks, user

pytestmark = pytest.mark.django_db

D = dt.date
NOW = local(2022, 7, 15, 10, 0)


@pytest.fixture
def world(monkeypatch):
    """plan_with_tasks (t1 quarterly led by 综合处 with 危化处, t2 due 06-30 led by
    危化处, t3 due 12-31 led by 综合处, 天河区政府 co-organising it), supervised on
    07-01 (notices, answer by 07-06) and 07-07 (escalated)."""
    w = plan_with_tasks()
    city = Region.objects.create(code="440100", name="广州市", level="city")
    tianhe = Region.objects.create(code="440106", name="天河区", level="district", parent=city)
    w["tianhe_gov"] = Department.objects.create(
        name="天河区政府", kind=DepartmentKind.DISTRICT_GOV, region=tianhe
    )
    Assignment.objects.create(
        task=w["t3"], department=w["tianhe_gov"], role="co", position=1, name_as_written="天河区"
    )
    w["zonghe_user"] = user("zonghe", department=w["zonghe"])
    w["weihua_user"] = user("weihua", department=w["weihua"])
    w["jichu_user"] = user("jichu", department=Department.objects.create(name="基础处"))
    w["tianhe_user"] = user("tianhe", role=Role.DISTRICT_STAFF, department=w["tianhe_gov"])
    w["tianhe_user"].profile.region = tianhe
    w["tianhe_user"].profile.save()
    w["supervisor"] = user("supervisor", role=Role.SUPERVISOR)
    w["leader"] = user("leader", role=Role.LEADER)
    services.supervise(D(2022, 7, 1), now=local(2022, 7, 1, 9))
    services.supervise(D(2022, 7, 7), now=local(2022, 7, 7, 9))
    freeze(monkeypatch, NOW)
    return w


def test_the_report_window_is_the_previous_month_until_its_deadline():
    wc_add = services.wc.add_workdays
    # June's report is due on July's 5th working day (07-07); after it, July's (08-05).
    assert scoring.report_window(D(2022, 7, 7), 5, wc_add) == (D(2022, 6, 8), D(2022, 7, 7))
    assert scoring.report_window(D(2022, 7, 8), 5, wc_add) == (D(2022, 7, 7), D(2022, 8, 5))
    # 元旦: January 2022's working days start on the 4th, so December's report is due 01-10.
    assert scoring.report_window(D(2022, 1, 4), 5, wc_add) == (D(2021, 12, 7), D(2022, 1, 10))


def test_a_lead_sees_late_tasks_and_notices_first_then_the_report_due(client, world):
    client.force_login(world["zonghe_user"])
    items = of(worklist(client), "workplan.")
    assert [(i.kind, i.urgency, i.deadline) for i in items] == [
        ("滞后任务", "已逾期", "2022-03-31"),
        ("待回复督办单", "已逾期", "2022-07-06"),
        ("待回复督办单", "已逾期", "2022-07-06"),
        ("待报送进展", "", "2022-08-05"),
    ]
    late, notice, _, report = items
    assert late.title == "2022年第1项:定期组织召开季度风险分析会"
    assert "节点“第1季度”应于 2022-03-31 完成" in late.detail
    assert "本期进展未报送(报办公室,08月05日前)" in late.detail
    assert notice.title.startswith("督办〔2022〕") and "第1项" in notice.title
    assert "已提请局领导督办" in notice.detail and notice.action == "回复"
    assert report.title == "2022年第3项:修订免处罚清单" and report.action == "报送进展"
    for item in items:
        page = client.get(item.url)
        assert page.status_code == 200
    assert "报送进展" in client.get(report.url).content.decode()
    assert 'id="notices"' in client.get(notice.url).content.decode()


def test_a_co_organiser_reports_to_its_lead_until_it_has_filed_this_month(client, world):
    client.force_login(world["weihua_user"])
    items = of(worklist(client), "workplan.")
    co = [i for i in items if i.kind == "待报送进展"]
    assert [i.title for i in co] == ["2022年第1项:定期组织召开季度风险分析会"]
    assert "报牵头处室(综合处)" in co[0].detail and "配合任务" in co[0].detail
    # its own late task and its notice come first
    assert [i.kind for i in items] == ["滞后任务", "待回复督办单", "待报送进展"]
    services.file_report(
        world["t1"], world["weihua_user"], percent=40, text="已提交分析材料", reported_at=NOW
    )
    notice = SupervisionNotice.objects.get(department=world["weihua"])
    services.respond_notice(notice, world["weihua_user"], "已制定整改计划,8月底前完成")
    assert [i.kind for i in of(worklist(client), "workplan.")] == ["滞后任务"]


def test_district_staff_see_the_task_their_district_co_organises(client, world):
    client.force_login(world["tianhe_user"])
    items = of(worklist(client), "workplan.")
    assert [(i.kind, i.title) for i in items] == [("待报送进展", "2022年第3项:修订免处罚清单")]
    assert "报牵头处室(综合处)" in items[0].detail
    assert client.get(items[0].url).status_code == 200


def test_another_department_sees_none_of_it(client, world):
    client.force_login(world["jichu_user"])
    assert of(worklist(client), "workplan.") == []
    assert search_hits(client, "免处罚") == {}


def test_pauses_wait_for_an_approver_and_escalations_for_leaders(client, world):
    services.request_pause(world["t3"], world["zonghe_user"], "等待上级文件", at=NOW)
    client.force_login(world["zonghe_user"])
    assert "待审批暂缓" not in [i.kind for i in worklist(client)]  # never one's own
    client.force_login(world["supervisor"])
    items = of(worklist(client), "workplan.")
    # leaders and supervisors own no tasks: no reports, but the escalations and the pause
    assert [(i.kind, i.urgency) for i in items] == [
        ("督办升级", "已逾期"),
        ("督办升级", "已逾期"),
        ("督办升级", "已逾期"),
        ("待审批暂缓", ""),
    ]
    pause = items[-1]
    assert pause.title == "2022年第3项:修订免处罚清单" and pause.action == "审批"
    assert "zonghe 2022-07-15 申请暂缓:等待上级文件" in pause.detail
    assert "危化处 未在 2022-07-06 前回复督办单" in [i.detail for i in items]
    page = client.get(pause.url)
    assert page.status_code == 200 and "待审批:等待上级文件" in page.content.decode()


def test_a_leader_sees_the_plan_progress_figure(client, world):
    services.file_report(
        world["t3"], world["zonghe_user"], percent=100, text="已印发", reported_at=NOW
    )
    client.force_login(world["leader"])
    value, detail, url = figures(client)["任务完成"]
    assert value == "1/3" and detail == "2022年工作要点 · 滞后 2 项"
    board = client.get(url)
    assert board.status_code == 200 and "滞后 2" in board.content.decode()
    client.force_login(world["zonghe_user"])
    assert "任务完成" not in figures(client)  # a department does not see the city's figures


def test_search_finds_a_task_by_number_or_words_within_scope(client, world):
    client.force_login(world["zonghe_user"])
    hits = search_hits(client, "免处罚")["工作要点任务"]
    assert [(code, title) for code, title, _ in hits] == [("2022年第3项", "修订免处罚清单")]
    assert client.get(hits[0][2]).status_code == 200
    assert [c for c, _, _ in search_hits(client, "第1项")["工作要点任务"]] == ["2022年第1项"]
    # 第2项 is 危化处's alone: not found by 综合处
    assert "工作要点任务" not in search_hits(client, "第2项")
    client.force_login(world["supervisor"])
    assert [c for c, _, _ in search_hits(client, "风险")["工作要点任务"]] == [
        "2022年第1项",
        "2022年第2项",
    ]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_chromium_a_lead_acts_from_the_workbench(world, live_server, logged_in_page):
    page = logged_in_page(world["zonghe_user"])
    page.goto(f"{live_server.url}/")
    first = page.locator(".work-item").first
    assert "滞后任务" in first.inner_text() and "第1项" in first.inner_text()
    # the menu's badge arrives after the page (htmx): 督查督办 has four items
    page.wait_for_selector("#badge-supervision:has-text('4')")
    first.locator("a.button").click()
    page.wait_for_selector("#report-form")
    assert "/plans/tasks/" in page.url and page.url.endswith("#report-form")
    page.fill("#report-form input[name=percent]", "30")
    page.fill("#report-form textarea[name=text]", "已召开第二季度风险分析会")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector(".messages li.success")
    page.goto(f"{live_server.url}/")
    first = page.locator(".work-item").first
    assert "第1项" in first.inner_text() and "本期进展未报送" not in first.inner_text()
