"""The after-action report: one event, from the desk item to the stand-down, with the
cards' acknowledgement times against their limits; a drill's is marked 演练."""

import datetime as dt
import io

import docx
import pytest
from django.utils import timezone

from yingji.monitoring.events import event_changed
from yingji.response import afteraction, services
from yingji.response.models import DeskItem

pytestmark = pytest.mark.django_db


def test_the_report_covers_the_event_the_cards_and_the_stand_down(tianhe, people, red_plan, client):
    event_changed.send(
        sender=None,
        event_id=77,
        hazard="rainstorm",
        level="red",
        previous=None,
        max_level="red",
        district_code="440106",
        area_codes=["440106001"],
        alarm_ids=[1],
        state="open",
        at=timezone.now(),
    )
    item = DeskItem.objects.get(source="event")
    incident = services.accept_desk_item(item, user=people["duty"], incident_type="暴雨")
    at = timezone.now()
    act = services.activate(red_plan, incident, "II", user=people["duty"], at=at)
    cards = list(act.cards.all())
    services.acknowledge(cards[0], user=people["duty"], at=at + dt.timedelta(minutes=5))
    late = at + dt.timedelta(minutes=cards[1].ack_minutes + 10)
    services.acknowledge(cards[1], user=people["duty"], at=late)
    services.stand_down(act, user=people["duty"], at=at + dt.timedelta(hours=3))
    data = afteraction.report(incident)
    assert data["stood_down"] and data["cards_total"] == len(cards) >= 2
    assert data["cards_acknowledged"] == 2 and data["cards_ack_on_time"] == 1
    assert [d["status"] for d in data["decisions"]] == ["已登记事件"]
    whats = [m.what for m in data["timeline"]]
    assert any("启动《" in w for w in whats) and any("终止《" in w for w in whats)
    assert [m.at for m in data["timeline"]] == sorted(m.at for m in data["timeline"])
    client.force_login(people["duty"])
    page = client.get(f"/response/incidents/{incident.pk}/after-action/").content.decode()
    assert "总结评估报告" in page and f"行动卡 {len(cards)} 张,已签收 2 张,按时签收 1 张" in page
    assert "响应尚未终止" not in page
    word = client.get(f"/response/incidents/{incident.pk}/after-action.docx")
    texts = [p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs]
    assert any("总结评估报告" in t for t in texts) and any("按时签收 1 张" in t for t in texts)


def test_a_drills_report_is_marked(tianhe, people, red_plan):
    incident = services.register_incident(
        services.IncidentInput(
            title="演练:天河区暴雨",
            incident_type="暴雨",
            occurred_at=timezone.now(),
            lon=113.36,
            lat=23.125,
            is_exercise=True,
        ),
        user=people["duty"],
    )
    data = afteraction.report(incident)
    assert data["mark"] == "【演练】" and not data["stood_down"]
