"""yingji monitoring_token NAME: issue a token for the HTTP bulk endpoint."""

from django.core.management.base import BaseCommand

from yingji.monitoring import services


class Command(BaseCommand):
    help = "签发 HTTP 批量接入令牌(只显示一次)"

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, **opts):
        token = services.issue_token(opts["name"])
        self.stdout.write(f"令牌(只显示这一次,请妥善保存):{token}")
