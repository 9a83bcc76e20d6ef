"""Pages and API: drafting and approving through the web, the population
estimate before approval, the live progress fragment, the public page, CAP XML
and the Atom feed without login, the API's four-eyes and validation answers."""

import datetime as dt
import json

import pytest
from lxml import etree

from yingji.alerts import capvalidate, fromevents, services
from yingji.alerts.models import Alert

from .conftest import draft_spec


def _login(client, user):
    client.force_login(user)
    return client


def test_drafting_and_submitting_through_the_page(client, people, subscribers):
    _login(client, people["author"])
    response = client.post(
        "/alerts/new/",
        {
            "hazard": "rainstorm",
            "colour": "orange",
            "description": "强降雨持续。",
            "regions": ["440106"],
            "groups": ["school"],
            "groups_anywhere": ["sanfang"],
            "cap_status": "Actual",
            "expires_hours": "6",
            "submit_now": "1",
        },
    )
    alert = Alert.objects.get()
    assert response.status_code == 302 and alert.state == "review"
    # school in 天河区 (a-school) + 三防责任人 anywhere (b-sanfang, c-sanfang)
    assert alert.population_estimate == 3
    page = _login(client, people["leader"]).get(f"/alerts/{alert.pk}/").content.decode()
    assert "批准发布(预计 3 人)" in page


def test_the_author_sees_no_approve_button_and_cannot_post_it(client, people, city):
    alert = services.submit(services.create_draft(people["author"], draft_spec()), people["author"])
    _login(client, people["author"])
    assert "批准发布" not in client.get(f"/alerts/{alert.pk}/").content.decode()
    assert client.post(f"/alerts/{alert.pk}/approve/").status_code == 403
    alert.refresh_from_db()
    assert alert.state == "review"


def test_a_bad_draft_is_shown_again_with_the_reason(client, people, city):
    _login(client, people["author"])
    response = client.post(
        "/alerts/new/",
        {"hazard": "rainstorm", "colour": "blue", "description": "x", "regions": ["440106"]},
    )
    assert response.status_code == 422
    assert "暴雨预警信号只有黄色、橙色、红色" in response.content.decode()


def test_approval_through_the_page_publishes(
    client, people, city, django_capture_on_commit_callbacks
):
    alert = services.submit(services.create_draft(people["author"], draft_spec()), people["author"])
    _login(client, people["leader"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/alerts/{alert.pk}/approve/")
    alert.refresh_from_db()
    assert alert.state == "published" and alert.approver == people["leader"]


def test_public_page_cap_xml_and_feed_need_no_login(client, people, city):
    alert = services.approve(
        services.submit(services.create_draft(people["author"], draft_spec()), people["author"]),
        people["leader"],
    )
    draft = services.create_draft(people["author"], draft_spec(description="尚未发布的草稿"))
    page = client.get("/alerts/public/")
    assert page.status_code == 200
    text = page.content.decode()
    assert alert.headline in text and draft.description not in text
    detail = client.get(f"/alerts/public/{alert.pk}/").content.decode()
    assert "停课、停工、停业" in detail
    assert client.get(f"/alerts/public/{draft.pk}/").status_code == 404
    xml = client.get(f"/alerts/public/{alert.pk}/cap.xml")
    assert xml["Content-Type"].startswith("application/cap+xml")
    assert capvalidate.validate(xml.content) == []
    feed = client.get("/alerts/feed.atom")
    assert feed["Content-Type"].startswith("application/atom+xml")
    root = etree.fromstring(feed.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    assert len(entries) == 1
    assert entries[0].find("a:link", ns).get("href").endswith(f"/alerts/public/{alert.pk}/cap.xml")
    assert client.get("/alerts/").status_code == 302  # the working pages need a login


def test_progress_fragment_counts_per_channel(client, people, subscribers):
    alert = services.create_draft(people["author"], draft_spec(channels=["sms", "email"]))
    services.approve(services.submit(alert, people["author"]), people["leader"])
    _login(client, people["viewer"])
    fragment = client.get(f"/alerts/{alert.pk}/progress/").content.decode()
    assert 'hx-trigger="every 2s"' in fragment  # still queued: keeps polling
    assert 'data-channel="sms"' in fragment and "还有 5 条" in fragment
    services.warning_rows(alert).update(status="delivered")
    fragment = client.get(f"/alerts/{alert.pk}/progress/").content.decode()
    assert "hx-trigger" not in fragment and "发送完毕" in fragment


def test_update_and_cancel_buttons_make_successors(client, people, city):
    alert = services.approve(
        services.submit(services.create_draft(people["author"], draft_spec()), people["author"]),
        people["leader"],
    )
    _login(client, people["author"])
    client.post(f"/alerts/{alert.pk}/cancel/", {"note": "雨停了"})
    cancel = Alert.objects.get(msg_type="Cancel")
    assert cancel.references == alert and cancel.state == "review"
    assert cancel.description == "雨停了"


def test_api_four_eyes_and_validation(client, people, subscribers):
    _login(client, people["author"])
    body = {
        "hazard": "typhoon",
        "colour": "white",
        "description": "台风白色预警",
        "areas": [{"circle": [23.12, 113.40, 3]}],
        "channels": [],
    }
    created = client.post("/api/v1/alerts/", json.dumps(body), content_type="application/json")
    assert created.status_code == 201, created.content
    alert_id = created.json()["id"]
    assert client.post(f"/api/v1/alerts/{alert_id}/submit").json()["population_estimate"] == 1
    assert client.post(f"/api/v1/alerts/{alert_id}/approve").status_code == 403
    _login(client, people["leader"])
    approved = client.post(f"/api/v1/alerts/{alert_id}/approve").json()
    assert approved["state"] == "published" and approved["severity"] == "Minor"
    assert client.get(f"/api/v1/alerts/{alert_id}/cap.xml").status_code == 200
    bad = client.post(
        "/api/v1/alerts/", json.dumps({**body, "areas": []}), content_type="application/json"
    )
    assert bad.status_code == 422
    assert bad.json()["detail"]["areas"] == ["至少需要一个预警区域"]


@pytest.mark.parametrize(
    "path", ["/alerts/", "/alerts/subscribers/", "/alerts/incoming/", "/alerts/new/"]
)
def test_working_pages_render(client, people, subscribers, path):
    assert _login(client, people["author"]).get(path).status_code == 200


def test_uploaded_geojson_polygons_become_areas(client, people, subscribers):
    import io

    fence = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "体育中心周边"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [113.39, 23.09],
                            [113.42, 23.09],
                            [113.42, 23.12],
                            [113.39, 23.12],
                            [113.39, 23.09],
                        ]
                    ],
                },
            },
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Point", "coordinates": [113.3, 23.1]},
            },
        ],
    }
    upload = io.BytesIO(json.dumps(fence).encode())
    upload.name = "fence.geojson"
    _login(client, people["author"])
    client.post(
        "/alerts/new/",
        {
            "hazard": "rainstorm",
            "colour": "yellow",
            "description": "局部强降雨",
            "polygon_file": upload,
            "submit_now": "1",
        },
    )
    alert = Alert.objects.get()
    assert [a.description for a in alert.areas.all()] == ["体育中心周边"]
    assert alert.population_estimate == 1  # a-public at 113.40,23.10; a-optout opted out
    empty = io.BytesIO(b'{"type": "Point", "coordinates": [1, 2]}')
    empty.name = "p.json"
    page = client.post(
        "/alerts/new/",
        {"hazard": "rainstorm", "colour": "yellow", "description": "x", "polygon_file": empty},
    )
    assert page.status_code == 422 and "文件中没有多边形" in page.content.decode()


