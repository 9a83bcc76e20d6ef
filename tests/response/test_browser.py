"""In Chromium: a red rainstorm alert reaches the duty desk; the duty officer
registers the incident, activates the proposed plan with one click, sees the
cards and the timeline, and finds the incident on the one map."""

import pytest
from django.utils import timezone

from yingji.alerts.events import alert_published
from yingji.response import plans
from yingji.response.models import ActionCard

from .conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_alert_to_activated_plan_on_the_desk_and_the_map(live_server, logged_in_page, tianhe):
    plans.load_red_rainstorm()
    make_user("duty", role="duty_officer")
    alert_published.send(
        sender=None,
        alert_id=1,
        identifier="GZ-RED-1",
        status="Actual",
        msg_type="Alert",
        event="暴雨红色预警信号",
        level="red",
        severity="Extreme",
        area_codes=["440106001"],
        exercise=False,
        at=timezone.now(),
    )
    page = logged_in_page("duty")

    page.goto(f"{live_server.url}/response/")
    assert "预警发布:暴雨红色预警信号" in page.inner_text("#desk-items")
    page.click("#desk-items button:has-text('登记事件')")
    page.wait_for_selector("#incident-level")
    assert "石牌街道" in page.inner_text("main")
    page.click("#proposals button:has-text('启动二级响应')")
    page.wait_for_selector(".messages li.success")
    assert "停课" in page.inner_text(".activation") and "二级响应" in page.inner_text("#timeline")
    assert ActionCard.objects.filter(title="停课").count() == 1

    page.goto(f"{live_server.url}/map/")
    label = page.locator(".yingji-layers label", has_text="突发事件")
    label.locator(".state").filter(has_text="(1)").wait_for(timeout=15000)
    assert page.locator(".leaflet-interactive").count() >= 1
    # let the other layers' requests finish so no server thread holds the database
    page.wait_for_load_state("networkidle")
    page.close()
