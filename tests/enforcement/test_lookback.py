"""The accident look-back on the database: cases opened once per qualifying
accident, items and their escalation through the outbox, the evaluation with
its derived conclusion, failed measures → risk hazards, scoping, the annual
summary; and the pages and API of the workflow."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.enforcement import factories as f
from yingji.core import workcalendar as wc
from yingji.core.models import Department, Notification, Role
from yingji.enforcement import lookback
from yingji.enforcement.models import LookbackCase, LookbackItem
from yingji.risk.models import Accident, Hazard

pytestmark = pytest.mark.django_db
APPROVED = dt.date(2025, 3, 10)


def accident(
    code: str,
    deaths: int,
    district: str = f.TIANHE,
    enterprise=None,
    day: dt.date = dt.date(2025, 1, 8),
) -> Accident:
    return Accident.objects.create(
        code=code,
        occurred_at=timezone.make_aware(dt.datetime.combine(day, dt.time(10))),
        district_id=district,
        enterprise=enterprise,
        accident_type="collapse",
        deaths=deaths,
    )


@pytest.fixture
def lw():
    r = f.regions()
    zhifa = Department.objects.create(name="执法处", email="zhifa@example.org")
    tianhe_gov = Department.objects.create(
        name="天河区人民政府", kind="district_gov", region=r[f.TIANHE], email="th@example.org"
    )
    ent = f.enterprise(1)
    return {
        "zhifa": zhifa,
        "tianhe_gov": tianhe_gov,
        "enterprise": ent,
        "handler": f.user("zhifa", department=zhifa),
        "boss": f.user("boss", role=Role.LEADER),
        "other": f.user("other", department=Department.objects.create(name="综合处")),
        "tianhe": f.user("tianhe", role=Role.DISTRICT_STAFF, region=r[f.TIANHE]),
        "baiyun": f.user("baiyun", role=Role.DISTRICT_STAFF, region=r[f.BAIYUN]),
        "larger": accident("SG20250001", 3, enterprise=ent),
        "general": accident("SG20250002", 1, f.BAIYUN),
    }


def case_with_items(lw, *, done_accountability=2, done_measures=2) -> LookbackCase:
    (case,) = lookback.open_cases(dt.date(2025, 2, 1))
    lookback.record_report(case, lw["handler"], approved_on=APPROVED, approver="市人民政府")
    for n in range(2):
        item = lookback.add_item(
            case,
            lw["handler"],
            kind="accountability",
            sanction="discipline",
            text=f"责任人{n} 履职不力",
            responsible="市纪委监委",
        )
        if n < done_accountability:
            lookback.report_progress(
                item,
                lw["handler"],
                status="done",
                evidence=f"处分决定{n}号",
                done_on=dt.date(2025, 6, 1),
            )
    for n in range(2):
        item = lookback.add_item(
            case,
            lw["handler"],
            kind="measure",
            text=f"整改措施{n}",
            responsible="天河区政府",
            responsible_department=lw["tianhe_gov"],
            deadline_workdays=40,
        )
        if n < done_measures:
            lookback.report_progress(
                item, lw["tianhe"], status="done", evidence="验收记录", done_on=dt.date(2025, 5, 1)
            )
    return case


def test_cases_open_once_for_larger_accidents_and_typical_ones(lw):
    opened = lookback.open_cases(dt.date(2025, 2, 1))
    assert [c.accident.code for c in opened] == ["SG20250001"]
    assert lookback.open_cases(dt.date(2025, 2, 2)) == []  # idempotent
    case = opened[0]
    assert case.department == lw["zhifa"] and case.district_id == f.TIANHE
    assert case.state == "pending" and case.events.get().action == "open"
    with pytest.raises(PermissionDenied):
        lookback.mark_typical(lw["general"], lw["other"], reason="暴露共性问题")
    with pytest.raises(ValidationError, match="理由"):
        lookback.mark_typical(lw["general"], lw["handler"], reason=" ")
    typical = lookback.mark_typical(lw["general"], lw["handler"], reason="有限空间作业共性问题")
    assert typical.typical and typical.reason == "typical"
    assert lookback.mark_typical(lw["general"], lw["handler"], reason="再次标记") == typical
    assert LookbackCase.objects.count() == 2


def test_due_date_is_a_year_after_approval_and_configurable(lw, settings):
    case = case_with_items(lw)
    assert case.due_on == dt.date(2026, 3, 9)
    item = case.items.filter(kind="measure").first()
    # 40 working days after the approval: 清明 and 五一 are skipped, a make-up Sunday counts
    assert wc.is_workday(item.deadline) and wc.workdays_between(APPROVED, item.deadline) == 40
    assert (item.deadline - APPROVED).days > 40 * 7 // 5
    settings.YINGJI_ENFORCEMENT_LOOKBACK = {"evaluation_months": 6}
    lookback.record_report(case, lw["handler"], approved_on=APPROVED)
    assert case.due_on == dt.date(2025, 9, 9)


def test_overdue_items_escalate_once_to_the_department_and_zhifa(
    lw, django_capture_on_commit_callbacks
):
    case = case_with_items(lw, done_measures=0)
    late = case.items.filter(kind="measure").first()
    # two working days before the deadline: a reminder to the responsible department
    before = wc.add_workdays(late.deadline, -2)
    assert lookback.supervise(wc.add_workdays(late.deadline, -5))["reminders"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        counts = lookback.supervise(before)
    assert counts["reminders"] == 2 and counts["overdue_items"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        counts = lookback.supervise(late.deadline + dt.timedelta(days=1))
        again = lookback.supervise(late.deadline + dt.timedelta(days=2))
    assert counts["overdue_items"] == 2 and again["overdue_items"] == 2  # still late …
    notes = Notification.objects.filter(
        dedupe_key__startswith=f"enforcement-lookback-overdue:{late.pk}:"
    )
    # … but each department is told once: 天河区人民政府's mailbox, 执法处's mailbox and member
    assert sorted(n.address for n in notes) == [
        "th@example.org",
        "zhifa@example.org",
        "zhifa@example.org",
    ]
    assert any("逾期未落实" in m.subject and "SG20250001" in m.subject for m in mail.outbox)
    reminders = Notification.objects.filter(dedupe_key__startswith="enforcement-lookback-reminder:")
    assert {n.address for n in reminders} == {"th@example.org"}
    lookback.report_progress(
        late, lw["tianhe"], status="done", evidence="验收", done_on=dt.date(2025, 5, 13)
    )
    assert not lookback.overdue_items(dt.date(2025, 5, 14)).filter(pk=late.pk).exists()
    # the evaluation itself past its due date
    counts = lookback.supervise(dt.date(2026, 3, 10))
    assert counts["overdue_evaluations"] == 1
    assert LookbackCase.objects.filter(lookback.overdue_q(dt.date(2026, 3, 10))).count() == 1


def test_evaluation_derives_its_conclusion_and_overrides_need_a_reason(lw):
    case = case_with_items(lw, done_accountability=2, done_measures=1)
    with pytest.raises(PermissionDenied):
        lookback.transition(case, "start", lw["tianhe"])
    lookback.transition(case, "start", lw["handler"])
    with pytest.raises(ValidationError, match="须书面说明理由"):
        lookback.transition(case, "conclude", lw["handler"], conclusion="qualified")
    lookback.transition(case, "conclude", lw["handler"])
    assert case.conclusion == case.derived_conclusion == "unqualified"  # measures 50 %
    assert "整改措施落实 50%" in case.events.last().comment
    with pytest.raises(ValidationError, match="不能“评估办结”"):
        lookback.transition(case, "close", lw["boss"])
    # a failed evaluation's open measures become hazards, once, on risk's path
    hazards = lookback.findings_to_hazards(case, lw["handler"])
    assert len(hazards) == 1 and hazards[0].source == Hazard.Source.ENFORCEMENT
    assert hazards[0].enterprise == lw["enterprise"] and "整改措施1" in hazards[0].description
    assert hazards[0].origin_id == str(LookbackItem.objects.get(hazard=hazards[0]).pk)
    assert lookback.findings_to_hazards(case, lw["handler"]) == []
    lookback.transition(case, "recheck", lw["handler"], comment="限期 30 日整改")
    lookback.transition(case, "reevaluate", lw["handler"], comment="复查")
    lookback.transition(
        case, "conclude", lw["handler"], conclusion="basic", comment="剩余措施已纳入隐患闭环管理"
    )
    assert (case.conclusion, case.derived_conclusion) == ("basic", "unqualified")
    assert case.override_reason == "剩余措施已纳入隐患闭环管理"
    with pytest.raises(PermissionDenied, match="仅限负责人"):
        lookback.transition(case, "close", lw["handler"])
    lookback.transition(case, "close", lw["boss"])
    assert case.state == "closed" and case.closed_on
    with pytest.raises(ValidationError, match="已办结"):
        lookback.report_progress(case.items.first(), lw["handler"], status="pending")


def test_items_need_evidence_and_only_the_involved_report_progress(lw):
    case = case_with_items(lw, done_accountability=0, done_measures=0)
    measure = case.items.filter(kind="measure").first()
    with pytest.raises(ValidationError, match="落实依据"):
        lookback.report_progress(measure, lw["tianhe"], status="done", evidence="")
    with pytest.raises(PermissionDenied):
        lookback.report_progress(measure, lw["baiyun"], status="in_progress")
    with pytest.raises(PermissionDenied):
        lookback.add_item(case, lw["tianhe"], kind="measure", text="x", responsible="y")
    with pytest.raises(ValidationError, match="追责方式"):
        lookback.add_item(case, lw["handler"], kind="accountability", text="x", responsible="y")
    with pytest.raises(ValidationError, match="尚未录入|须先录入"):
        lookback.transition(
            LookbackCase.objects.create(
                accident=lw["general"],
                reason="typical",
                department=lw["zhifa"],
                opened_on=dt.date(2025, 2, 1),
            ),
            "start",
            lw["handler"],
        )


def test_district_staff_see_their_district_and_departments_their_items(lw):
    case_with_items(lw)
    lookback.mark_typical(lw["general"], lw["handler"], reason="典型")
    codes = lambda u: sorted(lookback.visible_cases(u).values_list("accident__code", flat=True))  # noqa: E731
    assert codes(lw["boss"]) == codes(lw["handler"]) == ["SG20250001", "SG20250002"]
    assert codes(lw["tianhe"]) == ["SG20250001"]
    assert codes(lw["baiyun"]) == ["SG20250002"]
    assert codes(lw["other"]) == []


def test_annual_summary_counts_and_exports(lw):
    case = case_with_items(lw, done_accountability=1, done_measures=2)
    lookback.transition(case, "start", lw["handler"])
    lookback.transition(case, "conclude", lw["handler"])
    rows, total = lookback.summary(2026)
    assert [(r.label, r.due, r.evaluated, r.conclusions["unqualified"]) for r in rows] == [
        ("天河区", 1, 1, 1)
    ]
    assert total.accountability_share == 0.5 and total.measures_share == 1.0
    assert lookback.summary(2025)[1].due == 0
    wb = load_workbook(io.BytesIO(lookback.summary_xlsx(2026)))
    sheet = wb["2026年汇总"]
    assert [c.value for c in sheet[2]][:6] == ["天河区", 1, 1, 0, 0, 1]
    assert wb["评估明细"]["A2"].value == "SG20250001"


def test_workflow_through_the_pages_and_the_api(lw):
    web = Client()
    web.force_login(lw["handler"])
    r = web.post("/enforcement/lookbacks/typical/", {"code": "SG20250002", "reason": "典型"})
    case = LookbackCase.objects.get(accident__code="SG20250002")
    assert r.status_code == 302 and r.url.endswith(f"/enforcement/lookbacks/{case.pk}/")
    web.post(
        f"/enforcement/lookbacks/{case.pk}/report/",
        {"approved_on": "2025-03-10", "approver": "白云区人民政府"},
    )
    web.post(
        f"/enforcement/lookbacks/{case.pk}/items/",
        {
            "kind": "measure",
            "text": "开展有限空间专项整治",
            "responsible": "白云区应急管理局",
            "deadline_workdays": "20",
        },
    )
    item = case.items.get()
    web.post(
        f"/enforcement/lookbacks/items/{item.pk}/progress/",
        {"status": "done", "evidence": "整治总结报告", "done_on": "2025-04-01"},
    )
    web.post(f"/enforcement/lookbacks/{case.pk}/transition/", {"action": "start"})
    web.post(f"/enforcement/lookbacks/{case.pk}/transition/", {"action": "conclude"})
    page = web.get(f"/enforcement/lookbacks/{case.pk}/").content.decode()
    assert 'id="lookback-state">已评估' in page and 'id="lookback-conclusion">合格' in page
    assert "整治总结报告" in page
    assert (
        "SG20250002" in web.get("/enforcement/lookbacks/", {"district": f.BAIYUN}).content.decode()
    )
    assert "SG20250002" not in web.get("/enforcement/lookbacks/", {"overdue": "1"}).content.decode()
    xlsx = web.get("/enforcement/lookbacks/summary/", {"year": 2026, "format": "xlsx"})
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    api = Client()
    api.force_login(lw["boss"])
    body = api.get(f"/api/v1/enforcement/lookbacks/{case.pk}").json()
    assert body["conclusion"] == "qualified" and body["available"] == ["close"]
    r = api.post(
        f"/api/v1/enforcement/lookbacks/{case.pk}/transitions",
        {"action": "close"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["state"] == "closed"
    outsider = Client()
    outsider.force_login(lw["tianhe"])
    assert outsider.get(f"/api/v1/enforcement/lookbacks/{case.pk}").status_code == 404
    assert outsider.get(f"/enforcement/lookbacks/{case.pk}/").status_code == 404


def test_accident_list_links_each_accident_to_its_look_back(client, lw):
    (case,) = lookback.open_cases(dt.date(2025, 2, 1))
    client.force_login(lw["boss"])
    page = client.get(reverse("risk:accidents")).content.decode()
    assert reverse("enforcement:lookback", args=[case.pk]) in page
    # one case link (the 一般 accident has none; the menu's 事故回头看 is the list)
    assert len(re.findall(r"/enforcement/lookbacks/\d+/", page)) == 1


def test_public_page_shows_evaluated_look_backs_without_the_names(lw):
    case = case_with_items(lw, done_accountability=2, done_measures=1)
    lookback.transition(case, "start", lw["handler"])
    page = Client().get(reverse("enforcement:public")).content.decode()
    assert "SG20250001" not in page  # not evaluated yet: nothing published
    lookback.transition(case, "conclude", lw["handler"])
    case.refresh_from_db()
    page = Client().get(reverse("enforcement:public")).content.decode()  # no login
    assert "SG20250001" in page and case.get_conclusion_display() in page
    assert "3 / 4 项已落实" in page
    assert "责任人0" not in page  # accountability names stay internal
