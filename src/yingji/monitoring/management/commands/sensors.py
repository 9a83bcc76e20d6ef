"""yingji sensors import FILE | yingji sensors locate."""

from django.core.management.base import BaseCommand, CommandError

from yingji.core import audit
from yingji.monitoring import services


class Command(BaseCommand):
    help = "传感器台账:import FILE(CSV/Excel,全部通过才导入)、locate(按坐标重算所在区和镇街)"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import")
        imp.add_argument("file")
        sub.add_parser("locate")

    def handle(self, *args, **opts):
        with audit.acting_as(None, "传感器导入"):
            if opts["action"] == "locate":
                self.stdout.write(f"已更新 {services.locate()} 个传感器的所在区划")
                return
            try:
                result = services.import_sensors(opts["file"])
            except (OSError, services.MonitoringError) as exc:
                raise CommandError(str(exc)) from None
        self.stdout.write(result.summary())
