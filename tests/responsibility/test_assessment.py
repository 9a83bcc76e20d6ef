"""The annual assessment and the 述职 review through their services and pages:
computed items from the platform, two assessors and a reconciled difference,
ranking and 约谈 to closure, scope, a veto, the exports, the review result sent."""

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from yingji.core.models import Department, DepartmentKind, Notification, Role
from yingji.responsibility import assessment as svc
from yingji.responsibility.models import Interview, Reviewer, Sheet

from .conftest import _user

GOOD = {"B1": 13, "B2": 8, "B3": 9, "B4": 4, "C1": 0, "C2": 0, "D1": 0, "V2": 0}


@pytest.fixture
def year(world):
    zonghe = Department.objects.create(name="综合处")
    Department.objects.filter(name__in=["天河区政府", "番禺区政府"]).update(email="")
    jt = Department.objects.create(name="市交通运输局", kind=DepartmentKind.MUNICIPAL)
    world["a1"] = _user("zh1", Role.DEPT_STAFF, zonghe)
    world["a2"] = _user("zh2", Role.DEPT_STAFF, zonghe)
    world["a1"].email = "zh1@example.org"
    world["jt"] = _user("jt", Role.DEPT_STAFF, jt)
    iset = svc.ensure_set(2022)
    svc.open_sheets(iset)
    return iset


def _sheet(iset, name):
    return Sheet.objects.get(indicator_set=iset, department__name=name)


def test_computed_from_accidents_and_hazards(world, year):
    from yingji.risk.models import Accident, Enterprise, Hazard

    tianhe = world["regions"]["440106"]
    ent = Enterprise.objects.create(name="演示化工厂", district=tianhe, industry_code="2611")
    tz = timezone.get_current_timezone()
    for i, (y, deaths) in enumerate([(2021, 0), (2022, 1), (2022, 0), (2022, 0)]):
        Accident.objects.create(
            code=f"SG{i}",
            occurred_at=dt.datetime(y, 5, 1, tzinfo=tz),
            district=tianhe,
            accident_type="other",
            deaths=deaths,
        )
    Hazard.objects.create(
        code="YH1",
        enterprise=ent,
        source="self_inspection",
        description="消防通道堵塞",
        found_on=dt.date(2022, 3, 1),
        deadline=dt.date(2022, 4, 1),
        district=tianhe,
    )
    assert svc.compute(year) > 0
    th = {
        s.indicator.code: s for s in _sheet(year, "天河区政府").scores.select_related("indicator")
    }
    assert th["A1"].metric == {"this": 3.0, "last": 1.0} and th["A1"].final == 6  # 2 more × 2
    assert th["A2"].final == 8  # one death more than 2021
    assert th["A3"].metric == {"count": 1.0} and th["A3"].final == 9.5
    assert th["V1"].final == 0  # general accidents only
    py = {
        s.indicator.code: s.final
        for s in _sheet(year, "番禺区政府").scores.select_related("indicator")
    }
    assert py["A1"] == 10 and py["A3"] == 10


