"""The monitoring tables partitioned by time on PostgreSQL (core/partitioning.py):
raw readings by UTC day on ts_ms, minute rollups by UTC month on start_ms (hour
rollups are kept forever, in one partition of their own). Migration 0007 converts
the tables; the retention settings say what is dropped."""

from django.conf import settings

from yingji.core.partitionplan import DAY, MONTH, Spec

READINGS = "monitoring_reading"
MINUTE_ROLLUPS = "monitoring_rollup_minute"


def specs() -> list[Spec]:
    return [
        Spec(
            READINGS,
            "ts_ms",
            DAY,
            retention_days=getattr(settings, "YINGJI_MONITORING_RAW_DAYS", 30),
            ahead=getattr(settings, "YINGJI_PARTITIONS_AHEAD_DAYS", 7),
        ),
        Spec(
            MINUTE_ROLLUPS,
            "start_ms",
            MONTH,
            retention_days=getattr(settings, "YINGJI_MONITORING_MINUTE_DAYS", 180),
            ahead=2,
        ),
    ]
