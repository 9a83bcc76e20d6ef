"""Reads of the response module follow the incident's scope (issue 13): action
cards, activations and dispatch orders are seen only with their incident.
Records: tests/scope_world.py (an activated incident in 天河 and in 番禺)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.scope_world import PANYU, TIANHE


@pytest.fixture
def w(two_districts, db):
    return two_districts


def api(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_the_card_list_shows_only_the_cards_of_incidents_the_user_sees(w):
    th_cards = set(w.activations[TIANHE].cards.values_list("pk", flat=True))
    py_cards = set(w.activations[PANYU].cards.values_list("pk", flat=True))
    listed = {c["id"] for c in api(w.users["th"]).get("/api/v1/response/cards").json()}
    assert th_cards and listed == th_cards
    everyone = {c["id"] for c in api(w.users["leader"]).get("/api/v1/response/cards").json()}
    assert th_cards | py_cards <= everyone


def test_an_activation_is_a_404_exactly_when_its_incident_is(w):
    th = api(w.users["th"])
    theirs, ours = w.activations[PANYU], w.activations[TIANHE]
    assert th.get(f"/api/v1/response/incidents/{theirs.incident_id}").status_code == 404
    assert th.get(f"/api/v1/response/activations/{theirs.pk}").status_code == 404
    r = th.get(f"/api/v1/response/activations/{ours.pk}")
    assert r.status_code == 200 and r.json()["incident_id"] == ours.incident_id
    py = api(w.users["py"])
    assert py.get(f"/api/v1/response/activations/{theirs.pk}").status_code == 200


def test_a_department_with_a_card_sees_that_incident_and_its_cards(w):
    card = w.cards[PANYU]
    staff = api(_staff_of(card.department))
    r = staff.get(f"/api/v1/response/activations/{card.activation_id}")
    assert r.status_code == 200 and card.pk in {c["id"] for c in r.json()["cards"]}
    assert card.pk in {c["id"] for c in staff.get("/api/v1/response/cards?mine=true").json()}


def test_a_card_of_an_incident_out_of_scope_cannot_be_opened_from_the_pages(w):
    card = w.cards[PANYU]
    th = api(w.users["th"])
    assert th.post(f"/response/cards/{card.pk}/ack/").status_code == 404
    card.refresh_from_db()
    assert card.state == "issued"


def test_the_duty_desk_is_for_those_who_see_everything(w):
    assert api(w.users["th"]).get("/api/v1/response/desk").status_code == 403
    r = api(w.users["duty"]).get("/api/v1/response/desk")
    assert r.status_code == 200 and "responding" in r.json()


def _staff_of(department):
    from django.contrib.auth.models import User

    from yingji.core.models import Profile, Role

    user = User.objects.create_user(f"staff-{department.pk}")
    Profile.objects.create(user=user, role=Role.DEPT_STAFF, department=department)
    return user
