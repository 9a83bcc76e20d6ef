"""The enforcement demo on the real Guangzhou regions, departments and demo
accounts: a drawn, verified and carried-out 2022, loaded once for the module."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

from yingji.core.models import SpecialPeriod
from yingji.enforcement import demo as enforcement_demo
from yingji.enforcement import services
from yingji.enforcement.models import (
    Draw,
    Finding,
    InspectionPlan,
    LookbackCase,
    PenaltyCase,
    Publication,
)
from yingji.risk.models import Accident, Hazard


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with transaction.atomic():
            out = io.StringIO()
            call_command("regions", "load", "guangzhou", stdout=out)
            call_command("departments", "load", stdout=out)
            call_command("demo_users", stdout=out)
            SpecialPeriod.objects.create(
                name="党的二十大", start=dt.date(2022, 10, 16), end=dt.date(2022, 10, 22)
            )
            for code, day, deaths in (
                ("SG20250001", dt.date(2025, 1, 10), 3),
                ("SG20250002", dt.date(2025, 2, 1), 1),
                ("SG20261001", dt.date(2026, 10, 1), 4),
            ):
                Accident.objects.create(
                    code=code,
                    deaths=deaths,
                    district_id="440106",
                    accident_type="collapse",
                    occurred_at=timezone.make_aware(dt.datetime.combine(day, dt.time(9))),
                )
            summary = enforcement_demo.load_demo(out)
            yield summary
            transaction.set_rollback(True)


@pytest.fixture
def plan(loaded, db) -> InspectionPlan:
    return InspectionPlan.objects.get(title=enforcement_demo.PLAN_TITLE)


def test_demo_year_is_drawn_with_a_published_seed_and_verified(plan):
    assert plan.seed_announced_at < plan.seed_fixed_at
    assert plan.seed == services.drawing.seed_from_public_value(enforcement_demo.SEED_VALUE)
    labels = list(plan.draws.values_list("label", flat=True))
    assert labels[0] == "年度抽取" and "党的二十大明查暗访" in labels and "春节明查暗访" in labels
    assert all(d.status == Draw.Status.DONE and d.verified_ok for d in plan.draws.all())
    assert all(services.verify_draw(d, save=False).ok for d in plan.draws.all())
    assert sum(m["double_random"] for m in services.monthly_schedule(plan)) >= 10


def test_demo_carries_the_year_out(plan):
    findings = Finding.objects.filter(inspection__plan=plan)
    assert findings.exists() and not findings.filter(hazard__isnull=True).exists()
    assert Hazard.objects.filter(source="enforcement").count() == findings.count()
    assert findings.filter(exemption__isnull=False).exists()
    states = set(PenaltyCase.objects.values_list("state", flat=True))
    assert {"filed", "investigating", "closed"} <= states and len(states) >= 5
    assert Publication.objects.filter(late_workdays__gt=0).exists()
    assert services.current_listings(dt.date(2023, 6, 1)).count() == 1


def test_demo_is_idempotent_and_pages_show_it(plan, django_user_model):
    before = plan.inspections.count()
    assert "已有" in enforcement_demo.load_demo(io.StringIO())
    assert plan.inspections.count() == before
    web = Client()
    web.force_login(django_user_model.objects.get(username="zhifa"))
    assert plan.title in web.get("/enforcement/").content.decode()
    stats = web.get("/enforcement/statistics/", {"year": 2022}).content.decode()
    assert "天河区" in stats and "合计" in stats
    assert Client().get("/enforcement/public/").status_code == 200


def test_demo_opens_lookbacks_for_the_larger_accidents(loaded, db):
    cases = {c.accident.code: c for c in LookbackCase.objects.select_related("accident")}
    assert sorted(cases) == ["SG20250001", "SG20261001"]  # the 一般 accident is not looked back
    old, recent = cases["SG20250001"], cases["SG20261001"]
    # a year after the report's approval the 2025 accident has been evaluated; the recent
    # one still waits for its investigation report
    assert old.report_approved_on and old.conclusion and old.items.filter(status="done").exists()
    assert (
        old.items.filter(kind="accountability").exists()
        and old.items.filter(kind="measure").exists()
    )
    assert recent.state == "pending" and recent.report_approved_on is None
    assert "已有事故整改评估 2 起" in enforcement_demo.load_demo(io.StringIO())
    web = Client()
    web.force_login(get_user_model().objects.get(username="zhifa"))
    page = web.get(f"/enforcement/lookbacks/{old.pk}/").content.decode()
    assert (
        old.get_conclusion_display() in page
        and "追责决定文书已送达" in page
        and "录入调查报告批复" in page
    )
