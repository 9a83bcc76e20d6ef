"""The alerts demo: loads over the real Guangzhou region pack, is deterministic
and idempotent, and shows what the issue asks for."""

import io

from yingji.alerts import demo, services
from yingji.alerts.models import Alert, IncomingCap, Subscriber
from yingji.core import regions
from yingji.core.demo_users import create_demo_users


def test_demo_loads_once_and_again_changes_nothing(db, client, settings):
    settings.YINGJI_DEMO_CHANNELS = True  # as under `make demo`
    regions.load_pack("guangzhou")
    regions.invalidate_index()
    create_demo_users()
    summary = demo.load_demo(io.StringIO())
    assert "订阅人 2992 人" in summary and "已发布暴雨红色预警" in summary
    published = Alert.objects.get(state="published")
    assert published.approver.username == "leader" and published.author.username == "sanfang"
    # The demo delivers: every message reaches its sink through the demo channels,
    # and the page says which channel that was.
    total = services.warning_rows(published).count()
    assert total > 0
    rows = services.warning_rows(published)
    assert rows.filter(status__in=["sent", "delivered"]).count() == total
    # No SMSC is configured: SMS went to the demo sink; e-mail used the test
    # settings' configured (memory) backend, as a configured channel always is.
    assert (
        rows.filter(channel="sms").count()
        == rows.filter(channel="sms", status="delivered", via="demo").count()
        > 0
    )
    assert not rows.filter(channel="email").exclude(via="").exists()
    client.force_login(published.approver)
    page = client.get(f"/alerts/{published.pk}/").content.decode()
    assert "短信(演示通道)" in page and "100%" in page and "发送完毕" in page
    waiting = Alert.objects.get(state="review")
    assert waiting.hazard == "heat" and waiting.population_estimate > 0
    assert IncomingCap.objects.count() == 1
    first_ids = list(
        Subscriber.objects.order_by("external_id").values_list(
            "external_id", "last_lon", "last_lat"
        )[:5]
    )

    assert demo.load_demo(io.StringIO()).endswith("已是最新,无改动")
    assert Alert.objects.count() == 2 and Subscriber.objects.count() == 2992
    assert (
        list(
            Subscriber.objects.order_by("external_id").values_list(
                "external_id", "last_lon", "last_lat"
            )[:5]
        )
        == first_ids
    )
    assert published.headline in client.get("/alerts/public/").content.decode()