def test_two_assessors_difference_reconciled_then_ranked(world, year):
    svc.compute(year)
    th = _sheet(year, "天河区政府")
    with pytest.raises(svc.AssessmentError, match="B1 安全生产责任制落实.*超出范围"):
        svc.score_first(world["a1"], th, {**GOOD, "B1": 16})
    with pytest.raises(PermissionDenied):
        svc.score_first(world["tianhe"], th, GOOD)
    svc.score_first(world["a1"], th, GOOD)
    with pytest.raises(PermissionDenied, match="初评人以外"):
        svc.check(world["a1"], th, GOOD)
    diff = svc.check(world["a2"], th, {**GOOD, "B1": 9})
    assert diff == {"B1": (13.0, 9.0)}
    th.refresh_from_db()
    assert th.state == "differ" and th.total is None
    with pytest.raises(svc.AssessmentError, match="B1.*协调理由"):
        svc.reconcile(world["a1"], th, {"B1": 11}, {})
    svc.reconcile(world["a1"], th, {"B1": 11}, {"B1": "责任清单印发晚两个月,按标准扣 4 分"})
    th.refresh_from_db()
    assert th.state == "agreed" and th.total == 60 + 11 + 8 + 9 + 4 and th.rank == 1
    # the other district, lower; then the bottom one proposed, the 约谈 held and closed
    py = _sheet(year, "番禺区政府")
    svc.score_first(world["a1"], py, {**GOOD, "B1": 5})
    svc.check(world["a2"], py, {**GOOD, "B1": 5})
    jt = _sheet(year, "市交通运输局")
    svc.score_first(world["a2"], jt, GOOD)
    svc.check(world["a1"], jt, GOOD)
    year.bottom_n = 1
    year.save()
    made = svc.propose_interviews(world["a1"], year)
    assert {iv.sheet.department.name for iv in made} == {"番禺区政府", "市交通运输局"}
    iv = Interview.objects.get(sheet=py)
    with pytest.raises(svc.AssessmentError, match="整改期限不能早于"):
        svc.hold_interview(
            world["a1"],
            iv,
            held_on="2023-02-10",
            attendees="区长",
            problems="x",
            deadline="2023-01-01",
        )
    svc.hold_interview(
        world["a1"],
        iv,
        held_on="2023-02-10",
        attendees="番禺区副区长",
        problems="隐患整改滞后",
        deadline="2023-05-10",
    )
    svc.close_interview(world["a1"], iv, rectification="已完成整改", closed_on="2023-05-01")
    assert Interview.objects.get(pk=iv.pk).state == "closed"
    # the year's result as a page and as files
    c = Client()
    c.force_login(world["a1"])
    page = c.get(f"/responsibility/assessment/{year.year}/")
    assert "天河区政府" in page.content.decode() and "市直部门排名" in page.content.decode()
    xlsx = c.get(f"/responsibility/assessment/{year.year}/result.xlsx")
    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert ("各区", 1, "天河区政府", 92.0) == rows[2][:4]
    docx = c.get(f"/responsibility/assessment/{year.year}/result.docx")
    import docx as docxlib

    text = "\n".join(p.text for p in docxlib.Document(io.BytesIO(docx.content)).paragraphs)
    assert "番禺区政府:整改完成,已销号" in text


def test_veto_zeroes_and_says_why(world, year):
    svc.compute(year)
    th = _sheet(year, "天河区政府")
    svc.score_first(world["a1"], th, {**GOOD, "V2": 1})
    assert svc.check(world["a2"], th, {**GOOD, "V2": 0}) == {
        "V2": (1.0, 0.0)
    }  # any veto disagreement
    svc.reconcile(world["a2"], th, {"V2": 1}, {"V2": "经核查确有瞒报"})
    th.refresh_from_db()
    assert th.total == 0 and th.vetoed and "V2 瞒报谎报生产安全事故" in th.veto_reason
    c = Client()
    c.force_login(world["a1"])
    assert "触发一票否决" in c.get(f"/responsibility/assessment/sheets/{th.pk}/").content.decode()


def test_scope_own_sheet_and_evidence(world, year):
    th, py = _sheet(year, "天河区政府"), _sheet(year, "番禺区政府")
    c = Client()
    c.force_login(world["tianhe"])
    assert c.get("/responsibility/assessment/").url.endswith(f"/sheets/{th.pk}/")
    assert c.get(f"/responsibility/assessment/sheets/{py.pk}/").status_code == 404
    assert c.get(f"/responsibility/assessment/{year.year}/").url.endswith(f"/sheets/{th.pk}/")
    assert c.get(f"/responsibility/assessment/{year.year}/result.xlsx").status_code == 403
    b1 = year.indicators.get(group="district", code="B1")
    pdf = SimpleUploadedFile("责任清单.pdf", b"%PDF-1.4\n" + b"x" * 100)
    r = c.post(
        f"/responsibility/assessment/sheets/{th.pk}/evidence/",
        {"indicator": b1.pk, "file": pdf, "note": "责任清单"},
    )
    assert r.status_code == 302
    ev = th.evidence.get()
    assert c.get(ev.file.url).status_code == 200
    bad = SimpleUploadedFile("清单.pdf", b"<html><script>x</script></html>")
    r = c.post(
        f"/responsibility/assessment/sheets/{th.pk}/evidence/",
        {"indicator": b1.pk, "file": bad},
        follow=True,
    )
    assert "不是允许上传的类型" in r.content.decode()
    other = Client()
    other.force_login(world["panyu"])
    assert other.get(ev.file.url).status_code == 404
    none = Client()
    none.force_login(world["weihua"])
    assert none.get("/responsibility/assessment/").status_code == 403


