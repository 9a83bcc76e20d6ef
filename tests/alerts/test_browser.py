"""In Chromium: a drafter draws a circle on the drafting form's map, submits the
alert for review, and a second person approves it; the public page shows it."""

import pytest

from yingji.alerts.models import Alert

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_draw_a_circle_submit_and_approve(live_server, logged_in_page, city, people, subscribers):
    base = live_server.url
    page = logged_in_page("sanfang")
    page.goto(f"{base}/alerts/new/")
    page.wait_for_selector("#alert-draw-map .leaflet-draw-draw-circle")
    page.click(".leaflet-draw-draw-circle")
    box = page.locator("#alert-draw-map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 40, cy, steps=5)
    page.mouse.up()
    assert float(page.input_value("input[name=circle_radius]")) > 0
    assert page.input_value("input[name=circle_lat]").startswith("23.")
    page.select_option("select[name=hazard]", "typhoon")
    page.select_option("select[name=colour]", "blue")
    page.fill("textarea[name=description]", "台风蓝色预警,注意防风。")
    for box_ in page.locator("input[name=channels]").all():
        box_.uncheck()
    page.click("button[name=submit_now]")
    page.wait_for_selector("#alert-state")
    assert page.inner_text("#alert-state") == "待审核"
    alert = Alert.objects.get()
    assert alert.areas.get().kind == "circle" and alert.state == "review"

    other = logged_in_page("leader")
    other.goto(f"{base}/alerts/{alert.pk}/")
    other.click("text=批准发布")
    other.wait_for_selector("#alert-state:has-text('已发布')")
    other.goto(f"{base}/alerts/public/")
    assert "台风蓝色预警" in other.inner_text("#live")
