import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from yingji.core.audit import acting_as
from yingji.workplan import services


class Command(BaseCommand):
    help = "运行督办:到期提醒、逾期督办单、未回复升级(默认今天;--date 指定日期)"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD,默认今天")

    def handle(self, *args, **options):
        try:
            day = dt.date.fromisoformat(options["date"]) if options["date"] else services.today()
        except ValueError as exc:
            raise CommandError(f"--date 应为 YYYY-MM-DD:{options['date']}", returncode=2) from exc
        with acting_as(None, "督办程序"):
            result = services.supervise(day)
        self.stdout.write(
            f"{day}:提醒 {result.reminders} 条,督办单 {len(result.notices)} 份,"
            f"升级 {result.escalations} 份"
        )
        for n in result.notices:
            self.stdout.write(f"  {n.serial} → {n.department}:{n.reason}")
