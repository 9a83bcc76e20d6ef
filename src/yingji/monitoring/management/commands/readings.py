"""yingji readings import FILE [--map …] [--strict]."""

from django.core.management.base import BaseCommand, CommandError

from yingji.monitoring import mapping, sensorimport, services


class Command(BaseCommand):
    help = (
        "导入第三方监测网的读数文件(CSV/Excel):有误的行转入死信(文件、行号、原因),"
        "其余入库;--strict 有一行有误即整个文件不导入"
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import")
        imp.add_argument("file")
        imp.add_argument(
            "--map",
            default="",
            help="列对应关系,如 sensor=测站,ts=时间,parameter=参数,value=数值,unit=单位"
            f"(未指定的按常见列名识别)。字段:{', '.join(mapping.READING_FIELDS)}",
        )
        imp.add_argument("--strict", action="store_true", help="有一行有误即不导入,并指出行与字段")
        imp.add_argument(
            "--no-convert",
            action="store_true",
            help="不换算单位:单位须与传感器的单位相同(否则转入死信)",
        )

    def handle(self, *args, **opts):
        try:
            given = mapping.parse_spec(opts["map"], mapping.READING_FIELDS)
            result = sensorimport.import_readings(
                opts["file"], given, strict=opts["strict"], convert_units=not opts["no_convert"]
            )
        except (OSError, mapping.MappingError, services.MonitoringError) as exc:
            raise CommandError(str(exc)) from None
        for reason in result.reasons[:10]:
            self.stdout.write(f"死信:{reason}")
        self.stdout.write(result.summary())
