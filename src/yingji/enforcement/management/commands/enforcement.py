"""`yingji enforcement`: the draw and its verification from the command line.

    yingji enforcement verify DRAW_ID            re-run a draw from its recorded inputs
    yingji enforcement export DRAW_ID FILE       write the published inputs (JSON)
    yingji enforcement draw PLAN_ID [--key-dates]
    yingji enforcement alarm [--date YYYY-MM-DD] late-publication alarm
    yingji enforcement stats YEAR [--by district|department|category]
    yingji enforcement lookback open|supervise [--date YYYY-MM-DD]
    yingji enforcement lookback typical ACCIDENT_CODE --reason TEXT
    yingji enforcement lookback summary YEAR [--xlsx FILE]

`verify` exits with status 1 when the re-run differs from the record. Anyone can
also verify an exported file without the platform:
`python -m yingji.enforcement.draw verify FILE RESULT_SHA256`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from yingji.core import audit


class Command(BaseCommand):
    help = "双随机抽取、复核、公示逾期提醒与执法统计"

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        verify = actions.add_parser("verify", help="按记录的输入重新运行抽取并比对结果")
        verify.add_argument("draw_id", type=int)
        export = actions.add_parser("export", help="导出抽取输入(公开的名录快照、参数与种子)")
        export.add_argument("draw_id", type=int)
        export.add_argument("file", type=Path)
        draw = actions.add_parser("draw", help="年度抽取(或 --key-dates 关键节点明查暗访)")
        draw.add_argument("plan_id", type=int)
        draw.add_argument("--key-dates", action="store_true")
        alarm = actions.add_parser("alarm", help="检查结果逾期未公示提醒")
        alarm.add_argument("--date", type=dt.date.fromisoformat)
        stats = actions.add_parser("stats", help="检查、问题、案件、处罚率与罚款统计")
        stats.add_argument("year", type=int)
        stats.add_argument(
            "--by", default="district", choices=["district", "department", "category"]
        )

        lb = actions.add_parser(
            "lookback", help="事故整改评估(回头看):启动、督办、认定典型事故、年度汇总"
        )
        lb.add_argument("step", choices=["open", "supervise", "typical", "summary"])
        lb.add_argument("target", nargs="?", help="typical:事故编号;summary:年度")
        lb.add_argument("--date", type=dt.date.fromisoformat)
        lb.add_argument("--reason", default="")
        lb.add_argument("--xlsx", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"])(options)

    def _record(self, draw_id: int):
        from yingji.enforcement.models import Draw

        record = Draw.objects.filter(pk=draw_id).first()
        if record is None:
            raise CommandError(f"没有编号为 {draw_id} 的抽取记录")
        return record

    def _verify(self, options: dict[str, Any]) -> None:
        from yingji.enforcement import services

        record = self._record(options["draw_id"])
        with audit.acting_as(None, "复核命令"):
            check = services.verify_draw(record)
        self.stdout.write(f"抽取 {record.pk}({record.plan.year} {record.label},{record.algorithm})")
        self.stdout.write(
            f"输入摘要 {record.inputs_sha256}:{'一致' if check.inputs_ok else '不一致'}"
        )
        self.stdout.write(check.message)
        if not check.ok:
            raise CommandError("复核不一致", returncode=1)

    def _export(self, options: dict[str, Any]) -> None:
        record = self._record(options["draw_id"])
        options["file"].write_text(
            json.dumps(record.inputs, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        self.stdout.write(
            f"已导出 {options['file']};结果摘要 {record.result_sha256 or '(无法完成)'}"
        )

    def _draw(self, options: dict[str, Any]) -> None:
        from yingji.enforcement import services
        from yingji.enforcement.models import InspectionPlan

        plan = InspectionPlan.objects.filter(pk=options["plan_id"]).first()
        if plan is None:
            raise CommandError(f"没有编号为 {options['plan_id']} 的检查计划")
        try:
            with audit.acting_as(None, "抽取命令"):
                records = (
                    services.draw_key_dates(plan, services.SYSTEM)
                    if options["key_dates"]
                    else [services.draw_annual(plan, services.SYSTEM)]
                )
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        for r in records:
            self.stdout.write(
                f"抽取 {r.pk} {r.label}:{r.inspections.count()} 户,结果摘要 {r.result_sha256}"
            )

    def _alarm(self, options: dict[str, Any]) -> None:
        from yingji.enforcement import services

        day = options["date"] or services.today()
        with audit.acting_as(None, "公示提醒"):
            n = services.publication_alarm(day)
        self.stdout.write(
            f"{day}:逾期未公示 {services.late_publications(day).count()} 条,本次通知 {n} 个部门"
        )

    def _stats(self, options: dict[str, Any]) -> None:
        from yingji.enforcement import services

        rows = services.statistics(options["year"], options["by"])
        self.stdout.write("名称\t检查\t已检查\t问题\t免罚\t案件\t处罚\t处罚率\t罚款(元)")
        for r in [*rows, services.totals(rows)]:
            rate = "—" if r.penalty_rate is None else f"{r.penalty_rate:.1%}"
            self.stdout.write(
                f"{r.label}\t{r.inspections}\t{r.done}\t{r.findings}\t{r.exempt}\t"
                f"{r.cases}\t{r.penalised}\t{rate}\t{r.amount}"
            )

    def _lookback(self, options: dict[str, Any]) -> None:
        from yingji.enforcement import lookback, services

        step, day = options["step"], options["date"] or services.today()
        try:
            with audit.acting_as(None, "事故整改评估命令"):
                if step == "open":
                    opened = lookback.open_cases(day)
                    self.stdout.write(
                        f"{day}:新启动事故整改评估 {len(opened)} 起"
                        + "".join(f"\n  {c.accident}" for c in opened)
                    )
                elif step == "supervise":
                    n = lookback.supervise(day)
                    self.stdout.write(
                        f"{day}:到期提醒 {n['reminders']} 项,逾期督办 {n['overdue_items']} 项,"
                        f"评估逾期 {n['overdue_evaluations']} 起"
                    )
                elif step == "typical":
                    from yingji.risk.models import Accident

                    accident = Accident.objects.filter(code=options["target"] or "").first()
                    if accident is None:
                        raise CommandError(f"没有编号为“{options['target']}”的事故")
                    case = lookback.mark_typical(
                        accident, services.SYSTEM, reason=options["reason"]
                    )
                    self.stdout.write(f"{accident} 已列为典型事故,整改评估 {case.pk}")
                else:
                    if not (options["target"] or "").isdigit():
                        raise CommandError("summary 须给出年度,例如 2026")
                    year = int(options["target"])
                    if options["xlsx"]:
                        options["xlsx"].write_bytes(lookback.summary_xlsx(year))
                        self.stdout.write(f"已导出 {options['xlsx']}")
                    rows, total = lookback.summary(year)
                    self.stdout.write(
                        "区\t应评估\t已评估\t合格\t基本合格\t不合格\t追责落实率\t整改完成率"
                    )
                    for r in [*rows, total]:
                        shares = [
                            "—" if v is None else f"{v:.0%}"
                            for v in (r.accountability_share, r.measures_share)
                        ]
                        self.stdout.write(
                            "\t".join(
                                map(
                                    str,
                                    [r.label, r.due, r.evaluated, *r.conclusion_counts, *shares],
                                )
                            )
                        )
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
