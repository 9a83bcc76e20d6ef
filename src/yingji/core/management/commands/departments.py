"""`yingji departments load [FILE]` and `yingji departments suggestions`."""

from django.core.management.base import BaseCommand, CommandError

from yingji.core.departments import (
    DEFAULT_FILE,
    DepartmentFileError,
    ensure_street_offices,
    load_departments,
    open_suggestions,
    suggestion_text,
)
from yingji.core.models import Region


class Command(BaseCommand):
    help = (
        "部门登记:load 导入部门 CSV(默认为随包发布的名单,可重复运行),"
        "并列出“可能与…相同”的疑似重复部门;suggestions 列出待决定的疑似重复。"
        "文件有误时以状态 2 退出并指出文件、行和列。"
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser(
            "load", help="导入部门 CSV(列:name,kind,aliases,region_code,sort_order)"
        )
        load.add_argument(
            "file", nargs="?", default=None, help=f"CSV 文件,默认 {DEFAULT_FILE.name}"
        )
        sub.add_parser("suggestions", help="列出待决定的疑似重复部门")
        sub.add_parser(
            "street-offices", help="为每个镇街区划建立镇街应急办(可重复运行;区划须先导入)"
        )

    def handle(self, *args, action=None, file=None, **options):
        if action == "load":
            try:
                result = load_departments(file)
            except DepartmentFileError as exc:
                raise CommandError(str(exc), returncode=2) from exc
            except OSError as exc:
                raise CommandError(f"{file}: 无法读取({exc.strerror})", returncode=2) from exc
            self.stdout.write(result.summary())
            if result.regions_missing:
                self.stdout.write("区划尚未导入,暂未关联:" + "、".join(result.regions_missing))
            for text in result.open_suggestions:
                self.stdout.write(f"  {text}")
            return
        if action == "street-offices":
            if not Region.objects.filter(level="street").exists():
                raise CommandError("尚未导入镇街区划:先运行 yingji regions load …", returncode=2)
            self.stdout.write(ensure_street_offices().summary())
            return
        suggestions = open_suggestions()
        if not suggestions:
            self.stdout.write("没有待决定的疑似重复部门。")
        for s in suggestions:
            self.stdout.write(f"[{s.pk}] {suggestion_text(s)}")
