"""In Chromium: 执法处 draws the year, re-runs the draw to verify it (htmx),
records an inspection from the checklist, publishes it, and the public sees it
without logging in."""

import pytest

from tests.enforcement import factories as f
from yingji.enforcement.models import Inspection

# Playwright's sync API runs an event loop in this thread; the ORM calls made by
# the test itself (fixtures, assertions) are plain synchronous code.

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_plan_drawn_verified_carried_out_and_published(live_server, browser, logged_in_page):
    w = f.world()
    page = logged_in_page("zhifa")

    page.goto(f"{live_server.url}/enforcement/plans/{w['plan'].pk}/")
    assert page.inner_text("#plan-seed") == w["plan"].seed
    page.click("#draw-annual")
    page.wait_for_selector("text=年度抽取完成:5 户")
    page.click("a:has-text('年度抽取')")
    page.wait_for_selector("#verify")
    page.click("#verify")
    page.wait_for_selector("#verification:has-text('复核一致')")

    inspection = Inspection.objects.filter(category="hc_use").first()
    page.goto(f"{live_server.url}/enforcement/inspections/{inspection.pk}/")
    page.check("input[name=problem_HC-01]")
    page.fill("input[name=description_HC-01]", "未建立危险化学品安全管理制度")
    page.click("#record-form button[type=submit]")
    page.wait_for_selector("#outcome")
    assert page.inner_text("#outcome") == "立案查处"
    page.click("#publish")
    page.wait_for_selector("#published")

    anonymous = browser.new_context().new_page()
    anonymous.goto(f"{live_server.url}/enforcement/public/")
    text = anonymous.inner_text("#publications")
    assert inspection.enterprise.name in text and "立案查处" in text
