"""The demo loader: idempotent, and its past incident tells the whole story."""

import pytest

from yingji.core.demo_users import create_demo_users
from yingji.response import demo
from yingji.response.models import (
    ActionCard,
    DutyShift,
    EmergencyPlan,
    Incident,
    RescueTeam,
    Shelter,
)

pytestmark = pytest.mark.django_db


def test_demo_loads_once_and_again_changes_nothing():
    create_demo_users()
    first = demo.load_demo()
    assert "已导入" in first and "历史事件已生成" in first
    counts = (EmergencyPlan.objects.count(), RescueTeam.objects.count(), Shelter.objects.count(),
              Incident.objects.count(), ActionCard.objects.count(), DutyShift.objects.count())
    second = demo.load_demo()
    assert "已存在" in second
    assert counts == (EmergencyPlan.objects.count(), RescueTeam.objects.count(), Shelter.objects.count(),
                      Incident.objects.count(), ActionCard.objects.count(), DutyShift.objects.count())
    centrals = set(Shelter.objects.filter(grade="中心").values_list("name", flat=True))
    assert any("中山大学" in n for n in centrals) and any("奥林匹克" in n for n in centrals)
    assert len(centrals) == 4

    past = Incident.objects.get(title=demo.PAST_INCIDENT)
    assert past.status == Incident.Status.CLOSED and past.evacuated == 1200
    kinds = list(past.timeline.values_list("kind", flat=True))
    assert kinds[0] == "registered" and kinds[-1] == "closed"
    for k in ("activated", "report", "card_ack", "card_done", "dispatch", "shelters", "stood_down"):
        assert k in kinds
    # history: shelters are closed again and nothing from 2022 waits to be sent
    assert not Shelter.objects.filter(is_open=True).exists()
    from yingji.core.models import Notification

    assert not Notification.objects.filter(dedupe_key__startswith="response:", status="queued").exists()
