"""The release workflow with the database: four eyes, CAP output, update/cancel
chains, extension, expiry, audit and the alert_published contract."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from yingji.alerts import cap, capvalidate, conventions, fromevents, services
from yingji.alerts.events import alert_published
from yingji.alerts.models import Alert
from yingji.core.models import AuditEntry

from .conftest import draft_spec


@pytest.fixture
def published_events():
    seen = []

    def receiver(sender, **kwargs):
        seen.append(kwargs)

    alert_published.connect(receiver, dispatch_uid="test-alert-published")
    yield seen
    alert_published.disconnect(dispatch_uid="test-alert-published")


def _release(people, spec=None, capture=None):
    alert = services.create_draft(people["author"], spec or draft_spec())
    services.submit(alert, people["author"])
    if capture is not None:
        with capture(execute=True):
            return services.approve(alert, people["leader"])
    return services.approve(alert, people["leader"])


def test_the_author_cannot_approve_their_own_alert(city, people):
    alert = services.create_draft(people["author"], draft_spec())
    services.submit(alert, people["author"])
    with pytest.raises(PermissionDenied):
        services.approve(alert, people["author"])
    alert.refresh_from_db()
    assert alert.state == "review" and alert.cap_xml == ""


def test_an_approver_who_drafted_cannot_approve_either(city, people):
    alert = services.create_draft(people["leader"], draft_spec(colour="yellow"))
    services.submit(alert, people["leader"])
    with pytest.raises(PermissionDenied, match="四眼原则"):
        services.approve(alert, people["leader"])
    assert services.approve(alert, people["duty"]).state == "published"


def test_a_system_draft_belongs_to_whoever_submits_it_who_then_cannot_approve_it(
    city, people, django_capture_on_commit_callbacks
):
    # The case that went wrong: a monitoring draft (no author), submitted and approved
    # by the same duty officer.
    alert = fromevents.draft_from_event(
        event_id=1,
        area_codes=["440106"],
        level="yellow",
        previous=None,
        hazard="rainstorm",
        at=timezone.now(),
    )
    assert alert.author_id is None
    services.submit(alert, people["duty"])
    alert.refresh_from_db()
    assert alert.author == people["duty"]
    with pytest.raises(PermissionDenied, match="四眼原则"):
        services.approve(alert, people["duty"])
    alert.refresh_from_db()
    assert alert.state == "review" and alert.cap_xml == ""
    with django_capture_on_commit_callbacks(execute=False):
        assert services.approve(alert, people["leader"]).state == "published"


def test_whoever_edited_a_draft_cannot_approve_it(city, people):
    alert = services.create_draft(people["author"], draft_spec(colour="yellow"))
    services.edit_draft(
        alert,
        people["duty"],
        draft_spec(colour="yellow", description="天河区过去1小时降雨量已达50毫米。"),
    )
    services.submit(alert, people["author"])
    with pytest.raises(PermissionDenied, match="四眼原则"):
        services.approve(alert, people["duty"])
    alert.refresh_from_db()
    assert alert.description == "天河区过去1小时降雨量已达50毫米。" and alert.state == "review"


def test_a_red_warning_needs_a_leaders_approval(city, people):
    alert = services.create_draft(people["author"], draft_spec(colour="red"))
    services.submit(alert, people["author"])
    with pytest.raises(PermissionDenied, match="红色预警须由局领导批准"):
        services.approve(alert, people["duty"])
    assert services.approve(alert, people["leader"]).state == "published"


def test_approving_twice_publishes_once(city, people):
    alert = services.create_draft(people["author"], draft_spec())
    services.submit(alert, people["author"])
    stale = Alert.objects.get(pk=alert.pk)
    services.approve(alert, people["leader"])
    admin = people["viewer"]
    admin.is_superuser = True
    admin.save()
    with pytest.raises(ValidationError):
        services.approve(stale, admin)  # a second approver with an old page
    alert.refresh_from_db()
    assert (
        alert.approver == people["leader"] and Alert.objects.filter(state="published").count() == 1
    )


def test_internal_notes_never_reach_cap_or_the_public(city, people, client):
    alert = fromevents.draft_from_event(
        event_id=1,
        area_codes=["440106"],
        level="red",
        previous=None,
        hazard="rainstorm",
        at=timezone.now(),
    )
    assert "请核实" in alert.internal_note and "请核实" not in alert.description
    assert alert.expires is not None and alert.headline.startswith("广州市应急管理局发布天河区")
    services.submit(alert, people["duty"])
    alert = services.approve(alert, people["leader"])
    assert "请核实" not in alert.cap_xml
    assert "请核实" not in client.get(f"/alerts/public/{alert.pk}/").content.decode()
    assert "请核实" not in client.get("/alerts/feed.atom").content.decode()


def test_a_role_without_approval_rights_cannot_approve(city, people):
    alert = services.create_draft(people["author"], draft_spec())
    services.submit(alert, people["author"])
    with pytest.raises(PermissionDenied):
        services.approve(alert, people["viewer"])


def test_a_draft_cannot_be_approved_before_review(city, people):
    alert = services.create_draft(people["author"], draft_spec())
    with pytest.raises(ValidationError, match="不能批准发布"):
        services.approve(alert, people["leader"])


def test_approval_publishes_valid_cap_with_a_national_identifier(
    city, people, published_events, django_capture_on_commit_callbacks
):
    alert = _release(people, capture=django_capture_on_commit_callbacks)
    assert alert.state == "published" and alert.sent is not None
    parts = conventions.split_identifier(alert.identifier)
    assert parts["region"] == "440100" and parts["org"] == "416"
    assert capvalidate.validate(alert.cap_xml.encode()) == []
    message = cap.parse_one(alert.cap_xml.encode())
    info = message.infos[0]
    assert info.severity == "Extreme" and info.language == "zh-CN"
    assert info.headline == "广州市应急管理局发布天河区暴雨红色预警[Ⅰ级/特别严重]"
    assert info.areas[0].geocodes == [("CPEAS Geographic Code", "440106000000")]
    ring = cap.polygon_points(info.areas[0].polygons[0])
    assert ring[0] == ring[-1] and (23.05, 113.3) in ring  # lat,lon order
    assert [e["identifier"] for e in published_events] == [alert.identifier]
    event = published_events[0]
    assert event["level"] == "red" and event["area_codes"] == ["440106"]
    assert event["msg_type"] == "Alert" and event["exercise"] is False


def test_rejection_returns_the_draft_with_the_note(city, people):
    alert = services.create_draft(people["author"], draft_spec())
    services.submit(alert, people["author"])
    alert = services.reject(alert, people["leader"], "区域应加越秀区")
    assert alert.state == "draft" and alert.review_note == "区域应加越秀区"
    assert services.submit(alert, people["author"]).state == "review"


def test_every_step_is_audited(city, people):
    alert = _release(people)
    entries = AuditEntry.objects.filter(
        object_pk=str(alert.pk), content_type__model="alert"
    ).order_by("at", "id")
    states = [e.after.get("state") for e in entries if e.after]
    assert states[:1] == ["draft"] and "review" in states and states[-1] == "published"
    assert {"sanfang", "leader"} <= {e.actor_label for e in entries}


def test_update_then_cancel_chain(
    city, people, published_events, django_capture_on_commit_callbacks
):
    first = _release(people, capture=django_capture_on_commit_callbacks)
    update = services.update(
        first, people["author"], colour="orange", description="雨势减弱,降为橙色。"
    )
    assert update.state == "review" and update.msg_type == "Update"
    assert update.headline.endswith("[Ⅱ级/严重]")
    with pytest.raises(ValidationError, match="待审核"):
        services.cancel(first, people["author"])  # one pending successor at a time
    with django_capture_on_commit_callbacks(execute=True):
        update = services.approve(update, people["leader"])
    first.refresh_from_db()
    assert first.state == "updated" and update.state == "published"
    refs = cap.parse_one(update.cap_xml.encode()).reference_list()
    assert refs == [
        (first.sender, first.identifier, cap.format_time(timezone.localtime(first.sent)))
    ]

    cancel = services.cancel(update, people["author"], "降雨结束")
    with django_capture_on_commit_callbacks(execute=True):
        cancel = services.approve(cancel, people["leader"])
    update.refresh_from_db()
    assert update.state == "cancelled"
    message = cap.parse_one(cancel.cap_xml.encode())
    assert message.msg_type == "Cancel"
    assert [r[1] for r in message.reference_list()] == [first.identifier, update.identifier]
    assert [a.pk for a in services.chain(update)] == [first.pk, update.pk, cancel.pk]
    assert [e["msg_type"] for e in published_events] == ["Alert", "Update", "Cancel"]
    # The event carries the same chain as the CAP message (receivers need not parse it).
    assert published_events[0]["references"] == []
    assert published_events[2]["references"] == [",".join(r) for r in message.reference_list()]


def test_only_published_alerts_can_be_updated(city, people):
    alert = services.create_draft(people["author"], draft_spec())
    with pytest.raises(ValidationError, match="只有已发布"):
        services.cancel(alert, people["author"])


def test_extend_moves_the_expiry(city, people):
    expires = timezone.now() + dt.timedelta(hours=2)
    first = _release(people, draft_spec(expires=expires))
    with pytest.raises(ValidationError):
        services.extend(first, people["author"], expires - dt.timedelta(hours=1))
    extension = services.approve(
        services.extend(first, people["author"], expires + dt.timedelta(hours=3)), people["leader"]
    )
    assert extension.expires == expires + dt.timedelta(hours=3)
    assert cap.parse_one(extension.cap_xml.encode()).infos[0].expires.endswith("+08:00")


def test_expired_alerts_leave_the_public_list(city, people, client):
    alert = _release(people, draft_spec(expires=timezone.now() + dt.timedelta(hours=1)))
    assert services.expire_due(timezone.now()) == 0
    assert services.expire_due(timezone.now() + dt.timedelta(hours=2)) == 1
    alert.refresh_from_db()
    assert alert.state == "expired"
    page = client.get("/alerts/public/").content.decode()
    live = page.split('id="live"')[1].split("</ul>")[0]
    assert alert.headline not in live


def test_colour_must_exist_for_the_signal(city, people):
    with pytest.raises(ValidationError, match="暴雨预警信号只有黄色、橙色、红色"):
        services.create_draft(people["author"], draft_spec(colour="blue"))


def test_an_alert_needs_an_area(city, people):
    with pytest.raises(ValidationError, match="至少需要一个预警区域"):
        services.create_draft(people["author"], draft_spec(areas=[]))


def test_drawn_polygons_are_kept_exactly_and_simplified_for_cap(city, people):
    import math

    ring = [
        [
            113.35 + 0.05 * math.cos(t / 300 * 2 * math.pi),
            23.12 + 0.04 * math.sin(t / 300 * 2 * math.pi),
        ]
        for t in range(300)
    ]
    ring.append(ring[0])
    spec = draft_spec(areas=[services.AreaSpec(polygon={"type": "Polygon", "coordinates": [ring]})])
    alert = _release(people, spec)
    area = alert.areas.get()
    assert len(area.geometry["coordinates"][0]) == 301
    polygon = cap.parse_one(alert.cap_xml.encode()).infos[0].areas[0].polygons[0]
    assert 4 <= len(cap.polygon_points(polygon)) <= 100


def test_exercise_status_is_marked(city, people):
    alert = _release(people, draft_spec(cap_status="Exercise"))
    message = cap.parse_one(alert.cap_xml.encode())
    assert message.status == "Exercise" and "演练" in message.note
    assert Alert.objects.get(pk=alert.pk).cap_status == "Exercise"


def test_approvers_are_told_through_the_outbox_but_not_the_author(city, people):
    from yingji.core.models import Notification

    services.submit(services.create_draft(people["author"], draft_spec()), people["author"])
    told = set(
        Notification.objects.filter(subject__startswith="预警待审核").values_list(
            "address", flat=True
        )
    )
    assert told == {"leader@example.org", "duty@example.org"}


def test_the_public_page_shows_level_area_map_instruction_and_end(city, people, client):
    alert = services.create_draft(people["author"], draft_spec(colour="red"))
    services.submit(alert, people["author"])
    alert = services.approve(alert, people["leader"])
    page = client.get(f"/alerts/public/{alert.pk}/").content.decode()
    assert 'class="level-badge level-red">红色</span>' in page
    assert "生效至" in page and f"{timezone.localtime(alert.expires):%H:%M}" in page
    assert "停课、停工、停业。" in page and 'id="alert-map"' in page
    assert '"type": "FeatureCollection"' in page and '"colour": "red"' in page
