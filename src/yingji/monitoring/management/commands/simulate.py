"""yingji simulate rainstorm|typhoon: weather driving the sensors over the city."""

import os

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from yingji.monitoring import feed, services, simulate
from yingji.monitoring.models import Sensor


class Command(BaseCommand):
    help = "模拟暴雨单体过境或台风山竹(1822)路径,驱动雨量、风速、积水传感器(经 MQTT;无代理时经 HTTP 或直接入库)"

    def add_arguments(self, parser):
        parser.add_argument("scenario", choices=["rainstorm", "typhoon"])
        parser.add_argument(
            "--speed", type=float, default=600.0, help="倍速(默认 600:模拟 10 分钟用 1 秒)"
        )
        parser.add_argument("--minutes", type=int, default=180, help="暴雨持续分钟")
        parser.add_argument("--hours", type=float, default=24.0, help="台风模拟小时数")
        parser.add_argument("--mqtt", default=os.environ.get("YINGJI_MQTT", "127.0.0.1:1883"))
        parser.add_argument("--http", default="", help="无 MQTT 时的批量接口地址")
        parser.add_argument("--token", default=os.environ.get("YINGJI_INGEST_TOKEN", ""))
        parser.add_argument("--direct", action="store_true", help="直接入库(不经 MQTT/HTTP)")

    def handle(self, *args, **opts):
        sensors = list(
            Sensor.objects.filter(type__in=("rain", "waterlogging", "wind_speed")).values_list(
                "code", "lon", "lat", "type"
            )
        )
        if not sensors:
            raise CommandError("没有雨量、积水或风速传感器:先运行 yingji demo 或导入传感器")
        codes = [s[0] for s in sensors]
        lons, lats = np.array([s[1] for s in sensors]), np.array([s[2] for s in sensors])
        types = np.array([s[3] for s in sensors])
        if opts["scenario"] == "rainstorm":
            span = opts["minutes"] * 60
            frames = simulate.rainstorm(lons, lats, types, start_s=0, minutes=opts["minutes"])
        else:
            span = int(opts["hours"] * 3600)
            frames = simulate.typhoon(lons, lats, types, start_s=0, hours=opts["hours"])
        start_ms = services.now_ms() - span * 1000  # ends now: never in the future

        def rows():
            for f in frames:
                ts = start_ms + int(f.ts_s * 1000)
                yield ts, [(codes[i], ts, float(v)) for i, v in zip(f.idx, f.values, strict=True)]

        sink = self._sink(opts)
        self.stdout.write(
            f"模拟{'暴雨' if opts['scenario'] == 'rainstorm' else '台风山竹'}:"
            f"{len(codes)} 个传感器,经{sink.name},{opts['speed']:g} 倍速"
        )
        n = feed.paced(rows(), sink, opts["speed"])
        self.stdout.write(f"已发送 {n} 条读数")

    def _sink(self, opts):
        if opts["direct"]:
            return feed.DirectSink()
        host, _, port = opts["mqtt"].partition(":")
        if feed.broker_reachable(host, int(port or 1883)):
            return feed.MqttSink(host, int(port or 1883))
        if opts["http"] and opts["token"]:
            return feed.HttpSink(opts["http"], opts["token"])
        return feed.DirectSink()
