"""yingji ingest: an MQTT ingest worker (run several to split the stream)."""

import os
import signal
import socket

from django.core.management.base import BaseCommand, CommandError

from yingji.monitoring.ingest import Worker
from yingji.monitoring.partitions import Partition, PartitionError


class Command(BaseCommand):
    help = "监测数据接入:订阅 MQTT(共享订阅,QoS 1 持久会话),入库并运行报警规则"

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("YINGJI_MQTT_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("YINGJI_MQTT_PORT", "1883"))
        )
        parser.add_argument(
            "--client-id",
            default=None,
            help="稳定的客户端标识(重启后沿用,才能收回未确认的消息);默认 yingji-ingest-<主机名>",
        )
        parser.add_argument("--group", default="yingji", help="共享订阅组名")
        parser.add_argument("--batch", type=int, default=2000, help="每批最多消息数")
        parser.add_argument(
            "--partition",
            default=os.environ.get("YINGJI_INGEST_PARTITION", ""),
            help="按分区接入 i/N(如 0/2、1/2):每个分区收全部消息,只处理本分区"
            "传感器(按街道划分),多个接入进程时累计雨量等有状态规则仍然准确",
        )

    def handle(self, *args, **opts):
        try:
            partition = Partition.parse(opts["partition"])
        except PartitionError as exc:
            raise CommandError(f"--partition:{exc}") from exc
        client_id = opts["client_id"] or f"yingji-ingest-{socket.gethostname()}" + (
            "" if partition.whole else f"-p{partition.index}of{partition.count}"
        )

        def subscribed() -> None:
            self.stdout.write("已订阅,开始接收")
            self.stdout.flush()

        worker = Worker(
            opts["host"],
            opts["port"],
            client_id=client_id,
            group=opts["group"],
            batch_max=opts["batch"],
            partition=partition,
            on_subscribed=subscribed,
        )
        signal.signal(signal.SIGTERM, lambda *_: worker.stop())
        signal.signal(signal.SIGINT, lambda *_: worker.stop())
        self.stdout.write(
            f"监测接入已启动:{opts['host']}:{opts['port']} 客户端 {client_id},"
            f"订阅 $share/{worker.group}/yingji/v1/#"
            + ("" if partition.whole else f",分区 {partition}")
        )
        worker.run()
        s = worker.stats
        self.stdout.write(
            f"已停止:消息 {worker.messages},入库 {s.stored},重复 {s.duplicates},"
            f"拒收 {s.rejected},报警变化 {s.alarm_changes}"
        )
