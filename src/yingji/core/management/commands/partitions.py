"""`yingji partitions [--ahead N] [--dry-run]`: the time-partitioned tables'
partitions, the ones missing created (the hourly job does the same), and what the
next retention run will drop."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from yingji.core import partitioning, partitionplan


class Command(BaseCommand):
    help = (
        "按时间分区的表(PostgreSQL):列出分区,创建保留期内与未来 N 个周期缺少的分区"
        "(默认分区中已有的对应数据随之移入),并说明下次保留期清理将整体删除哪些分区。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--ahead",
            type=int,
            default=None,
            help="提前创建的周期数(按日分区为天,按月分区为月;默认见各表设置)",
        )
        parser.add_argument("--dry-run", action="store_true", help="只列出计划,不创建")

    def handle(self, *args, ahead=None, dry_run=False, **options):
        if ahead is not None and ahead < 0:
            raise CommandError(f"--ahead 不能为负(收到 {ahead})", returncode=2)
        if connection.vendor != "postgresql":
            self.stdout.write("本库不是 PostgreSQL:读数表不分区,保留期清理按行删除。")
            return
        reports = partitioning.maintain(ahead=ahead, dry_run=dry_run)
        if not reports:
            self.stdout.write("没有已分区的表(迁移 monitoring 0007 尚未执行?)。")
            return
        verb = "将创建" if dry_run else "已创建"
        for rep in reports:
            names = [p.name for p in rep.partitions]
            rows = partitioning.estimate_rows(names)
            self.stdout.write(f"{rep.table}:{len(names)} 个分区")
            for p in sorted(rep.partitions, key=lambda p: (p.lo is None, p.lo or 0)):
                n = rows.get(p.name)
                count = "行数未统计" if n is None else f"约 {n} 行"
                self.stdout.write(f"  {p.name}  {partitionplan.describe(p)}  {count}")
            moved = {c.name: c.moved for c in rep.created}
            for r in rep.create:
                extra = f"(自默认分区移入 {moved[r.name]} 行)" if moved.get(r.name) else ""
                self.stdout.write(f"  {verb} {r.name}  {partitionplan.describe(r)}{extra}")
            if not rep.create:
                self.stdout.write("  无需创建分区。")
            ret = rep.retention
            if ret is not None and ret.drop:
                dropped = "、".join(e.name for e in ret.drop)
                self.stdout.write(f"  保留期清理将整体删除:{dropped}")
