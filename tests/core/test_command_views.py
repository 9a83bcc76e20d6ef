"""The command screen's pages: who may open them, the wall-screen page, the
region outlines once, and an update that ships nothing when nothing changed."""

import gzip
import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from yingji.core import command, nav
from yingji.core.models import Profile, Region, Role

pytestmark = pytest.mark.django_db


def box(x0, y0, x1, y1):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@pytest.fixture
def tianhe(db):
    city = Region.objects.create(code="440100", name="广州市", level="city")
    district = Region.objects.create(
        code="440106",
        name="天河区",
        level="district",
        parent=city,
        boundary=box(113.30, 23.09, 113.45, 23.25),
        centroid_lon=113.37,
        centroid_lat=23.16,
    )
    Region.objects.create(
        code="440106001",
        name="石牌街道",
        level="street",
        parent=district,
        boundary=box(113.34, 23.11, 113.38, 23.14),
    )
    return district


def client_for(role, region=None):
    user = User.objects.create_user(f"u-{role}", password="pw-123456")
    Profile.objects.create(user=user, role=role, region=region, full_name=f"{role}用户")
    c = Client()
    c.force_login(user)
    return c, user


URLS = ["/command/", "/command/update", "/command/regions"]


@pytest.mark.parametrize("role", sorted(nav.CITY_ROLES))
def test_the_roles_that_see_the_whole_city_open_the_screen(role, tianhe):
    c, user = client_for(role)
    for url in URLS:
        assert c.get(url).status_code == 200, url
    assert any(e["title"] == "指挥大屏" for e in nav.entries_for(user))


@pytest.mark.parametrize("role", [Role.DISTRICT_STAFF, Role.DEPT_STAFF])
def test_a_district_or_department_user_gets_403_and_no_menu_entry(role, tianhe):
    c, user = client_for(role, region=tianhe)
    for url in URLS:
        assert c.get(url).status_code == 403, url
    assert all(e["title"] != "指挥大屏" for e in nav.entries_for(user))


def test_anonymous_users_are_sent_to_the_login(tianhe):
    response = Client().get("/command/update")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_is_a_wall_screen_without_the_side_menu(tianhe):
    c, _ = client_for(Role.DUTY_OFFICER)
    page = c.get("/command/")
    html = page.content.decode()
    assert "指挥大屏" in html and 'class="sidenav"' not in html
    assert "command.css" in html and "command.js" in html
    config = json.loads(html.split('id="cmd-config" type="application/json">')[1].split("<")[0])
    assert config["updateUrl"] == "/command/update" and config["pollMs"] == 5000
    assert {layer["key"] for layer in config["layers"]} >= {"events", "warnings", "incidents"}
    assert config["drill"] is None


def test_the_poll_interval_is_a_setting(tianhe, settings):
    settings.YINGJI_COMMAND_POLL_SECONDS = 2
    c, _ = client_for(Role.LEADER)
    assert '"pollMs": 2000' in c.get("/command/").content.decode()


def test_an_unknown_or_malformed_drill_is_404(tianhe):
    c, _ = client_for(Role.DUTY_OFFICER)
    for query in ("?drill=999999", "?drill=abc", "?drill=-1", "?drill=1" + "0" * 20):
        assert c.get("/command/" + query).status_code == 404, query
        assert c.get("/command/update" + query).status_code == 404, query


def test_region_outlines_come_once_simplified_and_then_not_again(tianhe):
    c, _ = client_for(Role.DUTY_OFFICER)
    first = c.get("/command/regions", HTTP_ACCEPT_ENCODING="gzip")
    assert first["Content-Encoding"] == "gzip"
    data = json.loads(gzip.decompress(first.content))
    by_code = {r["code"]: r for r in data["regions"]}
    assert set(by_code) == {"440106", "440106001"}  # districts and streets, not the city
    assert by_code["440106"]["c"] == [113.37, 23.16]
    assert by_code["440106001"]["c"] is not None  # a centre found from the outline
    assert by_code["440106"]["g"]["type"] == "Polygon"
    again = c.get("/command/regions", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_a_second_poll_with_the_versions_held_ships_nothing(tianhe):
    c, _ = client_for(Role.DUTY_OFFICER)
    first = c.get("/command/update").json()
    assert first["mode"] == "normal" and first["err"] == []
    assert command.FIGURES_KEY in first["f"] and command.TIMELINE_KEY in first["f"]
    known = command.format_known({k: v["v"] for k, v in first["f"].items()})
    second = c.get("/command/update", {"v": known})
    assert second.status_code == 200 and second["Cache-Control"] == "no-store"
    assert second.json()["f"] == {}
    assert len(second.content) < 120
