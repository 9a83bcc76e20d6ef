"""yingji sensors import FILE [--map …] | yingji sensors locate."""

from django.core.management.base import BaseCommand, CommandError

from yingji.core import audit
from yingji.monitoring import mapping, sensorimport, services


class Command(BaseCommand):
    help = (
        "传感器台账:import FILE(CSV/Excel,全部通过才导入;--map 指定第三方测站表的列)、"
        "locate(按坐标重算所在区和镇街)"
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import")
        imp.add_argument("file")
        imp.add_argument(
            "--map",
            default=None,
            help="列对应关系,如 code=站码,name=站名,lat=纬度,lon=经度,unit=单位,"
            "typical_high=常年高值(未指定的字段按常见列名识别;auto:全部自动识别)。"
            f"字段:{', '.join(mapping.STATION_FIELDS)}",
        )
        imp.add_argument(
            "--no-coords",
            choices=sorted(sensorimport.NO_COORDS),
            default=None,
            help="无坐标的测站:skip 跳过(默认),region 放在区划代码列所指区划的中心",
        )
        imp.add_argument(
            "--type", default="", help="文件无类型列时所有测站的类型(如 water_level、水位计)"
        )
        sub.add_parser("locate")

    def handle(self, *args, **opts):
        with audit.acting_as(None, "传感器导入"):
            if opts["action"] == "locate":
                self.stdout.write(f"已更新 {services.locate()} 个传感器的所在区划")
                return
            if opts["map"] is None and opts["no_coords"] is None and not opts["type"]:
                # The register's own layout (code,name,type,… or 编号,名称,类型,…).
                try:
                    result = services.import_sensors(opts["file"])
                except (OSError, services.MonitoringError) as exc:
                    raise CommandError(str(exc)) from None
                self.stdout.write(result.summary())
                return
            try:
                given = {} if opts["map"] in (None, "auto") else mapping.parse_spec(opts["map"])
                plan, result = sensorimport.import_stations(
                    opts["file"],
                    given,
                    no_coords=opts["no_coords"] or "skip",
                    default_type=opts["type"],
                )
            except (OSError, mapping.MappingError, services.MonitoringError) as exc:
                raise CommandError(str(exc)) from None
        for p in plan.skipped[:50]:
            self.stdout.write(str(p))
        self.stdout.write(result.summary())
