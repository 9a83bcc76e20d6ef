"""The demo loader: idempotent, and its past incident tells the whole story."""

import io

import pytest

from yingji.core.demo_users import create_demo_users
from yingji.response import demo
from yingji.response.models import (
    ActionCard,
    Drill,
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
    counts = (
        EmergencyPlan.objects.count(),
        RescueTeam.objects.count(),
        Shelter.objects.count(),
        Incident.objects.count(),
        ActionCard.objects.count(),
        DutyShift.objects.count(),
    )
    second = demo.load_demo()
    assert "已存在" in second
    assert counts == (
        EmergencyPlan.objects.count(),
        RescueTeam.objects.count(),
        Shelter.objects.count(),
        Incident.objects.count(),
        ActionCard.objects.count(),
        DutyShift.objects.count(),
    )
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

    assert not Notification.objects.filter(
        dedupe_key__startswith="response:", status="queued"
    ).exists()

    from yingji.response import drills

    drill = Drill.objects.get(title=demo.PAST_DRILL)
    assert drill.blind and drill.status == Drill.Status.FINISHED
    rep = drills.report(drill)
    score = rep["score"]
    assert (
        score.total >= 12 and 0 < score.completed_on_time < score.total and score.not_completed > 0
    )
    assert rep["decision_minutes"] == 9.0
    assert all(i.is_exercise for i in rep["incidents"])
    # without regions (no street to place it in) there is no response under way
    assert not Incident.objects.filter(title=demo.CURRENT_INCIDENT).exists()


def test_the_demo_opens_with_a_response_under_way_in_shipai():
    from django.core.management import call_command

    from yingji.core.departments import ensure_street_offices

    call_command("regions", "load", "guangzhou", stdout=io.StringIO())
    create_demo_users()
    ensure_street_offices()
    assert "正在响应的事件已生成" in demo.load_demo()
    # the district's and the street's cards still wait; the bureau's are acknowledged
    current = Incident.objects.get(title=demo.CURRENT_INCIDENT)
    assert current.status == Incident.Status.RESPONDING and current.street_id == "440106006"
    waiting = ActionCard.objects.filter(activation__incident=current, state="issued")
    assert set(waiting.values_list("department__name", flat=True)) == {
        "天河区政府",
        "天河区石牌街道应急办",
    }
    assert ActionCard.objects.filter(activation__incident=current, state="completed").exists()


def test_every_page_renders_on_the_demo_data(client):
    from django.contrib.auth.models import User
    from django.urls import reverse

    create_demo_users()
    demo.load_demo()
    past = Incident.objects.get(title=demo.PAST_INCIDENT)
    plan = EmergencyPlan.objects.get()
    client.force_login(User.objects.get(username="duty"))
    pages = {
        reverse("response:desk"): "值班台",
        reverse("response:incidents"): demo.PAST_INCIDENT,
        reverse("response:incident", args=[past.pk]) + "?capability=排涝": "白云消防救援站",
        reverse("response:plans"): plan.title,
        reverse("response:plan", args=[plan.pk]): "停课",
        reverse("response:resources"): "华南农业大学中心避难场所",
        reverse("response:drills"): "安排演练",
        reverse("response:my_cards"): "本单位行动卡",
        reverse("response:drill", args=[Drill.objects.get().pk]): "演练评估报告",
    }
    for url, text in pages.items():
        r = client.get(url)
        assert r.status_code == 200, url
        assert text in r.content.decode(), url
    r = client.get(reverse("response:drill_report", args=[Drill.objects.get().pk]))
    from docx import Document

    doc = Document(io.BytesIO(r.content))
    assert "评估报告" in doc.paragraphs[0].text and len(doc.tables[0].rows) > 12
    # the past incident's timeline reads in order on its page
    html = client.get(reverse("response:incident", args=[past.pk])).content.decode()
    assert html.index("接报值班接报") < html.index("启动《") < html.index("事件结案")


def test_commands(tmp_path):
    import io as _io

    from django.core.management import CommandError, call_command

    create_demo_users()
    out = _io.StringIO()
    call_command("response", "load-example-plan", stdout=out)
    call_command("response", "roster", "2024-09-30", "3", stdout=out)
    assert "新排班 3 班,其中联合值守 2 班" in out.getvalue()
    bad = tmp_path / "坏.xlsx"
    bad.write_bytes(b"nonsense")
    with pytest.raises(CommandError, match="坏.xlsx:无法读取 Excel 文件"):
        call_command("response", "import-resources", str(bad))
    call_command("response", "escalate", stdout=out)
    assert "升级超时行动卡 0 次" in out.getvalue()
