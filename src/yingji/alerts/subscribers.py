"""Subscribers: the CSV/Excel import (a transaction: every problem named with its
line and field, nothing half-written) and the location feed from the carriers'
cell fixes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from yingji.alerts.models import (
    Subscriber,
    SubscriberGroup,
)
from yingji.alerts.services import _invalid, located_codes
from yingji.core import audit, channelconfig
from yingji.core.models import Region

# ------------------------------------------------------------- subscriber import


# The import's columns with the headers a person writes; a file may use either.
IMPORT_HEADERS = {
    "external_id": "编号",
    "name": "姓名/单位",
    "phone": "手机",
    "email": "邮箱",
    "webhook_url": "群机器人地址",
    "language": "语言",
    "channels": "渠道",
    "home_region": "区划代码",
    "lon": "经度",
    "lat": "纬度",
    "crs": "坐标系",
    "groups": "人群",
    "opted_out": "退订",
}
IMPORT_COLUMNS = tuple(IMPORT_HEADERS)
_COLUMN_OF = {h: k for k, h in IMPORT_HEADERS.items()}


def _column(header: str) -> str:
    """A header's column: a Chinese header ("手机") or the column's own name."""
    header = header.strip()
    return _COLUMN_OF.get(header, header)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def _rows_from_upload(name: str, data: bytes) -> list[dict[str, str]]:
    from yingji.core import inputlimits

    if problem := inputlimits.size_problem(len(data), name):
        raise _invalid("file", problem)
    if name.lower().endswith((".xlsx", ".xlsm")):
        import openpyxl

        if problem := inputlimits.archive_problem(data, name):
            raise _invalid("file", problem)

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        values = [
            ["" if v is None else str(v).strip() for v in row]
            for row in sheet.iter_rows(values_only=True)
        ]
        if not values:
            return []
        header = [_column(h) for h in values[0]]
        return [dict(zip(header, row, strict=False)) for row in values[1:] if any(row)]
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _invalid("file", "无法识别文件编码(应为 UTF-8 或 GB18030)")
    return [
        {_column(k): (v or "").strip() for k, v in row.items() if k}
        for row in csv.DictReader(io.StringIO(text))
    ]


# Groups kept by a register of their own (responsibility/services.sync_subscribers).
REGISTER_GROUPS = frozenset({"sanfang"})

_CHANNEL_OF_LABEL = {label: name for name, label in channelconfig.LABELS.items()}


def import_subscribers(name: str, data: bytes) -> ImportReport:
    """Import subscribers from CSV or Excel (columns IMPORT_COLUMNS; `groups` and
    `channels` separated by '|' or '、'). All or nothing: any bad row and nothing
    is written; every error names its row."""
    rows = _rows_from_upload(name, data)
    report = ImportReport()
    groups = {g.key: g for g in SubscriberGroup.objects.all()}
    groups.update({g.name: g for g in groups.values()})
    region_codes = set(Region.objects.values_list("code", flat=True))
    parsed = []
    for n, row in enumerate(rows, start=2):
        problems = []
        ext = row.get("external_id", "")
        if not ext:
            problems.append("缺少编号")
        lon, lat = row.get("lon", ""), row.get("lat", "")
        point = None
        if lon or lat:
            try:
                from yingji.core import geo

                point = geo.to_wgs84(float(lon), float(lat), row.get("crs") or "wgs84")
            except ValueError:
                problems.append(f"经纬度无效:{lon},{lat}")
        home = row.get("home_region", "")
        if home and home not in region_codes:
            problems.append(f"区划代码不存在:{home}")
        keys = [k for k in _split(row.get("groups", ""))]
        unknown = [k for k in keys if k not in groups]
        if unknown:
            problems.append(f"人群分组不存在:{'、'.join(unknown)}")
        elif any(groups[k].key in REGISTER_GROUPS for k in keys):
            problems.append(
                "三防责任人分组由三防责任人名册维护,不能在订阅人导入中指定(请在名册中登记)"
            )
        channel_of = {**{n: n for n in channelconfig.NAMES}, **_CHANNEL_OF_LABEL}
        chans = [channel_of.get(c, c) for c in _split(row.get("channels", ""))]
        if set(chans) - set(channelconfig.NAMES):
            allowed = "、".join(channelconfig.LABELS.values())
            problems.append(f"渠道只能是{allowed}:{row.get('channels')}")
        if not (row.get("phone") or row.get("email") or row.get("webhook_url")):
            problems.append("手机、邮箱、群机器人地址至少填一项")
        if problems:
            report.errors.append(f"第 {n} 行:" + ";".join(problems))
            continue
        parsed.append((row, point, home, [groups[k] for k in keys], chans))
    if report.errors:
        return report
    with transaction.atomic():
        for row, point, home, member_of, chans in parsed:
            values = {
                "name": row.get("name") or row["external_id"],
                "phone": row.get("phone", ""),
                "email": row.get("email", ""),
                "webhook_url": row.get("webhook_url", ""),
                "language": row.get("language") or "zh-CN",
                "channels": chans,
                "home_region_id": home or None,
                "last_lon": point[0] if point else None,
                "last_lat": point[1] if point else None,
                "located_at": timezone.now() if point else None,
                "opted_out": row.get("opted_out", "").lower() in ("1", "true", "yes", "是"),
            }
            subscriber, created = Subscriber.objects.update_or_create(
                external_id=row["external_id"], defaults=values
            )
            subscriber.groups.set(member_of)
            report.created += created
            report.updated += not created
    return report


def locate_subscribers(*, everyone: bool = False, batch: int = 50_000) -> int:
    """Fill Subscriber.located_region where it is missing (rows from before the
    column, or written by bulk SQL), or for everyone (after the region boundaries
    changed). One lookup per batch; rows whose region changed get updated_at
    bumped so the targeting index picks them up. Returns the rows changed."""
    from django.db import connection

    table = Subscriber._meta.db_table
    where = "" if everyone else " AND located_region IS NULL"
    changed, last_id = 0, 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, last_lon, last_lat, located_region FROM {table} "
                f"WHERE id > %s AND last_lon IS NOT NULL AND last_lat IS NOT NULL"
                f"{where} ORDER BY id LIMIT %s",
                [last_id, batch],
            )
            rows = cursor.fetchall()
            if not rows:
                return changed
            last_id = rows[-1][0]
            codes = located_codes([r[1] for r in rows], [r[2] for r in rows])
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            updates = [
                (code, now, r[0]) for r, code in zip(rows, codes, strict=True) if r[3] != code
            ]
            with transaction.atomic():
                cursor.executemany(
                    f"UPDATE {table} SET located_region = %s, updated_at = %s WHERE id = %s",
                    updates,
                )
            changed += len(updates)


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace("、", "|").replace(",", "|").split("|") if p.strip()]


@dataclass
class LocationFix:
    """One position report, as a mobile operator's cell-location feed gives it."""

    external_id: str
    lon: float
    lat: float
    at: dt.datetime
    crs: str = "wgs84"


