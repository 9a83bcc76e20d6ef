"""`yingji audit verify [--anchor ID:HASH]` and `yingji audit purge`."""

from django.core.management.base import BaseCommand, CommandError

from yingji.core import audit
from yingji.core.models import AuditEntry


def _entry_text(pk: int) -> str:
    entry = AuditEntry.objects.filter(pk=pk).select_related("content_type").first()
    if entry is None:
        return f"第 {pk} 条"
    return (
        f"第 {pk} 条({entry.at:%Y-%m-%d %H:%M:%S} {entry.actor_label} "
        f"{entry.get_action_display()} {entry.content_type.name}「{entry.object_repr}」)"
    )


def _anchor(text: str) -> tuple[int, str]:
    pk, _, digest = text.partition(":")
    if not pk.isdigit() or len(digest) != 64:
        raise CommandError(f"锚点格式应为 编号:哈希(64 位十六进制),收到「{text}」", returncode=2)
    return int(pk), digest.lower()


class Command(BaseCommand):
    help = (
        "审计日志:verify 逐条校验哈希链,指出第一处断链(被修改、删除或插入的记录),"
        "完整时打印最后一环供在库外留存;purge 删除超过保留期(YINGJI_AUDIT_RETENTION_DAYS,"
        "不少于 180 天)的记录。"
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="校验哈希链,断链时以状态 1 退出")
        verify.add_argument(
            "--anchor",
            help="以前记下的一环(编号:哈希),校验日志仍经过这一环(未被整体重算或截断)",
        )
        sub.add_parser("purge", help="删除超过保留期的记录(未设保留期时不删除)")

    def handle(self, *args, action=None, anchor=None, **options):
        if action == "purge":
            days = audit.retention_days()
            if days <= 0:
                self.stdout.write("未设置保留期(YINGJI_AUDIT_RETENTION_DAYS),审计日志永久保留。")
                return
            self.stdout.write(f"已删除 {audit.purge()} 条超过 {days} 天的审计日志。")
            return
        wanted = _anchor(anchor) if anchor else None
        result = audit.verify_chain(wanted)
        if result.broken is not None:
            raise CommandError(
                f"审计日志哈希链断开:{result.broken.describe()}。"
                f"第一处断链:{_entry_text(result.broken.id)}。"
                f"此前 {result.checked - 1} 条完好。",
                returncode=1,
            )
        if wanted is not None and not result.anchor_seen:
            raise CommandError(
                f"审计日志中没有锚点所指的第 {wanted[0]} 条(已被删除或保留期已过)", returncode=1
            )
        if not result.checked:
            self.stdout.write("审计日志为空。")
            return
        start = "起点" if result.start_hash == "0" * 64 else "承接已清理的记录"
        self.stdout.write(
            self.style.SUCCESS(
                f"审计日志哈希链完整:共 {result.checked} 条,"
                f"第 {result.first_id} 条({start})至第 {result.last_id} 条。"
            )
        )
        self.stdout.write(f"最后一环(请在库外留存):{result.last_id}:{result.last_hash}")
