"""One rain cell over 石牌街道, end to end, as the bureau would live it.

Real parts: the shipped MQTT broker and the ingest worker, the test database (SQLite,
and PostgreSQL in the second pass of `make test`), the Guangzhou region pack, the
bureau's departments and street offices, the demo accounts and the shipped red
rainstorm plan; Debian's Chromium for every human step.

The cell: one rain gauge (RG-440106006) and one waterlogging point (WL-440106006) in
石牌街道 cross their red and orange lines. Asserted, as a user would notice it: one
monitoring event (red) holding every alarm, one warning draft naming the street, one
item on the duty desk; the duty officer edits and submits the draft and is refused
approval (page, crafted form post and API); the leader approves; every subscriber in
the street gets the SMS through the demo channel and nobody in 越秀区 does; 登记事件
and 启动二级响应 from the desk; the plan's area cards go to 天河区政府 and 石牌街道's
office only; both acknowledge on their own page; 终止响应 closes the event; the
after-action report counts what happened.
"""

from __future__ import annotations

import re
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from django.core.management import call_command
from django.test import Client
from paho.mqtt.enums import CallbackAPIVersion
from playwright.sync_api import expect

from yingji.alerts import services as alert_services
from yingji.alerts.models import Alert, Subscriber
from yingji.core import outbox, regions
from yingji.core.models import Department, DepartmentKind, Region
from yingji.monitoring import demo as monitoring_demo
from yingji.monitoring import payloads, services
from yingji.monitoring.broker import Broker
from yingji.monitoring.ingest import Worker
from yingji.monitoring.models import Alarm, Event
from yingji.response import plans
from yingji.response.models import ActionCard, DeskItem, Incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHIPAI = "440106006"
MIN = 60_000
DEADLINE = 60.0  # generous: the machine may be busy


