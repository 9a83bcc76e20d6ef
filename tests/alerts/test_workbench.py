"""Warnings on the workbench and in the search box, as the people who use them see
it: what waits for each approver (four eyes; red and orange for a 局领导 only), the
drafts waiting to be submitted (the system's to the duty officer), the leader's
figure of warnings in force, warnings found by identifier or headline."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from tests.workbench_items import figures, hits, workbench
from yingji.alerts import services
from yingji.alerts.models import Alert
from yingji.core.models import Profile, Role

from .conftest import draft_spec

pytestmark = pytest.mark.django_db


def _user(name, role, region=None):
    user = User.objects.create_user(name, password="pw-123456")
    Profile.objects.create(user=user, role=role, full_name=name, region_id=region)
    return user


def _local(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def queue(city, people):
    """In review: a red rainstorm warning (sanfang drafted it, the leader edited it) and
    a yellow one; a blue typhoon draft of sanfang's; a system draft from monitoring."""
    now = timezone.now()
    red = services.create_draft(people["author"], draft_spec(expires=now + dt.timedelta(hours=6)))
    spec = draft_spec(expires=now + dt.timedelta(hours=6), description="雨势加强。")
    red = services.edit_draft(red, people["leader"], spec)
    red = services.submit(red, people["author"])
    yellow = services.submit(
        services.create_draft(
            people["author"],
            draft_spec(colour="yellow", expires=now + dt.timedelta(hours=3)),
        ),
        people["author"],
    )
    draft = services.create_draft(
        people["author"],
        draft_spec(hazard="typhoon", colour="blue", expires=now + dt.timedelta(hours=12)),
    )
    system = services.create_draft(
        None,
        draft_spec(colour="orange", expires=now + dt.timedelta(hours=2)),
        origin=Alert.Origin.MONITORING,
    )
    return {
        "red": red,
        "yellow": yellow,
        "draft": draft,
        "system": system,
        "leader2": _user("leader2", Role.LEADER),
        "tianhe": _user("tianhe", Role.DISTRICT_STAFF, region="440106"),
    }


def test_a_leader_approves_red_and_yellow_but_not_one_they_edited(client, people, queue):
    client.force_login(queue["leader2"])
    items = workbench(client, source="alerts.review")
    assert [i.title for i in items] == [queue["red"].headline, queue["yellow"].headline]
    red, yellow = items
    assert (red.kind, red.urgency, red.level, red.action) == ("待审批预警", "紧急", "red", "审批")
    assert (yellow.urgency, yellow.level) == ("即将到期", "yellow")
    assert red.deadline == f"期限 {_local(queue['red'].expires)}"
    assert yellow.deadline == f"期限 {_local(queue['yellow'].expires)}"
    assert red.detail.startswith("红色预警 · 区域:天河区 · 预计覆盖 ")
    # one click to act, and the approval is accepted
    page = client.get(red.url).content.decode()
    assert "批准发布" in page
    client.post(f"/alerts/{queue['red'].pk}/approve/")
    queue["red"].refresh_from_db()
    assert queue["red"].state == "published"
    assert [i.title for i in workbench(client, source="alerts.review")] == [yellow.title]
    # the leader who edited the red one had a hand in it: only the yellow one waits for them
    client.force_login(people["leader"])
    assert [i.title for i in workbench(client, source="alerts.review")] == [yellow.title]


def test_the_duty_officer_approves_yellow_only_red_waits_for_a_leader(client, people, queue):
    client.force_login(people["duty"])
    assert [i.title for i in workbench(client, source="alerts.review")] == [
        queue["yellow"].headline
    ]
    page = client.get(f"/alerts/{queue['red'].pk}/").content.decode()
    assert "批准发布" not in page and "红色预警须由局领导批准" in page and "退回修改" in page
    page = client.get(f"/alerts/{queue['yellow'].pk}/").content.decode()
    assert "批准发布" in page


def test_drafts_wait_for_their_author_and_system_drafts_for_the_duty_officer(client, people, queue):
    client.force_login(people["author"])
    assert workbench(client, source="alerts.review") == []  # sanfang drafted both
    (mine,) = workbench(client, source="alerts.drafts")
    assert (mine.kind, mine.title, mine.action, mine.level) == (
        "待提交预警",
        queue["draft"].headline,
        "提交",
        "blue",
    )
    assert mine.deadline == f"期限 {_local(queue['draft'].expires)}"
    assert client.get(mine.url).status_code == 200

    client.force_login(people["duty"])
    (system,) = workbench(client, source="alerts.drafts")
    assert system.title == queue["system"].headline
    assert system.urgency == "紧急" and "系统起草(监测事件)" in system.detail
    client.post(f"/alerts/{queue['system'].pk}/submit/")
    assert workbench(client, source="alerts.drafts") == []
    # a leader is not given the system's drafts: having submitted one, they could not approve it
    client.force_login(queue["leader2"])
    assert workbench(client, source="alerts.drafts") == []
    titles = [i.title for i in workbench(client, source="alerts.review")]
    assert queue["system"].headline in titles


def test_a_rejected_draft_comes_back_with_the_note_and_an_expired_one_says_so(
    client, people, queue
):
    services.reject(queue["yellow"], people["duty"], "请补充防御指引")
    Alert.objects.filter(pk=queue["draft"].pk).update(
        expires=timezone.now() - dt.timedelta(hours=1)
    )
    client.force_login(people["author"])
    items = workbench(client, source="alerts.drafts")
    assert [i.title for i in items] == [queue["draft"].headline, queue["yellow"].headline]
    assert items[0].urgency == "已逾期" and "已过失效时间,请修改后提交" in items[0].detail
    assert "退回意见:请补充防御指引" in items[1].detail


def test_staff_without_approval_rights_are_given_no_review(client, people, queue):
    for user in (queue["tianhe"], people["viewer"]):
        client.force_login(user)
        assert workbench(client, source="alerts.review") == []
        assert workbench(client, source="alerts.drafts") == []


def test_the_leader_sees_warnings_in_force_by_colour(client, people, queue):
    client.force_login(queue["leader2"])
    assert figures(client)["在发预警"].value == "0"
    services.approve(queue["red"], queue["leader2"])
    services.approve(queue["yellow"], people["duty"])
    figure = figures(client)["在发预警"]
    assert (figure.value, figure.detail) == ("2", "红色 1 · 黄色 1")
    listed = client.get(figure.url).content.decode()
    assert queue["red"].headline in listed and queue["draft"].headline not in listed
    client.force_login(queue["tianhe"])
    assert "在发预警" not in figures(client)


def test_warnings_are_found_by_identifier_or_headline(client, people, queue):
    published = services.approve(queue["red"], queue["leader2"])
    client.force_login(queue["tianhe"])
    found = hits(client, published.identifier)["预警"]
    assert found == [(f"{published.identifier} {published.headline}", f"/alerts/{published.pk}/")]
    assert client.get(found[0][1]).status_code == 200
    by_headline = [t for t, _ in hits(client, "台风")["预警"]]
    assert by_headline == [queue["draft"].headline]  # a draft's internal identifier is not shown
    assert "预警" not in hits(client, "没有这样的预警标题")
