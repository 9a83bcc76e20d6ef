"""yingji bulletin PLAN_ID --period monthly|quarterly --as-of YYYY-MM-DD [--docx OUT] [--html OUT]"""

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yingji.core import workcalendar as wc
from yingji.workplan import bulletins
from yingji.workplan.models import Plan


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期格式应为 YYYY-MM-DD:{value}") from exc


class Command(BaseCommand):
    help = "生成(或重新生成)工作要点落实情况通报,可另存为 Word 和网页"

    def add_arguments(self, parser):
        parser.add_argument("plan_id", type=int, help="工作要点编号")
        parser.add_argument(
            "--period",
            required=True,
            choices=bulletins.PERIODS,
            help="monthly(月度)或 quarterly(季度)",
        )
        parser.add_argument(
            "--as-of",
            required=True,
            type=_date,
            dest="as_of",
            help="数据截至日期 YYYY-MM-DD(月度通常为月末,季度为季末)",
        )
        parser.add_argument("--docx", type=Path, help="另存 Word 文件的路径")
        parser.add_argument("--html", type=Path, help="另存网页文件的路径")

    def handle(self, *args, plan_id, period, as_of, docx=None, html=None, **options):
        plan = Plan.objects.filter(pk=plan_id).first()
        if plan is None:
            raise CommandError(f"没有编号为 {plan_id} 的工作要点")
        try:
            bulletin = bulletins.generate(plan, period, as_of)
        except wc.CalendarRangeError as exc:
            raise CommandError(str(exc)) from exc
        data = bulletin.data
        self.stdout.write(
            f"已生成通报 #{bulletin.pk}:{data['title']},数据截至 {as_of:%Y-%m-%d};"
            f"{data['totals']['count']} 项任务,滞后 {len(data['overdue'])} 项"
        )
        if docx:
            docx.write_bytes(bulletins.render_docx(bulletin))
            self.stdout.write(f"Word:{docx}")
        if html:
            html.write_text(bulletins.render_html(bulletin), encoding="utf-8")
            self.stdout.write(f"网页:{html}")
