"""`yingji risk`: the risk registers from the command line.

    yingji risk supervise [--date YYYY-MM-DD]          reminders and escalations of the day
    yingji risk import {enterprises,risk_points,hazards} FILE [--valid-only] [--as USERNAME]
    yingji risk export {enterprises,risk_points,hazards} FILE
    yingji risk report --year Y --quarter Q [--docx F] [--html F]
    yingji risk consultation --start D --end D [--html F]

An import with problems exits with status 2 and prints each as
`FILE:ROW:COLUMN: reason`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

KINDS = ["enterprises", "risk_points", "hazards"]


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"日期“{text}”格式应为 YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "风险隐患台账:督办、导入导出、季度风险分析报告、会商研判表"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        sup = actions.add_parser("supervise", help="隐患到期提醒、超期升级、验收超时、回头看")
        sup.add_argument("--date", help="按此日期运行(默认今天)")
        imp = actions.add_parser("import", help="导入 Excel 台账")
        imp.add_argument("kind", choices=KINDS)
        imp.add_argument("file", type=Path)
        imp.add_argument("--valid-only", action="store_true", help="仅导入有效行,跳过有错误的行")
        imp.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            help="以该用户的身份和管辖范围导入(默认:系统,不限范围)",
        )
        exp = actions.add_parser("export", help="导出 Excel 台账")
        exp.add_argument("kind", choices=KINDS)
        exp.add_argument("file", type=Path)
        rep = actions.add_parser("report", help="季度风险分析报告")
        rep.add_argument("--year", type=int, required=True)
        rep.add_argument("--quarter", type=int, required=True, choices=[1, 2, 3, 4])
        rep.add_argument("--docx", type=Path)
        rep.add_argument("--html", type=Path)
        con = actions.add_parser("consultation", help="节假日/重点时段风险会商研判表")
        con.add_argument("--start", required=True)
        con.add_argument("--end", required=True)
        con.add_argument("--html", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _supervise(self, options: dict[str, Any]) -> None:
        from yingji.core.audit import acting_as
        from yingji.risk import services
        from yingji.risk.supervise import supervise

        day = _date(options["date"]) if options["date"] else services.today()
        with acting_as(None, "隐患督办(命令)"):
            result = supervise(day)
        self.stdout.write(f"{day}:{result.summary()}")

    def _import(self, options: dict[str, Any]) -> None:
        from yingji.core.audit import acting_as
        from yingji.risk import ledger

        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"文件不存在:{path}")

        def progress(done: int, total: int) -> None:
            self.stderr.write(f"\r{done}/{total}", ending="")

        user = None
        if options.get("as_user"):
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.filter(username=options["as_user"]).first()
            if user is None:
                raise CommandError(f"用户不存在:{options['as_user']}")
        with acting_as(user, None if user else "台账导入(命令)"):
            report = ledger.import_ledger(
                options["kind"],
                path.read_bytes(),
                filename=path.name,
                user=user,
                valid_only=options["valid_only"],
                progress=progress,
            )
        self.stderr.write("")
        for error in report.errors:
            self.stderr.write(f"{path.name}:{error.row}:{error.column}: {error.message}")
        if not report.written:
            raise CommandError(report.summary(), returncode=2)
        self.stdout.write(report.summary())

    def _export(self, options: dict[str, Any]) -> None:
        from yingji.risk import ledger
        from yingji.risk.models import Enterprise, Hazard, RiskPoint

        querysets = {
            "enterprises": Enterprise.objects.all(),
            "risk_points": RiskPoint.objects.all(),
            "hazards": Hazard.objects.all(),
        }
        options["file"].write_bytes(
            ledger.export_ledger(options["kind"], querysets[options["kind"]])
        )
        self.stdout.write(f"已导出:{options['file']}")

    def _report(self, options: dict[str, Any]) -> None:
        from yingji.risk import reports

        data = reports.quarterly_data(options["year"], options["quarter"])
        if options["docx"]:
            options["docx"].write_bytes(reports.quarterly_docx(data))
            self.stdout.write(f"已生成:{options['docx']}")
        if options["html"]:
            options["html"].write_text(reports.quarterly_html(data), encoding="utf-8")
            self.stdout.write(f"已生成:{options['html']}")
        if not options["docx"] and not options["html"]:
            self.stdout.write(data["title"])

    def _consultation(self, options: dict[str, Any]) -> None:
        from yingji.risk import reports

        start, end = _date(options["start"]), _date(options["end"])
        if end < start:
            raise CommandError("结束日期不能早于开始日期")
        data = reports.consultation_data(start, end)
        if options["html"]:
            options["html"].write_text(reports.consultation_html(data), encoding="utf-8")
            self.stdout.write(f"已生成:{options['html']}")
        else:
            self.stdout.write(data["title"])
