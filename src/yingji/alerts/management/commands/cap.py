"""`yingji cap`: check and read CAP 1.2 files without touching the database.

    yingji cap validate FILE...      per file: "valid" or each problem (element, rule)
    yingji cap parse FILE [--json]   the alert(s) the file holds

`validate` exits with status 1 when any file is invalid; `parse` with status 2 when
the file cannot be read as CAP at all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yingji.alerts import cap, capvalidate


class Command(BaseCommand):
    help = "校验或解析 CAP 1.2 预警文件(不访问数据库)"
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{validate,parse}")
        check = actions.add_parser("validate", help="按官方 XSD 和平台规则校验")
        check.add_argument("files", type=Path, nargs="+")
        read = actions.add_parser("parse", help="解析并输出预警内容")
        read.add_argument("file", type=Path)
        read.add_argument("--json", action="store_true", help="输出 JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "validate":
            self._validate(options["files"])
        else:
            self._parse(options["file"], as_json=options["json"])

    def _read(self, path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: 无法读取:{exc.strerror}", returncode=2) from None

    def _validate(self, files: list[Path]) -> None:
        invalid = 0
        for path in files:
            problems = capvalidate.validate(self._read(path))
            if not problems:
                self.stdout.write(f"{path}: valid")
                continue
            invalid += 1
            self.stdout.write(f"{path}: invalid ({len(problems)})")
            for problem in problems:
                self.stdout.write(f"  {problem}")
        if invalid:
            raise CommandError(f"{invalid} 个文件未通过校验", returncode=1)

    def _parse(self, path: Path, *, as_json: bool) -> None:
        try:
            alerts = cap.parse(self._read(path))
        except cap.CapError as exc:
            raise CommandError(f"{path}: {exc}", returncode=2) from None
        if as_json:
            data: Any = [a.to_dict() for a in alerts]
            self.stdout.write(
                json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False, indent=2)
            )
            return
        for a in alerts:
            self.stdout.write(f"{a.identifier}  {a.sender}  {a.sent}  {a.status}/{a.msg_type}")
            for info in a.infos:
                areas = "、".join(area.area_desc for area in info.areas)
                self.stdout.write(
                    f"  [{info.language or '-'}] {info.event} {info.severity}: "
                    f"{info.headline}  ({areas})"
                )
