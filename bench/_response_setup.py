"""Shared set-up of the response benchmarks that need a database: a throw-away
SQLite database (and Huey queue) under a temporary YINGJI_VAR_DIR, migrated,
with the real settings (the outbox queues to Huey, nothing is sent inline), and
synthetic departments, people and a plan."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_django() -> Path:
    """Point Django at a fresh temporary database, migrate it, return the directory."""
    var = Path(tempfile.mkdtemp(prefix="yingji-bench-response-"))
    os.environ["YINGJI_VAR_DIR"] = str(var)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yingji.settings")
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return var


def departments_with_people(n: int):
    """n municipal departments, each with a mailbox and one member with e-mail."""
    from django.contrib.auth.models import User

    from yingji.core import audit
    from yingji.core.models import Department, Profile, Role

    with audit.suspended():
        depts = Department.objects.bulk_create(
            [
                Department(name=f"测试部门{i:03d}", kind="municipal", email=f"d{i}@example.org")
                for i in range(n)
            ]
        )
        users = User.objects.bulk_create(
            [User(username=f"staff{i:03d}", email=f"s{i}@example.org") for i in range(n)]
        )
        Profile.objects.bulk_create(
            [
                Profile(user=u, role=Role.DEPT_STAFF, department=d)
                for u, d in zip(users, depts, strict=True)
            ]
        )
    return depts


def duty_officer():
    from django.contrib.auth.models import User

    from yingji.core.models import Profile, Role

    user = User.objects.create_user("bench-duty", password="bench-pw-123")
    Profile.objects.create(user=user, role=Role.DUTY_OFFICER, full_name="值班员")
    return user


def plan_with_cards(depts, level: str = "II"):
    """An active plan with one action card per department at `level`."""
    from yingji.response.models import CardTemplate, EmergencyPlan, PlanTrigger

    plan = EmergencyPlan.objects.create(title="基准测试预案", status="active")
    PlanTrigger.objects.create(
        plan=plan, source="alert", hazard="暴雨", min_level="red", response_level=level
    )
    CardTemplate.objects.bulk_create(
        [
            CardTemplate(
                plan=plan,
                response_level=level,
                department=d,
                title=f"任务{i}",
                text="按预案落实",
                ack_minutes=10,
                limit_minutes=30,
                order=i,
            )
            for i, d in enumerate(depts)
        ]
    )
    return plan
