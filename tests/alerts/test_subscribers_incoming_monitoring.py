"""Subscriber import (CSV, Excel), incoming CAP (push, poll, re-release with one
approval) and the draft raised by monitoring's regional level change."""

import datetime as dt
import http.server
import io
import threading
from pathlib import Path

import openpyxl
import pytest
from django.utils import timezone

from yingji.alerts import cap, incoming, services
from yingji.alerts import subscribers as subscriber_service
from yingji.alerts.models import Alert, IncomingCap, IncomingFeed, Subscriber
from yingji.monitoring.events import event_changed

CAP_DIR = Path(__file__).parent / "cap"
HEADER = "external_id,name,phone,email,webhook_url,language,channels,home_region,lon,lat,crs,groups,opted_out\n"


def test_csv_import_creates_then_updates(city):
    data = (
        HEADER
        + "S1,天河小学,8613800000001,,,,sms,440106,113.36,23.12,wgs84,学校|public,\n"
        + "S2,张三,,z@example.org,,en-US,,,,,,区值班员,\n"
    ).encode("utf-8")
    report = subscriber_service.import_subscribers("list.csv", data)
    assert (report.created, report.updated, report.errors) == (2, 0, [])
    school = Subscriber.objects.get(external_id="S1")
    assert sorted(g.key for g in school.groups.all()) == ["public", "school"]
    assert school.channels == ["sms"] and school.home_region_id == "440106"
    assert school.located_region == "440106001"  # the street of its location, stored
    again = subscriber_service.import_subscribers("list.csv", data.replace(b"Z@", b"z@"))
    assert (again.created, again.updated) == (0, 2) and Subscriber.objects.count() == 2


def test_import_reads_the_chinese_headers_and_channel_names(city):
    header = ",".join(subscriber_service.IMPORT_HEADERS.values()) + "\n"
    data = (header + "S1,天河小学,8613800000001,,,,短信|邮件,440106,,,,学校,是\n").encode()
    report = subscriber_service.import_subscribers("list.csv", data)
    assert report.errors == []
    school = Subscriber.objects.get(external_id="S1")
    assert school.channels == ["sms", "email"] and school.opted_out
    bad = subscriber_service.import_subscribers(
        "b.csv", (header + "S2,乙,1,,,,sms|fax,,,,,,\n").encode()
    )
    assert "渠道只能是短信、邮件、群机器人" in bad.errors[0]


def test_import_converts_gcj02_locations(city):
    data = (HEADER + "S1,甲,8613800000001,,,,,,113.3650,23.1250,gcj02,,\n").encode()
    subscriber_service.import_subscribers("a.csv", data)
    s = Subscriber.objects.get()
    assert abs(s.last_lon - 113.3650) > 0.003  # moved back by the GCJ-02 offset
    assert 113.35 < s.last_lon < 113.37


def test_a_bad_file_imports_nothing_and_names_each_row(city):
    data = (
        HEADER
        + "S1,甲,8613800000001,,,,,,,,,,\n"
        + ",乙,,,,,,,,,,,\n"
        + "S3,丙,8613800000003,,,,fax,999999,abc,23,,不存在的组,\n"
    ).encode("gb18030")
    report = subscriber_service.import_subscribers("bad.csv", data)
    assert Subscriber.objects.count() == 0
    assert report.errors[0].startswith("第 3 行:缺少编号")
    assert "第 4 行" in report.errors[1]
    for words in ("区划代码不存在:999999", "人群分组不存在:不存在的组", "经纬度无效", "渠道只能是"):
        assert words in report.errors[1]


