"""`yingji demo [--reset]`: everything the demo needs, in one idempotent command.

    migrate → regions load guangzhou → departments load → special periods (党的二十大)
    → demo_users → every module's demo loader, in order (core/demos.py: the work
    plan's shipped 2022 plan and simulated year, then risk, monitoring, alerts,
    response, enforcement) → print the URLs and the accounts.

Running it again changes nothing and takes a few seconds. `--reset` first deletes
the SQLite database file (refused for any other database).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import time
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections

from yingji.core import demos

DEMO_CITY = "guangzhou"
DEMO_SEED = 2022
# Periods the statutory calendar cannot know; the seed plan's key dates need them.
SPECIAL_PERIODS = [
    (
        "党的二十大",
        dt.date(2022, 10, 16),
        dt.date(2022, 10, 22),
        "中国共产党第二十次全国代表大会召开期间",
    ),
]


def reset_target(settings_dict: dict[str, Any]) -> list[Path]:
    """The files `--reset` deletes for a database configuration: the SQLite file
    and its WAL and shared-memory companions. CommandError for anything else
    (PostgreSQL, an in-memory SQLite database)."""
    engine = settings_dict.get("ENGINE", "")
    if not engine.endswith("sqlite3"):
        vendor = engine.rsplit(".", 1)[-1] or "未知"
        raise CommandError(
            f"--reset 只能用于 SQLite 数据库;当前数据库为 {vendor},"
            "不会删除任何数据,请由数据库管理员清理"
        )
    name = str(settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or "mode=memory" in name:
        raise CommandError("--reset:当前 SQLite 数据库在内存中,没有可删除的文件")
    path = Path(name)
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


class Command(BaseCommand):
    help = (
        "一条命令准备演示:迁移数据库,加载广州行政区划、部门、特殊时段(党的二十大)和演示账号,"
        "导入 2022 年工作要点并生成一年的模拟进展、督办和暂缓记录。可重复运行,第二次不做任何改动。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="先删除 SQLite 数据库文件(仅限 SQLite),从空库重新生成演示数据",
        )
        parser.add_argument(
            "--addr",
            default="127.0.0.1:8000",
            help="打印访问地址时使用的主机和端口(默认 127.0.0.1:8000)",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEMO_SEED,
            help="模拟一年进展所用的随机种子(默认 2022,结果可复现)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        self.verbosity = options["verbosity"]
        # The demo's messages go through the demo channel set unless a real channel
        # is configured (core/channelconfig.py): a newcomer sees them delivered.
        os.environ.setdefault("YINGJI_DEMO_CHANNELS", "1")
        if options["reset"]:
            self._reset()

        self._step("数据库迁移", "migrate", interactive=False)
        self._step("行政区划", "regions", "load", DEMO_CITY)
        self._step("部门", "departments", "load", line=0)
        self._step("镇街应急办", "departments", "street-offices")
        self._special_periods()
        self._step("演示账号", "demo_users")
        links = self._module_demos(options["seed"])

        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(f"演示数据已就绪({time.perf_counter() - started:.1f} 秒)。")
        )
        for label, path in links:
            self.stdout.write(f"{label}:http://{options['addr']}{path}")
        self.stdout.write(f"首页:    http://{options['addr']}/")
        self._accounts()

    # ------------------------------------------------------------ steps

    def _module_demos(self, seed: int) -> list[tuple[str, str]]:
        """Run every registered demo loader (core/demos.py); the links they offer."""
        run = demos.DemoRun(
            stdout=self.stdout, seed=seed, verbosity=self.verbosity, step=self._step
        )
        for loader in demos.loaders():
            summary = loader.load(run)
            if summary is not None:
                self.stdout.write(f"· {loader.label}:{summary}")
        return run.links

    def _reset(self) -> None:
        files = reset_target(connection.settings_dict)
        connections.close_all()  # SQLite keeps the file open otherwise
        removed = [f for f in files if f.exists()]
        for f in removed:
            f.unlink()
        self.stdout.write(
            f"已删除数据库文件:{files[0]}" if removed else f"数据库文件不存在,直接新建:{files[0]}"
        )
        # Jobs queued for the deleted database (deliveries of its notifications)
        # would act on whatever gets the same ids in the new one.
        from huey import SqliteHuey
        from huey.contrib.djhuey import HUEY

        if isinstance(HUEY, SqliteHuey):
            HUEY.flush()

    def _step(self, label: str, *command: str, line: int = -1, **kwargs: Any) -> str:
        """Run another command and show its summary line (`line`: which one), or
        all of its output with -v 2."""
        out = io.StringIO()
        call_command(
            *command, stdout=out, stderr=out, verbosity=max(0, self.verbosity - 1), **kwargs
        )
        text = out.getvalue().strip()
        if self.verbosity >= 2:
            shown = text
        else:
            shown = text.splitlines()[line].strip() if text else "完成"
            shown = shown.removeprefix(f"{label}:")
        self.stdout.write(f"· {label}:{shown}")
        return text

    def _special_periods(self) -> None:
        from yingji.core import audit
        from yingji.core.models import SpecialPeriod

        created = 0
        with audit.acting_as(None, "演示数据"):
            for name, start, end, note in SPECIAL_PERIODS:
                _, new = SpecialPeriod.objects.get_or_create(
                    name=name, start=start, end=end, defaults={"note": note}
                )
                created += new
        names = "、".join(f"{n}({s:%m-%d}~{e:%m-%d})" for n, s, e, _ in SPECIAL_PERIODS)
        self.stdout.write(f"· 特殊时段:{names}," + (f"新增 {created} 个" if created else "已存在"))

    def _accounts(self) -> None:
        from yingji.core.demo_users import DEMO_ACCOUNTS, demo_password, password_file
        from yingji.core.models import Role

        labels = dict(Role.choices)
        self.stdout.write(
            f"演示账号(密码均为 {demo_password()},本安装随机生成,另存于 {password_file()}):"
        )
        staff = []
        for a in DEMO_ACCOUNTS:
            if a.role == Role.DEPT_STAFF:
                staff.append(f"{a.username}({a.department})")
            else:
                place = f",{a.department}" if a.department else ""
                self.stdout.write(f"  {a.username:<12} {labels[a.role]}{place}")
        if staff:
            self.stdout.write("  处室账号:" + "、".join(staff))
