"""CAP 1.2 model, builder, parser and validator against the project's own test set
(tests/alerts/cap/: real-world-shaped messages written for this project)."""

import http.server
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from lxml import etree

from yingji.alerts import cap, capvalidate, conventions

CAP_DIR = Path(__file__).parent / "cap"
VALID = sorted(CAP_DIR.glob("*.xml"))
INVALID = CAP_DIR / "invalid"


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_every_message_in_the_test_set_is_valid(path):
    assert capvalidate.validate(path.read_bytes()) == []


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_every_message_round_trips_through_the_builder(path):
    alerts = cap.parse(path.read_bytes())
    for alert in alerts:
        xml = cap.to_xml(alert)
        assert capvalidate.validate(xml) == [], xml.decode()
        again = cap.parse_one(xml)
        assert again == alert
        assert cap.to_xml(again) == xml


def test_two_languages_and_two_areas_are_read():
    alert = cap.parse_one((CAP_DIR / "gz_rainstorm_red_zh_en.xml").read_bytes())
    assert [i.language for i in alert.infos] == ["zh-CN", "en-US"]
    zh = alert.infos[0]
    assert [a.area_desc for a in zh.areas] == ["天河区", "越秀区"]
    assert zh.areas[0].geocodes == [("CPEAS Geographic Code", "440106000000")]
    assert cap.polygon_points(zh.areas[0].polygons[0])[0] == (23.10, 113.30)
    assert conventions.split_identifier(alert.identifier)["region"] == "440100"


def test_iso_8859_1_text_is_decoded():
    alert = cap.parse_one((CAP_DIR / "de_fr_iso8859_1.xml").read_bytes())
    assert alert.infos[0].sender_name == "Wetterdienst München"
    assert "Straßen können überflutet" in alert.infos[0].description
    assert alert.infos[1].headline.startswith("Avertissement officiel : pluies très fortes")


def test_edxl_de_envelope_yields_the_alert_inside():
    alert = cap.parse_one((CAP_DIR / "edxl_de_typhoon_exercise.xml").read_bytes())
    assert alert.status == "Exercise"
    area = alert.infos[0].areas[0]
    assert cap.circle_parts(area.circles[0]) == (22.65, 113.60, 30.0)
    assert alert.infos[0].resources[0].mime_type == "image/png"


def test_a_feed_yields_every_alert():
    alerts = cap.parse((CAP_DIR / "atom_feed_24_alerts.xml").read_bytes())
    assert len(alerts) == 24
    assert len({a.identifier for a in alerts}) == 24


def test_messages_without_info_and_cancel_chains():
    ack = cap.parse_one((CAP_DIR / "ack_no_info.xml").read_bytes())
    assert ack.infos == [] and ack.msg_type == "Ack"
    cancel = cap.parse_one((CAP_DIR / "gz_rainstorm_cancel.xml").read_bytes())
    assert [r[1] for r in cancel.reference_list()] == [
        "44010041600000_20260610143000",
        "44010041600000_20260610163000",
    ]


def test_references_must_exist_when_a_lookup_is_given():
    data = (CAP_DIR / "gz_rainstorm_update.xml").read_bytes()
    known = {("440100416@gz.example.cn", "44010041600000_20260610143000")}
    assert capvalidate.validate(data, references_exist=lambda s, i: (s, i) in known) == []
    problems = capvalidate.validate(data, references_exist=lambda s, i: False)
    assert [(p.element, p.rule) for p in problems] == [("alert/references", "references:exist")]


@pytest.mark.parametrize(
    "name, element, rule",
    [
        ("polygon_not_closed.xml", "alert/info[1]/area[1]/polygon[1]", "polygon:closed"),
        ("polygon_three_points.xml", "alert/info[1]/area[1]/polygon[1]", "polygon:min-points"),
        ("polygon_lon_lat_swapped.xml", "alert/info[1]/area[1]/polygon[1]", "coord:lat-range"),
        ("circle_negative_radius.xml", "alert/info[1]/area[1]/circle[1]", "circle:radius"),
        ("time_with_z.xml", "alert/sent", "time:no-Z"),
        ("update_without_references.xml", "alert/references", "references:required"),
        ("missing_sender_bad_enum.xml", "alert/sent", "schema"),
    ],
)
def test_invalid_messages_name_the_element_and_the_rule(name, element, rule):
    problems = capvalidate.validate((INVALID / name).read_bytes())
    assert (element, rule) in [(p.element, p.rule) for p in problems], problems