def update_locations(fixes: Sequence[LocationFix]) -> dict[str, int]:
    """Apply a batch of location reports: converted to WGS-84, the newest per
    subscriber wins, a report older than the stored one is ignored, unknown
    subscribers are counted and skipped. Returns counts."""
    from yingji.core import geo

    newest: dict[str, LocationFix] = {}
    for fix in fixes:
        if fix.external_id not in newest or fix.at > newest[fix.external_id].at:
            newest[fix.external_id] = fix
    known = {
        ext: (pk, located)
        for ext, pk, located in Subscriber.objects.filter(external_id__in=list(newest)).values_list(
            "external_id", "id", "located_at"
        )
    }
    changed = []
    stale = 0
    now = timezone.now()
    for ext, fix in newest.items():
        if ext not in known:
            continue
        pk, located = known[ext]
        if located is not None and fix.at <= located:
            stale += 1
            continue
        lon, lat = geo.to_wgs84(fix.lon, fix.lat, fix.crs)
        changed.append(
            Subscriber(pk=pk, last_lon=lon, last_lat=lat, located_at=fix.at, updated_at=now)
        )
    # The region of every new position in one vectorised lookup, stored with it so
    # the targeting index never looks points up.
    codes = located_codes([s.last_lon for s in changed], [s.last_lat for s in changed])
    for subscriber, code in zip(changed, codes, strict=True):
        subscriber.located_region = code
    from django.db import connection

    if connection.vendor == "postgresql" and changed:  # one UPDATE … FROM unnest(arrays)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Subscriber._meta.db_table} s SET last_lon = v.lon, last_lat = v.lat, "
                f"located_at = v.at, located_region = v.code, updated_at = %s "
                f"FROM unnest(%s::bigint[], %s::float8[], %s::float8[], %s::timestamptz[], "
                f"%s::varchar[]) AS v(id, lon, lat, at, code) WHERE s.id = v.id",
                [
                    now,
                    [c.pk for c in changed],
                    [c.last_lon for c in changed],
                    [c.last_lat for c in changed],
                    [c.located_at for c in changed],
                    [c.located_region for c in changed],
                ],
            )
    else:
        with audit.suspended():  # position reports are telemetry, not register changes
            Subscriber.objects.bulk_update(
                changed,
                ["last_lon", "last_lat", "located_at", "located_region", "updated_at"],
                batch_size=2000,
            )
    return {"updated": len(changed), "stale": stale, "unknown": len(set(newest) - set(known))}