def test_excel_import(city):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(
        [
            "X1",
            "某医院",
            "8613800000009",
            "",
            "",
            "",
            "",
            "440104",
            113.25,
            23.1,
            "",
            "hospital",
            "否",
        ]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    report = subscriber_service.import_subscribers("list.xlsx", buffer.getvalue())
    assert report.errors == [] and report.created == 1
    assert Subscriber.objects.get().groups.get().key == "hospital"


def test_import_page_shows_errors(client, people, city):
    client.force_login(people["author"])
    bad = io.BytesIO((HEADER + ",x,,,,,,,,,,,\n").encode())
    bad.name = "bad.csv"
    page = client.post("/alerts/subscribers/", {"file": bad}, follow=True).content.decode()
    assert "第 2 行" in page and "未导入任何订阅人" in page


# ------------------------------------------------------------------- incoming


def test_push_endpoint_stores_each_alert_once(client, db):
    IncomingFeed.objects.create(name="市气象台", token="t0ken")
    data = (CAP_DIR / "atom_feed_24_alerts.xml").read_bytes()
    first = client.post("/api/v1/alerts/incoming/t0ken", data, content_type="application/xml")
    assert first.status_code == 201 and len(first.json()) == 24
    client.post("/api/v1/alerts/incoming/t0ken", data, content_type="application/xml")
    assert IncomingCap.objects.count() == 24
    assert (
        client.post(
            "/api/v1/alerts/incoming/wrong", data, content_type="application/xml"
        ).status_code
        == 404
    )


def test_push_refuses_entities_and_fetches_nothing(client, db):
    IncomingFeed.objects.create(name="x", token="tok")
    evil = (CAP_DIR / "invalid" / "xxe_external_entity.xml").read_bytes()
    response = client.post("/api/v1/alerts/incoming/tok", evil, content_type="application/xml")
    assert response.status_code == 422 and "DTD" in response.content.decode()
    assert IncomingCap.objects.count() == 0


def test_invalid_incoming_messages_are_kept_with_their_problems(db):
    items = incoming.receive_cap((CAP_DIR / "invalid" / "polygon_not_closed.xml").read_bytes())
    assert "polygon:closed" in items[0].problems[0]


def test_polling_a_feed(db):
    body = (CAP_DIR / "gz_rainstorm_red_zh_en.xml").read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        feed = IncomingFeed.objects.create(
            name="气象台", token="p", url=f"http://127.0.0.1:{server.server_port}/cap"
        )
        stored = incoming.poll_feed(feed)
    finally:
        server.shutdown()
    assert [i.headline for i in stored] == ["广州市气象台发布暴雨红色预警[Ⅰ级/特别严重]"]
    feed.refresh_from_db()
    assert feed.last_error == "" and feed.last_polled_at is not None
    dead = IncomingFeed.objects.create(name="死链", token="d", url="http://127.0.0.1:1/x")
    assert incoming.poll_feed(dead) == []
    dead.refresh_from_db()
    assert "URLError" in dead.last_error


def test_rerelease_needs_one_approval_and_keeps_the_source(
    client, people, subscribers, django_capture_on_commit_callbacks
):
    item = incoming.receive_cap((CAP_DIR / "gz_rainstorm_red_zh_en.xml").read_bytes())[0]
    client.force_login(people["author"])
    response = client.post(
        f"/alerts/incoming/{item.pk}/", {"regions": ["440104"], "channels": ["sms"]}
    )
    alert = Alert.objects.get()
    assert response.status_code == 302 and alert.state == "review"
    assert alert.origin == "incoming" and alert.incoming == item
    assert alert.hazard == "rainstorm" and alert.colour == "red"
    assert alert.headline.startswith("【转发】广州市气象台发布暴雨红色预警")
    assert alert.population_estimate == 2  # b-public, b-sanfang in 越秀区
    with django_capture_on_commit_callbacks(execute=False):
        alert = services.approve(alert, people["leader"])
    assert alert.state == "published"
    assert cap.parse_one(alert.cap_xml.encode()).infos[0].areas[0].area_desc == "越秀区"


# ---------------------------------------------------------------- monitoring


def _event(areas=("440106",), level="orange", state="open", hazard="rainstorm", event_id=1):
    event_changed.send(
        sender=None,
        event_id=event_id,
        hazard=hazard,
        level=level,
        previous=None,
        max_level=level,
        district_code="440106",
        area_codes=list(areas),
        alarm_ids=[1, 2],
        state=state,
        at=timezone.now(),
    )


def test_a_monitoring_event_drafts_an_alert_for_review(city):
    _event(level="orange")
    alert = Alert.objects.get()
    assert (alert.state, alert.origin, alert.colour, alert.severity) == (
        "draft",
        "monitoring",
        "orange",
        "Severe",
    )
    assert alert.areas.get().region_id == "440106" and alert.monitoring_event == 1
    assert "天河区暴雨监测等级" in alert.description and alert.author is None
    assert alert.headline == "广州市应急管理局发布天河区暴雨橙色预警[Ⅱ级/严重]"


def test_the_event_growing_updates_its_one_draft_instead_of_doubling(city):
    _event(areas=["440106001"], level="orange")
    _event(areas=["440106001", "440106"], level="red")  # rises, and reaches the district
    alert = Alert.objects.get()
    assert (alert.colour, alert.severity) == ("red", "Extreme")
    assert sorted(alert.areas.values_list("region_id", flat=True)) == ["440106", "440106001"]
    assert alert.headline == "广州市应急管理局发布天河区五山街道、天河区暴雨红色预警[Ⅰ级/特别严重]"
    _event(areas=["440106"], level="red", event_id=2)  # another event: its own draft
    assert Alert.objects.count() == 2


@pytest.mark.parametrize("level, state", [(None, "open"), ("red", "closed")])
def test_a_quiet_or_closed_event_drafts_nothing(city, level, state):
    _event(level=level, state=state)
    assert not Alert.objects.exists()


def test_a_colour_the_signal_lacks_is_raised_to_the_next(city):
    _event(level="blue")  # rainstorm has no blue signal
    assert Alert.objects.get().colour == "yellow"


def test_unknown_regions_are_ignored(city):
    event_changed.send(
        sender=None,
        event_id=1,
        hazard="rainstorm",
        level="red",
        previous=None,
        max_level="red",
        district_code="999999",
        area_codes=["999999001"],
        alarm_ids=[1],
        state="open",
        at=timezone.now(),
    )
    assert not Alert.objects.exists()


def test_once_published_a_higher_level_is_an_update_of_the_same_warning(city, people):
    _event(level="orange")
    alert = Alert.objects.get()
    services.submit(alert, people["author"])
    published = services.approve(alert, people["leader"])
    _event(level="orange")  # no change: nothing
    assert Alert.objects.count() == 1
    _event(level="red")
    update = Alert.objects.exclude(pk=published.pk).get()
    assert (update.msg_type, update.references, update.colour) == ("Update", published, "red")
    assert update.state == "draft" and update.monitoring_event == 1
    _event(level="red", areas=["440106", "440106001"])  # still open: the same Update follows
    assert Alert.objects.count() == 2


def test_monitoring_draft_can_be_released_by_two_people(city, people):
    _event(level="red", hazard="waterlogging")
    alert = Alert.objects.get()
    services.submit(alert, people["author"])
    alert = services.approve(alert, people["leader"])
    assert alert.state == "published" and alert.event == "内涝红色预警"
    assert alert.sent - timezone.now() < dt.timedelta(minutes=1)


def test_cell_location_feed_moves_subscribers_in_and_out_of_a_fence(client, people, subscribers):
    from yingji.alerts.targeting import Rule

    client.force_login(people["author"])
    t0 = timezone.now()
    body = [
        {"external_id": "b-public", "lon": 113.40, "lat": 23.10, "at": t0.isoformat()},
        {
            "external_id": "b-public",
            "lon": 113.21,
            "lat": 23.10,
            "at": (t0 - dt.timedelta(minutes=5)).isoformat(),
        },  # older: loses
        {"external_id": "nobody", "lon": 113.4, "lat": 23.1, "at": t0.isoformat()},
    ]
    answer = client.post(
        "/api/v1/alerts/subscribers/locations", body, content_type="application/json"
    )
    assert answer.json() == {"updated": 1, "stale": 0, "unknown": 1}
    moved = Subscriber.objects.get(external_id="b-public")
    assert (moved.last_lon, moved.last_lat) == (113.40, 23.10)
    assert moved.pk in services.subscriber_index().resolve([Rule(region_codes=("440106",))])
    late = [
        {
            "external_id": "b-public",
            "lon": 113.2,
            "lat": 23.1,
            "at": (t0 - dt.timedelta(hours=1)).isoformat(),
        }
    ]
    assert (
        client.post(
            "/api/v1/alerts/subscribers/locations", late, content_type="application/json"
        ).json()["stale"]
        == 1
    )
