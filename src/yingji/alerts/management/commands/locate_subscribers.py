"""`yingji locate_subscribers [--all]`: store the region of each subscriber's last
location (Subscriber.located_region) where it is missing — once after upgrading to
the column — or, with --all, for everyone after the region boundaries changed.
The targeting index reads the stored region and looks up only rows without one."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from yingji.alerts import subscribers


class Command(BaseCommand):
    help = "为订阅人最近位置写入所在区划(--all:区划边界变更后全部重算)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all", action="store_true", dest="everyone", help="全部重算(区划边界变更后)"
        )

    def handle(self, *args: Any, everyone: bool = False, **options: Any) -> None:
        changed = subscribers.locate_subscribers(everyone=everyone)
        self.stdout.write(f"已更新 {changed} 个订阅人的位置区划")
