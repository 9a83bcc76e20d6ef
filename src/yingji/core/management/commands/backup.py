"""`yingji backup [--dir DIR] [--keep N]` (core/backup.py, docs/operations.md)."""

from django.core.management.base import BaseCommand, CommandError

from yingji.core import backup


class Command(BaseCommand):
    help = (
        "备份数据库(PostgreSQL 用 pg_dump,SQLite 用在线备份)、上传文件(MEDIA_ROOT)"
        "和本机配置文件(VAR_DIR 下的密钥等)到一个 tar 文件,附清单(行数、校验和)。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir", help="备份目录(默认 YINGJI_BACKUP_DIR,即 var/backups)", default=None
        )
        parser.add_argument("--keep", type=int, default=None, help="只保留最近 N 个备份")

    def handle(self, *args, dir=None, keep=None, **options):
        try:
            result = backup.create(dir, keep=keep, say=self.stdout.write)
        except backup.BackupError as exc:
            raise CommandError(str(exc), returncode=1) from None
        self.stdout.write(str(result.path))
