"""The risk demo: every hazard state, two years of accidents, idempotent."""

import io

import pytest
from django.core.management import call_command

from yingji.risk import demo, stats
from yingji.risk.models import Accident, Enterprise, Hazard, Recheck, RiskAssessment


@pytest.fixture
def small_demo(gz, monkeypatch):
    monkeypatch.setattr(demo, "ENTERPRISES", 30)
    monkeypatch.setattr(demo, "HAZARDS", 60)
    monkeypatch.setattr(demo, "PUBLIC_SITES", 3)
    call_command("demo_users", stdout=io.StringIO())
    return demo.load_demo(io.StringIO())


def test_the_demo_has_hazards_in_every_state_and_two_years_of_accidents(small_demo):
    assert set(Hazard.objects.values_list("state", flat=True)) == {
        "reported",
        "assigned",
        "rectifying",
        "submitted",
        "rejected",
        "accepted",
        "closed",
    }
    assert Hazard.objects.filter(level="major", listed=True).exists()
    assert Recheck.objects.filter(done_on__isnull=False).exists()
    assert {a.occurred_at.year for a in Accident.objects.all()} == {2025, 2026}
    assert RiskAssessment.objects.count() > Enterprise.objects.count()
    assert (
        Enterprise.objects.filter(
            district__isnull=False, supervising_department__isnull=False
        ).count()
        == 30
    )
    dd = stats.double_decrease(demo.DEMO_TODAY)
    assert dd["accidents"]["current"] > 0 and dd["accidents"]["previous"] > 0
    assert "已生成企业 30 家" in small_demo


def test_the_demo_loads_once(small_demo):
    counts = (Enterprise.objects.count(), Hazard.objects.count(), Accident.objects.count())
    again = demo.load_demo(io.StringIO())
    assert again.startswith("已存在")
    assert (Enterprise.objects.count(), Hazard.objects.count(), Accident.objects.count()) == counts
