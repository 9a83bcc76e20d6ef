"""The command screen follows a rain cell live, in Chromium at 1920×1080.

Real parts, as in test_rain_cell_chain.py: the shipped MQTT broker and the ingest
worker, the Guangzhou region pack, the demo accounts and sensor network. The
duty officer opens 指挥大屏 with the city at rest; the rain cell's readings are
published to the broker; without a reload the screen shows the monitoring
event at red, the sensors in alarm and their latest readings, the figures and
the timeline; once the warning drafted from the event is submitted and
approved, its area appears on the map and in the panel. The page polls once a
second here (YINGJI_COMMAND_POLL_SECONDS); its own timings are read back.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_rain_cell_chain import (  # noqa: F401 - the fixtures
    DEADLINE,
    _publish,
    _rain,
    _water,
    broker,
    guangzhou,
    wait_for,
    worker,
)
from yingji.alerts import services as alert_services
from yingji.alerts.models import Alert
from yingji.monitoring import services
from yingji.monitoring.models import Event
from yingji.response.models import DutyShift

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MIN = 60_000
POLL_S = 1.0


def test_the_command_screen_follows_a_rain_cell_without_reloading(
    request, logged_in_page, live_server, settings, django_user_model
):
    # The rain cell chain's fixtures (imported above): the city, the broker, the worker.
    request.getfixturevalue("guangzhou")
    mqtt = request.getfixturevalue("broker")
    request.getfixturevalue("worker")
    settings.YINGJI_COMMAND_POLL_SECONDS = POLL_S
    duty = django_user_model.objects.get(username="duty")
    leader = django_user_model.objects.get(username="leader")
    now = timezone.now()
    DutyShift.objects.create(
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=23),
        officer=duty,
        leader=leader,
    )

    page = logged_in_page("duty")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{live_server.url}/command/")
    timeout = DEADLINE * 1000
    expect(page.locator("#cmd-status")).to_contain_text("更新于", timeout=timeout)
    page.evaluate("window.__opened = true")  # gone if the page reloads
    expect(page.locator(".cmd-district-name", has_text="天河区")).to_have_count(1)
    duty_panel = page.locator('[data-panel="duty"]')
    expect(duty_panel).to_contain_text("值班员(演示)")
    expect(duty_panel).to_contain_text("局领导(演示)")
    readings = page.locator('[data-panel="readings"]')
    expect(readings).to_contain_text("当前没有报警的传感器")
    expect(page.locator(".cmd-mark.cmd-events")).to_have_count(0)
    # Readable from across the room: large type on a dark screen, no side menu.
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 20, size
    assert page.locator(".sidenav").count() == 0
    box = page.locator("#cmd-map").bounding_box()
    assert box["width"] >= 1200 and box["height"] >= 900, box

    # ---- the rain cell arrives: the event, its level, the sensors in alarm ------
    t0 = time.monotonic()
    start = services.now_ms()
    _publish(mqtt, _rain(start) + _water(start - 9 * MIN, 35.0))
    event = page.locator(".cmd-mark.cmd-events.lv-red")
    expect(event).to_have_count(1, timeout=timeout)
    shown_after = time.monotonic() - t0
    expect(event).to_contain_text("1")  # one sensor in alarm so far
    expect(page.locator("path.cmd-mark.cmd-sensors.lv-red")).to_have_count(1)
    gauge = readings.locator(".cmd-row.lv-red", has_text="石牌街道雨量站")
    expect(gauge).to_have_count(1, timeout=timeout)
    expect(gauge).to_contain_text("25 mm")  # its latest reading
    expect(gauge).to_contain_text("红色")
    expect(gauge.locator("svg.cmd-spark")).to_have_count(1)  # the last readings
    figures = page.locator("#cmd-figures")
    expect(figures).to_contain_text("监测事件(红色 1)", timeout=timeout)
    expect(figures).to_contain_text("报警传感器")
    timeline = page.locator('[data-panel="_timeline"]')
    expect(timeline).to_contain_text("天河区暴雨监测事件开始,现为红色", timeout=timeout)
    # The water keeps rising: the second sensor joins the event on screen.
    _publish(mqtt, _water(start - 3 * MIN, 38.0))
    expect(event).to_contain_text("2", timeout=timeout)
    expect(page.locator("path.cmd-mark.cmd-sensors")).to_have_count(2, timeout=timeout)
    expect(readings.locator(".cmd-row", has_text="石牌街道积水点")).to_have_count(
        1, timeout=timeout
    )

    # ---- the warning drafted from the event is published: its area appears ------
    monitoring_event = Event.objects.get(level="red")
    draft = wait_for(
        lambda: Alert.objects.filter(monitoring_event=monitoring_event.pk).first(), "the draft"
    )
    expect(page.locator("path.cmd-mark.cmd-warnings")).to_have_count(0)
    alert_services.submit(draft, duty)
    draft.refresh_from_db()
    alert_services.approve(draft, leader)
    draft.refresh_from_db()
    assert draft.state == "published"
    expect(page.locator("path.cmd-mark.cmd-warnings.lv-red").first).to_be_visible(timeout=timeout)
    warnings = page.locator('[data-panel="warnings.panel"]')
    expect(warnings).to_contain_text(draft.headline, timeout=timeout)
    expect(figures).to_contain_text("生效预警(红橙 1)", timeout=timeout)
    expect(timeline).to_contain_text(f"发布:{draft.headline}", timeout=timeout)

    # ---- no reload, and the refresh measured ------------------------------------
    assert page.evaluate("window.__opened === true")
    stats = page.evaluate("window.yingjiCommand.stats")
    assert stats["errors"] == 0
    intervals, latencies = stats["intervals"], stats["latencies"]
    assert len(intervals) >= 3
    median = statistics.median(intervals)
    assert POLL_S * 1000 * 0.8 <= median <= POLL_S * 1000 * 2.5, intervals
    print(
        f"\ncommand screen: {stats['polls']} polls, interval median {median:.0f} ms "
        f"(max {max(intervals)}), latency median {statistics.median(latencies):.0f} ms "
        f"(max {max(latencies)}), server build median {statistics.median(stats['serverMs'])} ms, "
        f"bytes median {statistics.median(stats['bytes']):.0f} (max {max(stats['bytes'])}); "
        f"reading published → event on screen {shown_after:.1f} s"
    )
