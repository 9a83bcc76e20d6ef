"""yingji regions load NAME | import FILE [FILE…] | lookup LON LAT [--crs gcj02]

Errors exit with status 2 after printing every problem with its place.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yingji.core import audit, geo, regions
from yingji.core.regionpack import RegionPackError


class Command(BaseCommand):
    help = "行政区划:加载内置数据包、导入 GeoJSON/CSV、按坐标查询所在区和镇街"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, parser_class=CommandParser)
        load = sub.add_parser("load", help="加载内置数据包(如 guangzhou)")
        load.add_argument("name", help=f"数据包名称,可用:{', '.join(regions.available_packs())}")
        imp = sub.add_parser("import", help="导入 GeoJSON / CSV 区划文件(整体校验,一个事务)")
        imp.add_argument("files", nargs="+", help="GeoJSON 或 CSV 文件")
        imp.add_argument(
            "--synthesise-streets", action="store_true", help="为没有边界的镇街合成示意边界(非法定)"
        )
        look = sub.add_parser("lookup", help="查询坐标所在的区和镇街")
        look.add_argument("lon", type=float, help="经度")
        look.add_argument("lat", type=float, help="纬度")
        look.add_argument("--crs", default="wgs84", help="坐标系:wgs84(默认)、gcj02、bd09")

    def handle(self, *args, **options) -> None:
        action = options["action"]
        try:
            if action == "lookup":
                self._lookup(options["lon"], options["lat"], options["crs"])
                return
            with audit.acting_as(None, "命令行 regions"):
                if action == "load":
                    result = regions.load_pack(options["name"])
                else:
                    result = regions.import_files(
                        options["files"], synthesise_streets=options["synthesise_streets"]
                    )
        except RegionPackError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"共 {len(exc.problems)} 处问题,未写入任何数据", returncode=2
            ) from None
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from None
        for note in result.notes:
            self.stdout.write(f"注意:{note}")
        self.stdout.write(self.style.SUCCESS(result.summary()))

    def _lookup(self, lon: float, lat: float, crs: str) -> None:
        wgs_lon, wgs_lat = geo.to_wgs84(lon, lat, crs)
        found = regions.lookup(wgs_lon, wgs_lat)
        self.stdout.write(f"WGS-84 坐标:{wgs_lon:.6f}, {wgs_lat:.6f}")
        if found["district"] is None:
            self.stdout.write("不在任何已加载的区内")
            return
        self.stdout.write(f"区:{found['district'].name}({found['district'].code})")
        street = found["street"]
        if street is None:
            self.stdout.write("镇街:未知(该区没有镇街边界)")
        else:
            note = "(合成示意边界,仅供参考)" if street.boundary_synthetic else ""
            self.stdout.write(f"镇街:{street.name}({street.code}){note}")