def test_review_scored_aggregated_and_sent(world, year):
    th_gov = Department.objects.get(name="天河区政府")
    th_gov.email = "tianhe@example.org"
    th_gov.save()
    s = svc.create_session(
        world["a1"], department=th_gov, year=2022, speaker="天河区区长", held_on="2023-01-15"
    )
    account = _user("npc1", Role.DEPT_STAFF)
    people = [
        svc.add_reviewer(world["a1"], s, name=n, kind=k, account=account if i == 0 else None)
        for i, (n, k) in enumerate(
            [("王代表", "npc"), ("李委员", "cppcc"), ("赵代表", "npc"), ("周群众", "other")]
        )
    ]
    c = Client()
    c.force_login(account)
    r = c.post(
        f"/responsibility/reviews/score/{people[0].pk}/",
        {"duty": 31, "risk": 20, "emergency": 15, "report": 15},
        follow=True,
    )
    assert "履行安全生产职责" in r.content.decode() and "超出范围 0–30" in r.content.decode()
    c.post(
        f"/responsibility/reviews/score/{people[0].pk}/",
        {"duty": 30, "risk": 30, "emergency": 20, "report": 20, "comment": "工作扎实"},
    )
    assert c.get(f"/responsibility/reviews/score/{people[1].pk}/").status_code == 404
    for p, pts in zip(people[1:], (20, 25, 18), strict=True):
        svc.submit_review(world["a1"], p, {"duty": pts, "risk": pts, "emergency": 15, "report": 15})
    svc.close_session(world["a1"], s)
    s.refresh_from_db()
    assert s.result == 75.0  # 100, 70, 80, 66: drop 100 and 66
    assert "王代表(人大代表):工作扎实" in s.comments
    notes = svc.send_result(world["a1"], s)
    assert (
        notes
        and Notification.objects.filter(
            address="tianhe@example.org", subject__contains="述职评议结果"
        ).exists()
    )
    with pytest.raises(svc.AssessmentError, match="已送达"):
        svc.submit_review(
            world["a1"], people[1], {"duty": 1, "risk": 1, "emergency": 1, "report": 1}
        )
    assert Reviewer.objects.filter(kind="cppcc").count() == 1
    t = Client()
    t.force_login(world["tianhe"])
    assert "75" in t.get(f"/responsibility/reviews/{s.pk}/").content.decode()


def test_api_scores_refused_by_name_and_scoped(world, year):
    svc.compute(year)
    th = _sheet(year, "天河区政府")
    c = Client()
    c.force_login(world["a1"])
    url = f"/api/v1/responsibility/assessment/sheets/{th.pk}"
    r = c.post(f"{url}/first", {"values": {**GOOD, "B2": 11}}, content_type="application/json")
    assert r.status_code == 422 and "B2 应急预案管理与演练" in str(r.json())
    r = c.post(f"{url}/first", {"values": GOOD}, content_type="application/json")
    assert r.status_code == 200 and r.json()["state"] == "scored"
    c2 = Client()
    c2.force_login(world["a2"])
    r = c2.post(f"{url}/check", {"values": GOOD}, content_type="application/json")
    assert r.json() == {"state": "agreed", "differences": {}}
    ranking = c.get(f"/api/v1/responsibility/assessment/{year.year}/ranking").json()
    assert ranking[0]["department"] == "天河区政府" and ranking[0]["rank"] == 1
    t = Client()
    t.force_login(world["tianhe"])
    assert t.get(url).json()["total"] == ranking[0]["total"]
    assert t.get(f"/api/v1/responsibility/assessment/{year.year}/ranking").status_code == 403
    p = Client()
    p.force_login(world["panyu"])
    assert p.get(url).status_code == 404


def test_api_review_closed_and_sent(world, year):
    gov = Department.objects.get(name="番禺区政府")
    s = svc.create_session(
        world["a1"], department=gov, year=2022, speaker="番禺区区长", held_on="2023-01-12"
    )
    for name, kind, pts in (("甲", "npc", 20), ("乙", "cppcc", 25), ("丙", "other", 22)):
        r = svc.add_reviewer(world["a1"], s, name=name, kind=kind)
        svc.submit_review(world["a1"], r, {"duty": pts, "risk": pts, "emergency": 15, "report": 15})
    c = Client()
    c.force_login(world["a1"])
    base = "/api/v1/responsibility/assessment/reviews"
    assert c.post(f"{base}/{s.pk}/send").status_code == 422  # not aggregated yet
    assert c.post(f"{base}/{s.pk}/close").json()["result"] == 74.0  # 70, 80, 74: trimmed to 74
    assert c.post(f"{base}/{s.pk}/send").json()["state"] == "sent"
    p = Client()
    p.force_login(world["panyu"])
    assert [x["id"] for x in p.get(base).json()] == [s.pk]
    t = Client()
    t.force_login(world["tianhe"])
    assert t.get(base).json() == []
