"""`yingji demo_users`: create the demo accounts (see yingji.core.demo_users)."""

from django.core.management.base import BaseCommand

from yingji.core.demo_users import DEMO_ACCOUNTS, create_demo_users, demo_password
from yingji.core.models import Role


def _help() -> str:
    names = ", ".join(a.username for a in DEMO_ACCOUNTS)
    return (
        "创建演示账号(可重复运行),共用一个密码:首次运行时随机生成,保存在 var/demo-password,"
        "每套安装各不相同;邮箱 <账号>@demo.yingji.local。"
        f"账号:{names}。admin 为超级用户(管理员),leader 局领导,supervisor 督查(办公室),"
        "各处室账号以拼音简称命名(zonghe 综合处、weihua 危化处 …),"
        "tianhe 天河区人员(440106,区划已导入时关联),shipai 天河区石牌街道人员(镇街应急办),duty 值班员。仅供演示。"
    )


class Command(BaseCommand):
    help = _help()

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="把已存在的演示账号密码重设为本安装的演示密码(var/demo-password)",
        )

    def handle(self, *args, reset_passwords=False, **options):
        results = create_demo_users(reset_passwords=reset_passwords)
        labels = dict(Role.choices)
        for r in results:
            place = " ".join(p for p in (r.department, r.region) if p) or "—"
            state = "新建" if r.created else "已存在"
            line = f"{r.account.username:<14} {labels[r.account.role]:<8} {place}  [{state}]"
            if r.notes:
                line += "  " + ";".join(r.notes)
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(results)} 个演示账号,密码:{demo_password()}"
                + ("" if reset_passwords else "(已存在的账号保留原密码)")
            )
        )
