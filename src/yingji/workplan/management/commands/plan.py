"""`yingji plan`: read a work-plan document, or import it.

    yingji plan parse FILE [--json] [--year N]          no database access
    yingji plan import FILE [--year N] [--title T]

A document with problems exits with status 2, each problem on stderr as
`FILE:LINE: message` (LINE 0: the document as a whole).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yingji.workplan.parser import ParsedPlan, PlanDocumentError, parse_plan_file


class Command(BaseCommand):
    help = "解析或导入工作要点文件(.txt 或 .docx)"
    # Parsing must work without a database: skip the system checks that would touch it.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{parse,import}")
        parse = actions.add_parser("parse", help="解析文件并输出结果(不写数据库)")
        parse.add_argument("file", type=Path)
        parse.add_argument("--json", action="store_true", help="输出 JSON")
        parse.add_argument("--year", type=int, help="年度(文件中没有写明时必须指定)")
        load = actions.add_parser("import", help="解析并导入数据库")
        load.add_argument("file", type=Path)
        load.add_argument("--year", type=int, help="年度")
        load.add_argument("--title", help="标题(默认取文件标题)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            if options["action"] == "parse":
                self._parse(path, options)
            else:
                self._import(path, options)
        except PlanDocumentError as error:
            for issue in error.issues:
                self.stderr.write(f"{path.name}:{issue.line}: {issue.message}")
            raise CommandError(
                f"{path.name}:文件有 {len(error.issues)} 个问题,未能读取", returncode=2
            ) from None

    def _parse(self, path: Path, options: dict[str, Any]) -> None:
        plan = parse_plan_file(path, year=options["year"])
        if options["json"]:
            self.stdout.write(json.dumps(plan.to_json(), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(_summary(plan, path.name))

    def _import(self, path: Path, options: dict[str, Any]) -> None:
        # Imported here: `parse` must run without the services layer and its models.
        from yingji.workplan.services import import_plan_file

        plan = import_plan_file(path, year=options["year"], title=options["title"])
        self.stdout.write(f"已导入:{plan.title},{plan.tasks.count()} 个任务")


def _summary(plan: ParsedPlan, name: str) -> str:
    lines = [
        f"{plan.title}({plan.year}年)",
        f"部分 {len(plan.sections)} 个,任务 {len(plan.tasks)} 个",
    ]
    lines += [f"目标:{goal}" for goal in plan.goals]
    for section in plan.sections:
        numbers = [task.number for task in section.tasks]
        span = f"任务 {numbers[0]}–{numbers[-1]}" if numbers else "没有任务"
        lines.append(f"  {section.number}. {section.title}({span})")
    lines.append(f"警告 {len(plan.warnings)} 条" + (":" if plan.warnings else ""))
    lines += [f"  {name}:{w.line}: {w.message}" for w in plan.warnings]
    return "\n".join(lines)
