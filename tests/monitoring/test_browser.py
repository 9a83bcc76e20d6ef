"""In Chromium: a duty officer on the live monitoring page (map of sensors by
level, acknowledge and silence through the buttons, the sensor's chart), and a
leader saving a rule in the rule editor after a dry run."""

import pytest

from yingji.core.models import Role
from yingji.monitoring import services
from yingji.monitoring.models import Alarm, AlarmRule

from .conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MIN = 60_000


def _layer_count(page, title):
    label = page.locator(".yingji-layers label", has_text=title)
    label.locator(".state", has_text="(").wait_for()
    return label.locator(".state").inner_text()


def test_duty_officer_handles_alarms_and_leader_saves_a_rule(live_server, logged_in_page, world):
    t0 = services.now_ms() - 30 * MIN
    services.Ingestor().ingest(
        [("RG-001", t0 + i * MIN, 3.0 + i, "mm") for i in range(5)] + [("RG-002", t0, 35.0, "mm")],
        source="t",
    )  # 25 mm blue, 35 mm yellow
    blue, yellow = (
        Alarm.objects.get(sensor__code="RG-001"),
        Alarm.objects.get(sensor__code="RG-002"),
    )
    base = live_server.url

    page = logged_in_page("duty")
    page.goto(f"{base}/monitoring/")
    # The map link opens the one map with the monitoring layers: sensors by level.
    page.click("text=在一张图查看传感器与报警级别")
    assert _layer_count(page, "报警:蓝色") == "(1)"
    assert _layer_count(page, "报警:黄色") == "(1)"
    assert _layer_count(page, "传感器:正常") == "(1)"
    # …and the three sensors are drawn on it (a marker with no size is "M0 0").
    page.wait_for_function(
        """() => {
        const d = [...document.querySelectorAll('#map path.leaflet-interactive')]
            .map(p => p.getAttribute('d') || '');
        return d.length >= 3 && d.every(x => x.length > 8);
    }""",
        timeout=10000,
    )
    page.go_back()

    page.locator(f"#alarm-{blue.pk} button", has_text="确认").click()
    page.locator(f"#alarm-{blue.pk}", has_text="已确认").wait_for()
    row = page.locator(f"#alarm-{yellow.pk}")
    row.locator("input[name=reason]").fill("现场已处置")
    row.locator("button", has_text="静默").click()
    page.locator(f"#alarm-{yellow.pk}", has_text="已静默").wait_for()
    blue.refresh_from_db()
    yellow.refresh_from_db()
    assert (blue.state, yellow.state) == ("acknowledged", "silenced")

    page.click(f"#alarm-{blue.pk} >> text=五山雨量站")
    page.wait_for_selector("svg[aria-label=读数曲线] polyline")
    assert "最近 24 小时读数(5 条)" in page.inner_text("main")

    page = logged_in_page(make_user("leader", role=Role.LEADER))
    page.goto(f"{base}/monitoring/rules/")
    page.click("text=新建规则")
    page.fill("input[name=name]", "30分钟雨量")
    page.select_option("select[name=sensor_type]", "rain")
    page.select_option("select[name=metric]", "sum")
    page.fill("input[name=window_s]", "1800")
    page.fill("input[name=blue]", "20")
    page.fill("input[name=yellow]", "10")
    page.click("button[value=save]")
    assert "黄色阈值(10)应大于蓝色阈值(20)" in page.inner_text("form.rule")
    page.fill("input[name=yellow]", "30")
    page.click("button[value=dry_run]")
    assert "会报警的传感器 2 个" in page.inner_text("#dry-run")
    assert not AlarmRule.objects.filter(name="30分钟雨量").exists()
    page.click("button[value=save]")
    page.wait_for_selector(".messages li.success")
    assert "30分钟雨量" in page.inner_text("table")
    assert AlarmRule.objects.get(name="30分钟雨量").window_s == 1800
