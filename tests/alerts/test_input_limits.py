"""Outside input to the alerts module within limits: pushed and polled CAP (a
size cap; a message kept with problems never blocks the valid one with its
identifier), the subscriber import (size, zip bomb) and the polygon file of a
draft (size, anything that is not a GeoJSON object)."""

import http.server
import io
import threading
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.zipbombs import MB, xlsx_bomb
from yingji.alerts import incoming
from yingji.alerts.models import IncomingCap, IncomingFeed, Subscriber

pytestmark = pytest.mark.django_db
CAP_DIR = Path(__file__).parent / "cap"
OPEN_RING = (CAP_DIR / "invalid" / "polygon_not_closed.xml").read_bytes()
# The same message (sender, identifier) as its sender meant it: the ring closed.
CLOSED_RING = OPEN_RING.replace(b"23.1,113.4</polygon>", b"23.1,113.4 23.1,113.3</polygon>")


def push(client, body, token="tok"):
    return client.post(f"/api/v1/alerts/incoming/{token}", body, content_type="application/xml")


def test_a_message_with_problems_does_not_block_the_valid_one(client):
    IncomingFeed.objects.create(name="市气象台", token="tok")
    first = push(client, OPEN_RING)
    assert first.status_code == 201 and first.json()[0]["identifier"] == "BAD-open-ring"
    assert IncomingCap.objects.get().problems  # kept, with its problems
    second = push(client, CLOSED_RING)
    assert second.status_code == 201
    item = IncomingCap.objects.get()  # the same record, now the valid message
    assert item.problems == [] and b"23.1,113.3</polygon>" in item.xml.encode()
    # A later copy with problems never replaces the valid message.
    push(client, OPEN_RING)
    item.refresh_from_db()
    assert item.problems == [] and IncomingCap.objects.count() == 1


def test_a_pushed_document_over_the_limit_is_refused_with_413(client, settings):
    settings.YINGJI_CAP_MAX_BYTES = 1000
    IncomingFeed.objects.create(name="市气象台", token="tok")
    body = (CAP_DIR / "gz_rainstorm_red_zh_en.xml").read_bytes()
    assert len(body) > 1000
    r = push(client, body)
    assert r.status_code == 413
    assert r.json()["detail"] == f"CAP 文档过大:{len(body):,} 字节,上限 1,000 字节"
    assert not IncomingCap.objects.exists()


def test_a_polled_feed_over_the_limit_is_an_error_on_the_feed(settings):
    settings.YINGJI_CAP_MAX_BYTES = 1000
    body = (CAP_DIR / "atom_feed_24_alerts.xml").read_bytes()

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
            name="气象台", token="p", url=f"http://127.0.0.1:{server.server_port}/feed"
        )
        assert incoming.poll_feed(feed) == []
    finally:
        server.shutdown()
    feed.refresh_from_db()
    assert "CAP 文档过大:1,001 字节,上限 1,000 字节" in feed.last_error


def test_values_longer_than_the_columns_are_stored_clipped(client):
    IncomingFeed.objects.create(name="x", token="tok")
    body = CLOSED_RING.replace(b"<msgType>Alert</msgType>", b"<msgType>NotAKnownType</msgType>")
    body = body.replace(b"BAD-open-ring", b"I" * 300)
    r = push(client, body)
    assert r.status_code == 201
    item = IncomingCap.objects.get()
    assert (item.msg_type, len(item.identifier)) == ("NotAKnow", 200) and item.problems


def test_subscriber_import_refuses_a_bomb_and_an_oversized_file(client, people, city, settings):
    client.force_login(people["author"])
    bomb = SimpleUploadedFile("订阅人.xlsx", xlsx_bomb(20 * MB).read_bytes())
    page = client.post("/alerts/subscribers/", {"file": bomb}, follow=True).content.decode()
    assert "订阅人.xlsx:其中 xl/sharedStrings.xml" in page and "疑似压缩炸弹" in page
    r = client.post(
        "/api/v1/alerts/subscribers/import",
        {"file": SimpleUploadedFile("订阅人.xlsx", xlsx_bomb(20 * MB).read_bytes())},
    )
    assert r.status_code == 422 and "压缩比" in r.json()["detail"]["file"][0]
    settings.YINGJI_XLSX_MAX_BYTES = 100
    big = SimpleUploadedFile("订阅人.csv", b"external_id,name\n" + b"a,b\n" * 100)
    page = client.post("/alerts/subscribers/", {"file": big}, follow=True).content.decode()
    assert "订阅人.csv:文件过大" in page and "上限 100 字节" in page
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"[" * 50_000 + b"]" * 50_000, "不是 UTF-8 编码的 GeoJSON"),
        (b"[1, 2]", "不是 GeoJSON 对象"),
        (b'{"type": "FeatureCollection", "features": {"a": 1}}', "文件中没有多边形"),
        (b'{"type": "FeatureCollection", "features": [1, [2]]}', "文件中没有多边形"),
        (
            b'{"type": "Feature", "properties": [1], "geometry": "x"}',
            "文件中没有多边形",
        ),
    ],
)
def test_a_polygon_file_that_is_not_geojson_is_a_form_error(client, people, city, body, expected):
    client.force_login(people["author"])
    upload = SimpleUploadedFile("区域.geojson", body)
    r = client.post(
        "/alerts/new/",
        {"hazard": "rainstorm", "colour": "blue", "headline": "测试", "polygon_file": upload},
    )
    assert r.status_code in (200, 422) and expected in r.content.decode()


def test_a_polygon_file_over_the_cap_limit_is_refused_unread(client, people, city, settings):
    settings.YINGJI_CAP_MAX_BYTES = 1000
    client.force_login(people["author"])
    upload = SimpleUploadedFile("区域.geojson", io.BytesIO(b" " * 5000).getvalue())
    r = client.post(
        "/alerts/new/",
        {"hazard": "rainstorm", "colour": "blue", "headline": "测试", "polygon_file": upload},
    )
    assert "区域.geojson:文件过大" in r.content.decode()
