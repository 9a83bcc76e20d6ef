"""Enforcement on the workbench (工作台) and in the search box, as each user sees
it on 2022-07-15: the plan's department its inspections due, results to
publish, cases to move on and look-backs; an assigned inspector of a district
the inspections assigned to them; the supervisor the cases waiting for a
decision; nobody another department's or district's."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.enforcement import factories as f
from yingji.core.models import Department, Role
from yingji.enforcement import lookback, services
from yingji.enforcement.models import Inspection, PenaltyCase
from yingji.risk.models import Accident

from ..core.workbench_page import freeze, local, of, search_hits, worklist

pytestmark = pytest.mark.django_db
D = dt.date
NOW = local(2022, 7, 15, 10, 0)


def _window(inspection: Inspection, month: int) -> Inspection:
    end = D(2022, month + 1, 1) - dt.timedelta(days=1)
    Inspection.objects.filter(pk=inspection.pk).update(
        window_label=f"2022年{month}月", window_start=D(2022, month, 1), window_end=end
    )
    inspection.refresh_from_db()
    return inspection


@pytest.fixture
def w(monkeypatch):
    """The factories' world drawn (4 天河 inspections, 1 白云), windows set: 天河
    June (open), July (assigned to the 天河 district account as inspector),
    September, June (done 06-10, a case filed, not published); 白云 May (done,
    its case notified, published). A 较大 accident in 天河 with its look-back."""
    w = f.world()
    services.draw_annual(w["plan"], w["handler"])
    tianhe = list(
        Inspection.objects.filter(district_id=f.TIANHE).order_by("enterprise__credit_code")
    )
    (baiyun,) = Inspection.objects.filter(district_id=f.BAIYUN)
    june, july, september, done = (_window(i, m) for i, m in zip(tianhe, (6, 7, 9, 6), strict=True))
    baiyun = _window(baiyun, 5)
    w["tianhe_gov"] = Department.objects.create(
        name="天河区政府", kind="district_gov", region=w["regions"][f.TIANHE]
    )
    w["tianhe"] = f.user(
        "tianhe", Role.DISTRICT_STAFF, w["tianhe_gov"], region=w["regions"][f.TIANHE]
    )
    w["baiyun"] = f.user("baiyun", Role.DISTRICT_STAFF, region=w["regions"][f.BAIYUN])
    july.inspectors.add(f.inspector("T9", w["zhifa"], user=w["tianhe"]))
    # the 综合处 user is an inspector too, but of no 天河 or 执法处 scope: never listed
    june.inspectors.add(f.inspector("Z1", w["zhifa"], user=w["other"]))
    services.record_inspection(
        done,
        w["handler"],
        inspected_on=D(2022, 6, 10),
        findings=[services.FindingInput("HC-01", "未建立安全管理制度")],
    )
    services.record_inspection(
        baiyun,
        w["handler"],
        inspected_on=D(2022, 5, 10),
        findings=[services.FindingInput("GEN-01", "未如实记录安全培训情况")],
    )
    case_b = PenaltyCase.objects.get(inspection=baiyun)
    services.transition_case(case_b, "investigate", w["handler"], on=D(2022, 5, 12))
    services.transition_case(
        case_b, "notify", w["handler"], comment="送达告知书", amount=20000, on=D(2022, 6, 1)
    )
    services.publish(baiyun, w["handler"], at=local(2022, 5, 20, 9))
    accident = Accident.objects.create(
        code="SG20220001",
        occurred_at=local(2022, 1, 20, 10),
        district_id=f.TIANHE,
        accident_type="collapse",
        deaths=3,
        place="天河区某仓库",
    )
    (lb,) = lookback.open_cases(D(2022, 2, 1))
    lookback.record_report(lb, w["handler"], approved_on=D(2022, 5, 5), approver="市人民政府")
    lookback.add_item(
        lb,
        w["handler"],
        kind="accountability",
        sanction="discipline",
        text="仓库负责人履职不力",
        responsible="市纪委监委",
    )
    lookback.add_item(
        lb,
        w["handler"],
        kind="measure",
        text="开展仓储场所安全专项整治",
        responsible="天河区政府",
        responsible_department=w["tianhe_gov"],
        deadline_workdays=40,
    )
    freeze(monkeypatch, NOW)
    w.update(
        june=june,
        july=july,
        september=september,
        done=done,
        baiyun_inspection=baiyun,
        case_a=PenaltyCase.objects.get(inspection=done),
        case_b=case_b,
        lookback=lb,
        accident=accident,
    )
    return w


def _opens(client, items):
    for item in items:
        assert client.get(item.url).status_code == 200, item


def test_the_department_sees_its_inspections_cases_and_look_backs_overdue_first(client, w):
    w["lookback"].refresh_from_db()
    client.force_login(w["handler"])
    items = of(worklist(client), "enforcement.")
    assert [(i.kind, i.urgency, i.deadline) for i in items] == [
        ("待检查", "已逾期", "2022-06-30"),
        ("待公示检查结果", "已逾期", f"{w['done'].publish_by:%Y-%m-%d}"),
        ("待检查", "", "2022-07-31"),
        ("待办案件", "", "2022-09-08"),  # filed 06-10: decided within 90 days
        ("事故整改评估", "", f"{w['lookback'].due_on:%Y-%m-%d}"),
        ("回头看事项", "", ""),
    ]
    june, publish, july, case, review, item = items
    assert w["done"].publish_by < D(2022, 7, 15)
    assert w["lookback"].due_on.year == 2023  # a year after the report's approval
    assert june.title == f"{w['june'].enterprise.name}(2022年6月双随机抽查)"
    assert "危险化学品使用" in june.detail and "天河区" in june.detail
    assert "执法人员 " in june.detail and june.action == "录入结果"
    assert publish.action == "公示" and "检查结论 立案查处" in publish.detail
    assert case.title == f"{w['case_a'].number} {w['done'].enterprise.name}"
    assert case.action == "开始调查" and "立案 · 办案部门 执法处" in case.detail
    assert review.title == "SG20220001 较大事故(天河区某仓库)" and review.action == "开始评估"
    # the measure is 天河区政府's; the accountability item (市纪委监委) is followed here
    assert item.title == "SG20220001 责任追究建议:仓库负责人履职不力"
    _opens(client, items)
    assert 'id="record-form"' in client.get(june.url).content.decode()
    assert 'id="publish"' in client.get(publish.url).content.decode()


def test_an_assigned_inspector_of_a_district_sees_their_inspection_and_district_items(client, w):
    client.force_login(w["tianhe"])
    items = of(worklist(client), "enforcement.")
    measure = w["lookback"].items.get(kind="measure")
    assert [(i.kind, i.deadline) for i in items] == [
        ("回头看事项", f"{measure.deadline:%Y-%m-%d}"),  # 40 working days from 05-05
        ("待检查", "2022-07-31"),
        ("回头看事项", ""),  # the accountability item, followed by the accident's district
    ]
    assert measure.deadline < D(2022, 7, 15) and items[0].urgency == "已逾期"
    assert items[0].title == "SG20220001 整改措施:开展仓储场所安全专项整治"
    assert "落实主体 天河区政府 · 未落实" in items[0].detail
    assert items[1].title.startswith(w["july"].enterprise.name)
    # the June inspection of 天河 is 执法处's: not the district's to carry out
    assert w["june"].enterprise.name not in [i.title.split("(")[0] for i in items]
    _opens(client, items)
    page = client.get(items[1].url).content.decode()
    assert "录入检查结果" in page  # the inspector may record it


def test_a_supervisor_decides_the_notified_case(client, w):
    client.force_login(w["boss"])
    items = of(worklist(client), "enforcement.")
    assert [(i.kind, i.action, i.deadline) for i in items] == [
        ("待决定案件", "作出决定", "2022-08-08")  # filed 05-10
    ]
    assert "告知" in items[0].detail and "拟罚款 20,000 元" in items[0].detail
    _opens(client, items)
    assert "作出处罚决定" in client.get(items[0].url).content.decode()


def test_others_see_nothing_and_an_inspector_outside_the_scope_is_not_sent_to_a_404(client, w):
    client.force_login(w["other"])
    assert of(worklist(client), "enforcement.") == []
    assert client.get(f"/enforcement/inspections/{w['june'].pk}/").status_code == 404
    client.force_login(w["baiyun"])
    assert of(worklist(client), "enforcement.") == []


def test_search_finds_a_case_by_number_within_scope(client, w):
    number = w["case_b"].number  # 应急罚〔2022〕0001号 (白云, 执法处)
    client.force_login(w["handler"])
    hits = search_hits(client, number[-6:-1])["执法案件"]
    assert [code for code, _, _ in hits] == [number]
    assert client.get(hits[0][2]).status_code == 200
    assert {c for c, _, _ in search_hits(client, "〔2022〕")["执法案件"]} == {
        w["case_a"].number,
        number,
    }
    client.force_login(w["tianhe"])
    # the district's own case (天河) is found; 白云's is not
    assert [c for c, _, _ in search_hits(client, "〔2022〕")["执法案件"]] == [w["case_a"].number]
    client.force_login(w["other"])
    assert "执法案件" not in search_hits(client, "〔2022〕")
