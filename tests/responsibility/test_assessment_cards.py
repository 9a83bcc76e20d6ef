"""The assessment's response feed on real action cards: cards issued to a
department in the year against those it acknowledged within each card's limit."""

import datetime as dt

import pytest

from tests.response.conftest import at, incident, people, red_plan, tianhe  # noqa: F401
from yingji.response import services
from yingji.responsibility import assessment as svc

pytestmark = pytest.mark.django_db


def test_cards_acknowledged_in_time_count(incident, red_plan, people, at):  # noqa: F811
    act = services.activate(red_plan, incident, "II", user=people["duty"], at=at)
    first = act.cards.get(department=people["jiaoyu"].profile.department)
    late = act.cards.filter(department=people["jiaotong"].profile.department).first()
    in_time = at + dt.timedelta(minutes=first.ack_minutes - 1)
    services.acknowledge(first, user=people["jiaoyu"], at=in_time)
    too_late = at + dt.timedelta(minutes=late.ack_minutes + 5)
    services.acknowledge(late, user=people["jiaotong"], at=too_late)
    fed = svc._feed_cards("department", at.year)
    assert fed[first.department_id] == {"done": 1.0, "of": 1.0}
    issued = act.cards.filter(department=late.department).count()
    assert fed[late.department_id] == {"done": 0.0, "of": float(issued)}
    assert svc._feed_cards("department", at.year - 1) == {}
