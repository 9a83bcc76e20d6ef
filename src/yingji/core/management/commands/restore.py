"""`yingji restore ARCHIVE [--force] [--target URL] [--no-files]` (core/backup.py)."""

from django.core.management.base import BaseCommand, CommandError

from yingji.core import backup


class Command(BaseCommand):
    help = (
        "从 yingji backup 生成的备份恢复:先逐个核对校验和(不符则不做任何改动),"
        "目标数据库须为空(否则须加 --force),恢复后逐表核对行数。恢复前请停止平台各进程。"
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="备份文件(yingji-backup-….tar)")
        parser.add_argument(
            "--force", action="store_true", help="目标数据库或上传文件目录不为空时也覆盖"
        )
        parser.add_argument(
            "--target",
            help="恢复到另一个数据库(postgres://… 或 sqlite:///…),默认为平台自己的数据库",
        )
        parser.add_argument(
            "--no-files", action="store_true", help="只恢复数据库,不恢复上传文件和配置文件"
        )

    def handle(self, *args, archive, force=False, target=None, no_files=False, **options):
        verbose = int(options.get("verbosity", 1)) >= 2
        try:
            result = backup.restore(
                archive,
                force=force,
                target_url=target,
                files=not no_files,
                say=self.stdout.write,
                detail=verbose,
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc), returncode=1) from None
        if result.problems:
            raise CommandError(
                "恢复后行数与备份不符:" + ";".join(result.problems[:20]), returncode=1
            )
        self.stdout.write("各表行数与备份一致。")
