"""In Chromium: a reviewer (人大代表) fills the 述职 score sheet on a 375 px phone —
one column, no sideways scrolling, a score out of range refused by name — and an
assessor reconciles a difference between the two assessors on a sheet."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.browser.test_phone_layout import MEASURE, TAP
from yingji.core.models import Department, DepartmentKind, Profile, Region, Role
from yingji.responsibility import assessment as svc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}
CONTEXT = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
GOOD = {"B1": 13, "B2": 8, "B3": 9, "B4": 4, "C1": 0, "C2": 0, "D1": 0, "V2": 0}


def _user(username, role, department=None) -> User:
    u = User.objects.create_user(username, email=f"{username}@example.org")
    Profile.objects.create(user=u, role=role, department=department, full_name=f"{username}同志")
    return u


@pytest.fixture
def setting():
    city = Region.objects.create(code="440100", name="广州市", level="city")
    tianhe = Region.objects.create(code="440106", name="天河区", level="district", parent=city)
    gov = Department.objects.create(
        name="天河区政府", kind=DepartmentKind.DISTRICT_GOV, region=tianhe
    )
    zonghe = Department.objects.create(name="综合处")
    return {
        "gov": gov,
        "a1": _user("zh1", Role.DEPT_STAFF, zonghe),
        "a2": _user("zh2", Role.DEPT_STAFF, zonghe),
        "npc": _user("npc", Role.DEPT_STAFF),
    }


def test_reviewer_scores_on_a_phone(setting, logged_in_page, live_server):
    session = svc.create_session(
        setting["a1"],
        department=setting["gov"],
        year=2022,
        speaker="天河区区长",
        held_on="2023-01-10",
    )
    svc.add_reviewer(setting["a1"], session, name="王代表", kind="npc", account=setting["npc"])
    page = logged_in_page(setting["npc"], viewport=PHONE, **CONTEXT)
    page.goto(f"{live_server.url}/responsibility/reviews/")
    page.locator("#mine a").first.click()
    expect(page.locator("h1")).to_contain_text("述职评分表")
    page.get_by_label("履行安全生产职责(0–30 分)").fill("35")
    page.get_by_label("风险防控和隐患治理(0–30 分)").fill("26")
    page.get_by_label("应急准备与处置(0–20 分)").fill("17")
    page.get_by_label("述职报告质量(0–20 分)").fill("18")
    page.get_by_label("评议意见").fill("隐患整改闭环要再抓紧")
    measured = page.evaluate(MEASURE, TAP)
    assert measured["scrollWidth"] <= measured["innerWidth"], measured["wide"]
    assert not measured["ragged"], measured["ragged"]
    assert not measured["small"], measured["small"]
    page.get_by_role("button", name="提交评分").click()
    expect(page.locator(".messages")).to_contain_text("超出范围 0–30", timeout=20_000)
    page.get_by_label("履行安全生产职责(0–30 分)").fill("27")
    page.get_by_label("风险防控和隐患治理(0–30 分)").fill("26")
    page.get_by_label("应急准备与处置(0–20 分)").fill("17")
    page.get_by_label("述职报告质量(0–20 分)").fill("18")
    page.get_by_role("button", name="提交评分").click()
    expect(page.locator("#my-total")).to_have_text("88", timeout=20_000)


def test_assessor_reconciles_a_difference(setting, logged_in_page, live_server):
    iset = svc.ensure_set(2022)
    svc.open_sheets(iset)
    svc.compute(iset)
    sheet = iset.sheets.get(department=setting["gov"])
    svc.score_first(setting["a1"], sheet, GOOD)
    assert svc.check(setting["a2"], sheet, {**GOOD, "B1": 8}) == {"B1": (13.0, 8.0)}
    page = logged_in_page(setting["a1"], **CONTEXT)
    page.goto(f"{live_server.url}/responsibility/assessment/sheets/{sheet.pk}/")
    expect(page.locator("#sheet-state")).to_have_text("复核有差异,待协调", timeout=20_000)
    expect(page.locator("#row-B1")).to_have_class("late")
    page.get_by_label("B1 协调分").fill("10.5")
    page.get_by_role("button", name="确认协调结果").click()  # no reason: the browser refuses
    assert page.get_by_label("B1 协调理由").evaluate("e => !e.validity.valid")
    page.get_by_label("B1 协调理由").fill("会议纪要齐全,责任清单印发偏晚")
    page.get_by_role("button", name="确认协调结果").click()
    expect(page.locator("#sheet-state")).to_have_text("已确认", timeout=20_000)
    expect(page.locator("#row-B1")).to_contain_text("会议纪要齐全")
    expect(page.locator("#sheet-total")).to_have_text("91.50")  # 60 computed + 10.5 + 8 + 9 + 4
