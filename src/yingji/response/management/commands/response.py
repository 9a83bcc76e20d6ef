"""`yingji response …`: incident-command chores from the command line.

yingji response escalate                 escalate overdue action cards now
yingji response drills                   inject due drill steps now
yingji response review-reminders         remind owners of plans due for review
yingji response roster START DAYS        24-hour shifts (duty officers and leaders in rotation;
                                         joint duty on holidays and special periods)
yingji response import-resources FILE    Excel registries (all or nothing)
yingji response import-plan FILE         a plan .docx as a draft
yingji response load-example-plan        the shipped red rainstorm plan (five stops)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from yingji.core import audit
from yingji.core.models import Department, Role


class Command(BaseCommand):
    help = "应急指挥:行动卡督办、演练导调、预案评估提醒、排班、资源和预案导入"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("escalate")
        sub.add_parser("drills")
        sub.add_parser("review-reminders")
        roster = sub.add_parser("roster")
        roster.add_argument("start", type=dt.date.fromisoformat)
        roster.add_argument("days", type=int)
        roster.add_argument(
            "--joint",
            nargs="*",
            default=["指挥中心", "三防指挥中心"],
            help="节假日和特殊时段联合值守的部门",
        )
        res = sub.add_parser("import-resources")
        res.add_argument("file", type=Path)
        plan = sub.add_parser("import-plan")
        plan.add_argument("file", type=Path)
        sub.add_parser("load-example-plan")

    def handle(self, *args: Any, **options: Any) -> None:
        with audit.acting_as(None, "命令行"):
            getattr(self, "_" + options["action"].replace("-", "_"))(options)

    def _escalate(self, options: dict) -> None:
        from yingji.response import services

        self.stdout.write(f"升级超时行动卡 {services.escalate_overdue()} 次")

    def _drills(self, options: dict) -> None:
        from yingji.response import drills

        self.stdout.write(f"注入演练步骤 {drills.tick()} 个")

    def _review_reminders(self, options: dict) -> None:
        from yingji.response import plans

        self.stdout.write(f"发出预案评估提醒 {plans.remind_reviews()} 条")

    def _roster(self, options: dict) -> None:
        from yingji.response import services

        User = get_user_model()
        officers = list(
            User.objects.filter(profile__role=Role.DUTY_OFFICER, is_active=True).order_by(
                "username"
            )
        )
        leaders = list(
            User.objects.filter(profile__role=Role.LEADER, is_active=True).order_by("username")
        )
        joint = list(Department.objects.filter(name__in=options["joint"]))
        try:
            shifts = services.build_roster(
                options["start"], options["days"], officers, leaders, joint
            )
        except ValidationError as exc:
            raise CommandError(";".join(exc.messages)) from exc
        self.stdout.write(
            f"新排班 {len(shifts)} 班,其中联合值守 {sum(1 for s in shifts if s.period)} 班"
        )

    def _import_resources(self, options: dict) -> None:
        from yingji.response import resource_import

        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"文件不存在:{path}")
        try:
            self.stdout.write(
                resource_import.import_workbook(path.read_bytes(), filename=path.name)
            )
        except resource_import.ImportProblems as exc:
            raise CommandError("\n".join(exc.problems)) from exc

    def _import_plan(self, options: dict) -> None:
        from yingji.response import plandoc

        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"文件不存在:{path}")
        try:
            plan = plandoc.import_docx(path.read_bytes(), filename=path.name)
        except plandoc.PlanDocError as exc:
            raise CommandError("\n".join(exc.problems)) from exc
        except ValidationError as exc:
            raise CommandError(";".join(exc.messages)) from exc
        self.stdout.write(
            f"已导入草稿预案 #{plan.pk}:{plan.title}({plan.card_templates.count()} 张行动卡)"
        )

    def _load_example_plan(self, options: dict) -> None:
        from yingji.response import plans

        plan, created = plans.load_red_rainstorm()
        self.stdout.write(f"{'已导入' if created else '已存在'}:{plan.title}")