def test_bad_enumeration_is_a_schema_error():
    xml = cap.to_xml(
        cap.Alert(identifier="x", sender="s", sent="2026-06-10T14:30:00+08:00", status="Real")
    )
    problems = capvalidate.validate(xml)
    assert [(p.element, p.rule) for p in problems] == [("alert/status", "schema")]
    assert "Real" in problems[0].message


def test_fractional_seconds_are_refused():
    alert = cap.parse_one((CAP_DIR / "gz_rainstorm_update.xml").read_bytes())
    alert.infos[0].expires = "2026-06-10T22:00:00.5+08:00"
    rules = {(p.element, p.rule) for p in capvalidate.validate(cap.to_xml(alert))}
    assert ("alert/info[1]/expires", "time:format") in rules


class _Counter(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):  # noqa: N802
        type(self).hits += 1
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"SECRET")

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Counter)
    _Counter.hits = 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.mark.parametrize(
    "doc",
    [
        '<!DOCTYPE alert [<!ENTITY xxe SYSTEM "http://127.0.0.1:{port}/secret">]>'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>',
        '<!DOCTYPE alert SYSTEM "http://127.0.0.1:{port}/cap.dtd">'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier></alert>',
        '<!DOCTYPE alert [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p.dtd"> %p;]>'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier></alert>',
    ],
    ids=["external-entity", "external-dtd", "parameter-entity"],
)
def test_dtds_and_external_entities_are_refused_and_nothing_is_fetched(http_server, doc):
    data = doc.format(port=http_server.server_port).encode()
    with pytest.raises(cap.CapError, match="DTD"):
        cap.parse(data)
    problems = capvalidate.validate(data)
    assert [p.rule for p in problems] == ["xml"]
    assert _Counter.hits == 0


def test_billion_laughs_is_refused_quickly():
    with pytest.raises(cap.CapError):
        cap.parse((INVALID / "billion_laughs.xml").read_bytes())


def test_not_cap_is_an_error():
    with pytest.raises(cap.CapError, match="没有 CAP"):
        cap.parse(b"<feed xmlns='http://www.w3.org/2005/Atom'/>")
    with pytest.raises(cap.CapError, match="XML"):
        cap.parse(b"<alert")


def test_builder_writes_utc_as_minus_zero_and_closes_polygons():
    import datetime as dt

    assert (
        cap.format_time(dt.datetime(2026, 6, 10, 6, 30, tzinfo=dt.UTC))
        == "2026-06-10T06:30:00-00:00"
    )
    ring = cap.format_polygon([(23.1, 113.3), (23.2, 113.3), (23.2, 113.4)])
    points = cap.polygon_points(ring)
    assert len(points) == 4 and points[0] == points[-1]


def test_schema_is_the_official_oasis_file():
    tree = etree.parse(str(capvalidate.SCHEMA_PATH))
    assert tree.getroot().get("targetNamespace") == cap.NS
    assert "Copyright OASIS Open 2010" in capvalidate.SCHEMA_PATH.read_text()


def test_levels_and_signals_as_data():
    assert conventions.severity("red") == "Extreme"
    assert conventions.severity("yellow") == "Moderate"
    assert (
        conventions.headline("广州市应急管理局", "rainstorm", "red")
        == "广州市应急管理局发布暴雨红色预警[Ⅰ级/特别严重]"
    )
    with pytest.raises(ValueError, match="暴雨预警信号只有黄色、橙色、红色"):
        conventions.check_signal("rainstorm", "blue")
    conventions.check_signal("typhoon", "white")
    import datetime as dt

    ident = conventions.identifier("440106", "416", dt.datetime(2024, 7, 12, 21, 31, 38))
    assert ident == "44010641600000_20240712213138"


def _yingji(*args):
    return subprocess.run(
        [sys.executable, "-m", "yingji.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_cap_validate_command_reports_per_file_and_exits_non_zero():
    ok = _yingji("cap", "validate", str(CAP_DIR / "gz_rainstorm_red_zh_en.xml"))
    assert ok.returncode == 0 and ok.stdout.strip().endswith(": valid")
    bad = _yingji(
        "cap", "validate", str(CAP_DIR / "ack_no_info.xml"), str(INVALID / "polygon_not_closed.xml")
    )
    assert bad.returncode == 1
    assert "ack_no_info.xml: valid" in bad.stdout
    assert "[polygon:closed]" in bad.stdout and "alert/info[1]/area[1]/polygon[1]" in bad.stdout


def test_cap_parse_command_prints_json():
    import json

    out = _yingji("cap", "parse", str(CAP_DIR / "gz_rainstorm_red_zh_en.xml"), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["infos"][0]["headline"] == "广州市气象台发布暴雨红色预警[Ⅰ级/特别严重]"