def test_api_a_duty_officer_cannot_submit_and_approve_a_system_draft(client, people, city):
    from django.utils import timezone

    alert = fromevents.draft_from_event(
        event_id=1,
        area_codes=["440106"],
        level="red",
        previous=None,
        hazard="rainstorm",
        at=timezone.now(),
    )
    _login(client, people["duty"])
    assert client.post(f"/api/v1/alerts/{alert.pk}/submit").status_code == 200
    refused = client.post(f"/api/v1/alerts/{alert.pk}/approve")
    assert refused.status_code == 403 and "四眼原则" in refused.json()["detail"]
    alert.refresh_from_db()
    assert alert.state == "review" and alert.cap_xml == ""
    _login(client, people["leader"])
    assert client.post(f"/api/v1/alerts/{alert.pk}/approve").json()["state"] == "published"
    from yingji.core import audit

    actors = {(e.actor_label, tuple(e.changed_fields)) for e in audit.history(alert)}
    assert any(label == "duty" and "author_id" in fields for label, fields in actors)
    assert any(label == "leader" and "approver_id" in fields for label, fields in actors)


def test_a_system_draft_is_edited_on_its_page_and_the_editor_cannot_approve(client, people, city):
    from django.utils import timezone

    alert = fromevents.draft_from_event(
        event_id=1,
        area_codes=["440106"],
        level="orange",
        previous=None,
        hazard="rainstorm",
        at=timezone.now(),
    )
    _login(client, people["duty"])
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "修改草稿" in page and "内部备注(不对外发布)" in page
    assert "严重程度 严重" in page and "Severe" not in page and "系统(监测预警)" in page
    form = client.get(f"/alerts/{alert.pk}/edit/").content.decode()
    assert "请核实" in form  # the internal note, editable
    until = (timezone.localtime() + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/alerts/{alert.pk}/edit/",
        {
            "hazard": "rainstorm",
            "colour": "orange",
            "description": "天河区降雨持续,请注意防范。",
            "instruction": "远离低洼地带。",
            "internal_note": "已电话核实",
            "expires": until,
            "channels": ["sms"],
            "cap_status": "Actual",
        },
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert (
        alert.description == "天河区降雨持续,请注意防范。" and alert.internal_note == "已电话核实"
    )
    assert alert.channels == ["sms"] and people["duty"].pk in alert.hands
    assert f"{alert.expires.astimezone(timezone.get_current_timezone()):%H:%M}" == until[-5:]
    _login(client, people["author"])
    client.post(f"/alerts/{alert.pk}/submit/")
    _login(client, people["duty"])
    assert client.post(f"/alerts/{alert.pk}/approve/").status_code == 403
    alert.refresh_from_db()
    assert alert.state == "review"
