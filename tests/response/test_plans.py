"""Plan registry: structure round trip, versions, review reminders; handover log."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from yingji.core.models import Department, Notification
from yingji.response import plans, services
from yingji.response.models import EmergencyPlan

pytestmark = pytest.mark.django_db


def test_structure_round_trips(red_plan):
    data = plans.structure_of(red_plan)
    assert {"停工", "停产", "停业", "停运", "停课"} <= {
        c["title"] for c in data["cards"] if c["level"] == "II"
    }
    data["title"] = "复制的预案"
    copy = plans.save_structure(data)
    assert plans.structure_of(copy)["cards"] == plans.structure_of(red_plan)["cards"]


def test_structure_problems_are_all_reported(red_plan):
    with pytest.raises(ValidationError) as err:
        plans.save_structure(
            {
                "title": "",
                "triggers": [
                    {
                        "source": "alert",
                        "hazard": "暴雨",
                        "min_level": "purple",
                        "response_level": "II",
                    }
                ],
                "cards": [{"level": "V", "department": "不存在局", "title": "x"}],
            }
        )
    messages = err.value.messages
    assert "缺少预案名称" in messages
    assert any("启动条件第 1 条" in m for m in messages)
    assert "行动卡第 1 条:响应级别无效 'V'" in messages
    assert any("未知的单位:不存在局" in m for m in messages)


def test_a_new_version_replaces_the_old_one_when_published(red_plan):
    draft = plans.new_version(red_plan, "2024.1")
    assert draft.status == EmergencyPlan.Status.DRAFT and draft.previous_version == red_plan
    assert (
        services.proposals("alert", "暴雨", "red")[0]["plan_id"] == red_plan.pk
    )  # drafts never propose
    plans.publish(draft)
    red_plan.refresh_from_db()
    assert red_plan.status == EmergencyPlan.Status.RETIRED
    assert [p["plan_id"] for p in services.proposals("alert", "暴雨", "red")] == [draft.pk]
    with pytest.raises(ValidationError):
        plans.new_version(draft, "2024.1")


def test_review_reminders_go_to_the_owner_once(red_plan):
    owner = red_plan.owner
    owner.email = "sanfang@example.org"
    owner.save()
    red_plan.review_due = dt.date(2025, 3, 15)
    red_plan.save()
    assert plans.remind_reviews(dt.date(2025, 1, 1)) == 0  # not yet within 30 days
    assert plans.remind_reviews(dt.date(2025, 3, 1)) == 1
    assert plans.remind_reviews(dt.date(2025, 3, 2)) == 1  # the same notification, not a new one
    assert Notification.objects.filter(department=owner).count() == 1
    assert "评估提醒" in Notification.objects.get(department=owner).subject


def test_handover_is_kept_on_the_current_shift(people):
    shift = services.build_roster(
        dt.date.today() - dt.timedelta(days=1),
        3,
        [people["duty"]],
        [],
        list(Department.objects.filter(name="指挥处")),
    )
    current = services.current_shift()
    assert current in shift
    services.handover(current, "白云区积水点持续关注", user=people["duty"])
    assert current.handovers.get().text == "白云区积水点持续关注"
    with pytest.raises(ValidationError):
        services.handover(current, "  ", user=people["duty"])
