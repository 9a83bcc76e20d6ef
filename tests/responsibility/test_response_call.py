"""A 三防 response activated for an area calls that area's 三防责任人 to their
posts by SMS, once each, through the one delivery system."""

import datetime as dt

from django.utils import timezone

from yingji.core.models import Notification
from yingji.response import plans
from yingji.response import services as response
from yingji.responsibility import services
from yingji.responsibility.models import Responsible

ROWS = (
    "区划,对象类型,责任对象,责任人类别,姓名,单位及职务,手机\n"
    "石牌街道,内涝点,石牌桥积水点,行政责任人,陈明,石牌街道办事处主任,13800138000\n"
    "石牌街道,内涝点,石牌桥积水点,巡查责任人,李强,城管科科员,13900139000\n"
    "番禺区,行政区域,番禺区,行政责任人,孙七,番禺区区长,13500135000\n"
)


def test_activation_calls_the_areas_people_once(world, django_capture_on_commit_callbacks):
    services.import_register(world["sanfang"], "名册.csv", ROWS.encode())
    plan, _ = plans.load_red_rainstorm()
    at = timezone.make_aware(dt.datetime(2024, 6, 10, 14, 0))
    from django.contrib.auth.models import User

    leader = User.objects.create_superuser("boss", password="pw-123456")
    incident = response.register_incident(
        response.IncidentInput(
            title="天河区暴雨内涝",
            incident_type="暴雨",
            occurred_at=at,
            lon=113.36,
            lat=23.125,
            address="天河区石牌",
        ),
        user=leader,
        at=at,
    )
    with django_capture_on_commit_callbacks(execute=True):
        activation = response.activate(
            plan, incident, "II", user=leader, at=at, area_codes=["440106006"]
        )
    sms = Notification.objects.filter(channel="sms", dedupe_key__contains=":sanfang:")
    assert sorted(sms.values_list("address", flat=True)) == ["13800138000", "13900139000"]
    chen = sms.get(address="13800138000")
    assert "已启动二级响应" in chen.body
    assert "陈明同志立即到岗,履行石牌桥积水点行政责任人职责" in chen.body
    assert chen.person == Responsible.objects.get(name="陈明")
    # The same event again (a retried job) sends nothing twice.
    from yingji.responsibility import receivers

    receivers.call_to_posts(
        None,
        activation_id=activation.pk,
        plan_title=plan.title,
        hazard="暴雨",
        level_label="Ⅱ级应急响应",
        area_codes=["440106006"],
        is_exercise=False,
    )
    assert sms.count() == 2
