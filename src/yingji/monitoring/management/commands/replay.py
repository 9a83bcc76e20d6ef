"""yingji replay FILE --speed 60: replay recorded readings (shifted to now, paced).

yingji replay FILE --history [--notify]: a past day's readings on their own times,
through the active rules at once (services.replay_history): alarms marked 回放,
nobody told unless --notify."""

import os

from django.core.management.base import BaseCommand, CommandError

from yingji.monitoring import feed, services


class Command(BaseCommand):
    help = "回放 CSV 读数(sensor,ts,value[,unit]),按 --speed 倍速发送(默认经 MQTT,无代理时直接入库)"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--speed", type=float, default=60.0)
        parser.add_argument(
            "--mqtt", default=os.environ.get("YINGJI_MQTT", "127.0.0.1:1883"), help="HOST:PORT"
        )
        parser.add_argument("--direct", action="store_true", help="不经 MQTT,直接入库")
        parser.add_argument(
            "--history",
            action="store_true",
            help="历史回放:读数保持原时间,按现行规则判断,报警标记为「回放」,不通知任何人",
        )
        parser.add_argument(
            "--notify",
            action="store_true",
            help="历史回放时照常通知、提醒和升级(按数据时间计时,标题注明【回放】)",
        )

    def handle(self, *args, **opts):
        if opts["speed"] <= 0:
            raise CommandError("--speed 须大于 0")
        if opts["notify"] and not opts["history"]:
            raise CommandError("--notify 只用于历史回放(--history)")
        try:
            rows = feed.read_csv(opts["file"])
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        if opts["history"]:
            stats = services.replay_history(rows, notify=opts["notify"])
            self.stdout.write(stats.summary())
            for reason in stats.reasons[:5]:
                self.stdout.write(f"  拒收:{reason}")
            return
        sink = _sink(opts)
        n = feed.paced(feed.replay_frames(rows, services.now_ms()), sink, opts["speed"])
        extra = ""
        if isinstance(sink, feed.DirectSink):
            s = sink.stats
            extra = f";入库 {s.stored},重复 {s.duplicates},拒收 {s.rejected}"
        self.stdout.write(f"已回放 {n} 条读数(经{sink.name}){extra}")


def _sink(opts):
    if opts.get("direct"):
        return feed.DirectSink()
    host, _, port = opts["mqtt"].partition(":")
    port = int(port or 1883)
    if feed.broker_reachable(host, port):
        return feed.MqttSink(host, port)
    return feed.DirectSink()