def wait_for(predicate, what: str, timeout: float = DEADLINE):
    """Poll until `predicate()` is truthy (its value is returned); fail naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for: {what}")


@pytest.fixture
def guangzhou(settings):
    """What `yingji demo` loads that the chain needs, through the same commands."""
    settings.YINGJI_DEMO_CHANNELS = True  # as under `make demo`
    call_command("regions", "load", "guangzhou", verbosity=0)
    regions.invalidate_index()
    call_command("departments", "load", verbosity=0)
    call_command("departments", "street-offices", verbosity=0)
    call_command("demo_users", verbosity=0)
    monitoring_demo.load_demo()
    plan, _ = plans.load_red_rainstorm()
    yield plan
    regions.invalidate_index()


def _subscribers():
    """Six people located in 石牌街道, two in a street of 越秀区; SMS only."""
    shipai = Region.objects.get(code=SHIPAI)
    yuexiu = Region.objects.filter(parent__code="440104", level="street").order_by("code").first()
    made = []
    for n, (region, count) in enumerate([(shipai, 6), (yuexiu, 2)]):
        for i in range(count):
            s = Subscriber.objects.create(
                external_id=f"e2e-{region.code}-{i}",
                name=f"订阅人{n}{i}",
                phone=f"86139{n:02d}{i:06d}",
                channels=["sms"],
                last_lon=region.centroid_lon + (i - 3) * 0.0005,
                last_lat=region.centroid_lat + (i % 2) * 0.0005,
            )
            made.append(s)
    got = {s.external_id: Subscriber.objects.get(pk=s.pk).located_region for s in made}
    # The scenario only means something if the people are where it says.
    assert list(got.values()).count(SHIPAI) == 6, got
    assert all(c.startswith("440104") for k, c in got.items() if "440104" in k), got
    return made


@pytest.fixture
def broker():
    b = Broker().start()
    yield b
    b.stop(kill=True)


@pytest.fixture
def worker(broker):
    w = Worker(port=broker.port, client_id=f"e2e-{uuid.uuid4().hex[:8]}", group="e2e")
    thread = threading.Thread(target=w.run, daemon=True)
    thread.start()
    assert w.connected.wait(DEADLINE), "the ingest worker did not connect"
    yield w
    w.stop()
    thread.join(DEADLINE)


def _publish(broker, messages):
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    try:
        infos = [c.publish(topic, body, qos=1) for topic, body in messages]
        for info in infos:
            info.wait_for_publish(timeout=DEADLINE)
        assert all(info.is_published() for info in infos)
    finally:
        c.loop_stop()
        c.disconnect()


def _rain(now_ms: int):
    """125 mm in 50 minutes on the gauge: the 1 h and 3 h sums are red."""
    return [
        (payloads.READINGS_TOPIC + f"RG-{SHIPAI}", payloads.encode_reading(now_ms - m * MIN, 25.0))
        for m in (50, 40, 30, 20, 10)
    ]


def _water(at_ms: int, cm: float):
    return [(payloads.READINGS_TOPIC + f"WL-{SHIPAI}", payloads.encode_reading(at_ms, cm))]


def _delivered(alert):
    outbox.flush()
    rows = alert_services.warning_rows(alert).filter(channel="sms")
    return rows if rows.exists() and not rows.exclude(status="delivered").exists() else None


def test_one_rain_cell_from_the_first_reading_to_the_after_action_report(
    guangzhou, broker, worker, logged_in_page, live_server
):
    plan = guangzhou
    people = _subscribers()

    # ---- readings in: one event, one draft, one desk item --------------------------
    now = services.now_ms()
    # The street floods: 35 cm is orange once it has stood 5 minutes (pending until
    # then); readings arrive as they are taken, the second 6 minutes after the first.
    _publish(broker, _rain(now) + _water(now - 9 * MIN, 35.0))
    event = wait_for(lambda: Event.objects.filter(level="red").first(), "a red monitoring event")
    wait_for(
        lambda: Alarm.objects.filter(sensor__code=f"WL-{SHIPAI}", state="pending").exists(),
        "the waterlogging alarm pending",
    )
    _publish(broker, _water(now - 3 * MIN, 38.0))
    wait_for(
        lambda: Alarm.objects.filter(sensor__code=f"WL-{SHIPAI}", state="firing").exists(),
        "the waterlogging alarm firing after 5 minutes above its line",
    )
    assert Event.objects.count() == 1
    alarms = Alarm.objects.filter(event=event)
    assert {a.sensor.code for a in alarms} == {f"RG-{SHIPAI}", f"WL-{SHIPAI}"}
    assert alarms.count() >= 3  # 1 h and 3 h windows of the gauge, the water depth
    assert not Alarm.objects.exclude(event=event).filter(state="firing").exists()
    draft = wait_for(lambda: Alert.objects.filter(monitoring_event=event.pk).first(), "a draft")
    assert Alert.objects.count() == 1 and draft.state == "draft" and draft.colour == "red"
    assert "天河区石牌街道" in draft.headline and draft.author is None
    item = wait_for(lambda: DeskItem.objects.filter(source="event").first(), "a desk item")
    assert DeskItem.objects.filter(kind=DeskItem.Kind.PROPOSE).count() == 1
    assert item.source_ref == str(event.pk) and item.level == "red"

    # ---- the duty officer: desk → draft → edit → submit --------------------------
    duty = logged_in_page("duty")
    duty.goto(f"{live_server.url}/response/")
    row = duty.locator("#desk-items tbody tr", has_text="监测事件")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("红色")
    row.get_by_role("link", name=re.compile("预警")).first.click()
    expect(duty.locator("h1")).to_contain_text("天河区石牌街道暴雨红色预警")
    duty.get_by_role("link", name="修改草稿").click()
    duty.locator("textarea[name=instruction]").fill("石牌街道低洼地带人员立即转移,停课停业。")
    duty.locator("textarea[name=internal_note]").fill("请三防处核实雨量站数据")
    duty.get_by_role("button", name="保存修改").click()
    expect(duty.locator("body")).to_contain_text("草稿已修改")
    duty.get_by_role("button", name="提交审核").click()
    expect(duty.locator("#alert-state")).to_have_text("待审核")
    # Four eyes: whoever submitted it sees no approve button …
    expect(duty.get_by_role("button", name=re.compile("批准发布"))).to_have_count(0)
    expect(duty.locator("#actions")).to_contain_text("四眼原则")
    # … and a crafted form post or API call is refused, the warning unchanged.
    draft.refresh_from_db()
    assert draft.author.username == "duty"  # a system draft is owned by its first submitter
    crafted = Client()
    crafted.force_login(draft.author)
    assert crafted.post(f"/alerts/{draft.pk}/approve/").status_code == 403
    api = crafted.post(f"/api/v1/alerts/{draft.pk}/approve")
    assert api.status_code == 403 and "四眼原则" in api.json()["detail"]
    draft.refresh_from_db()
    assert draft.state == "review" and draft.approver is None

    # ---- the leader approves; the street's people get the SMS --------------------
    leader = logged_in_page("leader")
    leader.goto(f"{live_server.url}/alerts/{draft.pk}/")
    leader.get_by_role("button", name=re.compile("批准发布")).click()
    expect(leader.locator("#alert-state")).to_have_text("已发布")
    draft.refresh_from_db()
    assert draft.approver.username == "leader" and draft.author.username == "duty"
    assert draft.expires is not None and "请三防处核实" not in draft.description
    sent = wait_for(lambda: _delivered(draft), "all SMS delivered through the demo channel")
    reached = set(sent.values_list("address", flat=True))
    street = {s.phone for s in people if s.external_id.startswith(f"e2e-{SHIPAI}")}
    elsewhere = {s.phone for s in people} - street
    assert street <= reached and not (elsewhere & reached)
    assert all(v == "demo" for v in sent.values_list("via", flat=True))

    # ---- the desk: still one item, now with the published warning; 登记事件 --------
    duty.goto(f"{live_server.url}/response/")
    row = duty.locator("#desk-items tbody tr", has_text="监测事件")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("已发布")
    row.get_by_role("button", name="登记事件").click()
    incident = wait_for(lambda: Incident.objects.first(), "the incident registered")
    assert Incident.objects.count() == 1
    duty.goto(f"{live_server.url}/response/incidents/{incident.pk}/")
    duty.get_by_role("button", name="启动二级响应").click()
    expect(duty.locator("body")).to_contain_text("终止响应")
    activation = incident.activations.get()
    assert activation.plan == plan and activation.level == "II"

    # ---- cards: only the area's district and street offices among the offices ----
    cards = ActionCard.objects.filter(activation=activation).select_related("department")
    area_cards = cards.filter(
        department__kind__in=[DepartmentKind.DISTRICT_GOV, DepartmentKind.STREET_OFFICE]
    )
    offices = {c.department.name for c in area_cards}
    tianhe_gov = Department.objects.get(kind=DepartmentKind.DISTRICT_GOV, region__code="440106")
    shipai_office = Department.objects.get(kind=DepartmentKind.STREET_OFFICE, region__code=SHIPAI)
    assert offices == {tianhe_gov.name, shipai_office.name}
    assert area_cards.count() == 3  # 转移危险区域群众 (district); 巡查 and 逐户转移 (street)
    for username, office in (("tianhe", tianhe_gov), ("shipai", shipai_office)):
        page = logged_in_page(username)
        page.goto(f"{live_server.url}/response/cards/mine/")
        mine = area_cards.filter(department=office)
        buttons = page.get_by_role("button", name="签收")
        expect(buttons).to_have_count(mine.count())
        for _ in range(mine.count()):
            buttons.first.click()
            page.wait_for_load_state()
        expect(buttons).to_have_count(0)
    assert not area_cards.exclude(state="acknowledged").exists()
    assert all(c.acknowledged_by is not None for c in area_cards.all())

    # ---- stand-down closes the event; the after-action report counts it all ------
    duty.goto(f"{live_server.url}/response/incidents/{incident.pk}/")
    duty.get_by_role("button", name="终止响应").click()
    expect(duty.locator("body")).to_contain_text("总结评估")
    event.refresh_from_db()
    assert event.state == "closed"
    duty.goto(f"{live_server.url}/response/incidents/{incident.pk}/after-action/")
    report = duty.locator("body")
    expect(report).not_to_contain_text("响应尚未终止")
    expect(report).to_contain_text(f"报警 {alarms.count()} 条")
    expect(report).to_contain_text(f"行动卡 {cards.count()} 张,已签收 3 张")
    sms = duty.locator("#aa-warnings tr[data-channel=sms] td")
    expect(sms.nth(1)).to_have_text(str(len(reached)))
    expect(sms.nth(2)).to_have_text(str(len(reached)))
    expect(sms.nth(3)).to_have_text("0")
