"""The cost of the audit log's hash chain (core/audit.py write, core/auditchain.py)
on the write paths, on SQLite and on PostgreSQL side by side: every change writes
an audit entry, so chaining it (a lock on PostgreSQL, reading the last hash,
hashing the entry) must stay cheap.

- one audited save at a time (a department's e-mail changed: the entry of every
  page and API write), 2,000 saves, each its own transaction;
- bulk: 20 batches of 1,000 entries in one statement each (the path of
  response's action cards, imports);
- the hash alone, per entry.

Each is timed with the chain and with a plain insert of the same entries (the
write as it was before the chain), in alternating rounds (the machine's other
load falls on both alike); the figure is the added time per entry.
QUICK=1: 500 saves, 5 batches.

Last line: one JSON object; figure = the worse database's added microseconds per
entry on the bulk path (the single-save figures beside it: there the chain's lock
and last-hash read are round trips of their own, a few hundred microseconds on an
idle machine).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

from _common import on_both_databases, quick, report

ROOT = Path(__file__).resolve().parents[1]
QUICK = quick()
SAVES = 500 if QUICK else 2000
BATCHES = 5 if QUICK else 20
BATCH = 1000
ROUNDS = 8
PG_DATABASE = "bench_audit_chain"


def worker() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yingji.settings")
    import django

    django.setup()
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.utils import timezone

    from yingji.core import audit, auditchain
    from yingji.core.models import AuditEntry, Department

    call_command("migrate", "core", verbosity=0, interactive=False)
    chained_write = audit.write

    def plain_write(entries):  # the write before the chain: the same rows, no hash
        if len(entries) == 1:
            entries[0].save()
        else:
            AuditEntry.objects.bulk_create(entries, batch_size=500)

    depts = [Department.objects.create(name=f"测试部门{i}") for i in range(50)]
    ct = ContentType.objects.get_for_model(Department)

    def saves(n: int, tag: str) -> float:
        started = time.perf_counter()
        for i in range(n):
            d = depts[i % len(depts)]
            d.email = f"{tag}{i}@example.org"
            d.save()
        return (time.perf_counter() - started) / n

    def entries(n: int, tag: str) -> list:
        now = timezone.now()
        return [
            AuditEntry(
                content_type=ct,
                object_pk=str(i),
                object_repr=f"行动卡 {tag}-{i}",
                action="create",
                actor_label="bench",
                at=now,
                before=None,
                after={
                    "id": i,
                    "title": "转移危险区域群众",
                    "level": "II",
                    "lat": 23.13,
                    "ok": True,
                },
                changed_fields=[],
            )
            for i in range(n)
        ]

    def bulk(tag: str) -> float:
        total = 0.0
        for b in range(BATCHES):
            rows = entries(BATCH, f"{tag}{b}")
            started = time.perf_counter()
            audit.write(rows)
            total += time.perf_counter() - started
        return total / (BATCHES * BATCH)

    saves(100, "warm")
    single = {"chained": [], "plain": []}
    batch = {"chained": [], "plain": []}
    for r in range(ROUNDS):
        for mode in ("chained", "plain") if r % 2 == 0 else ("plain", "chained"):
            audit.write = chained_write if mode == "chained" else plain_write
            single[mode].append(saves(SAVES // ROUNDS, f"{mode}{r}"))
            batch[mode].append(bulk(f"{mode}{r}"))
    audit.write = chained_write

    sample = [_fields(e) for e in entries(5000, "hash")]
    started = time.perf_counter()
    prev = auditchain.GENESIS
    for row in sample:
        prev = auditchain.digest(prev, row)
    hash_us = (time.perf_counter() - started) / len(sample) * 1e6

    # The plain rounds left unchained rows: chain the whole table as the migration
    # does, then time `yingji audit verify`'s walk over it.
    import importlib

    from django.apps import apps
    from django.db import connection

    class _Editor:
        pass

    _Editor.connection = connection
    importlib.import_module("yingji.core.migrations.0004_audit_chain").chain_existing(
        apps, _Editor()
    )
    started = time.perf_counter()
    verified = audit.verify_chain()
    verify_s = time.perf_counter() - started
    assert verified.broken is None, verified.broken

    def us(values):
        return round(statistics.median(values) * 1e6, 1)

    print(
        json.dumps(
            {
                "single_chained_us": us(single["chained"]),
                "single_plain_us": us(single["plain"]),
                "single_added_us": round(us(single["chained"]) - us(single["plain"]), 1),
                "bulk_chained_us": us(batch["chained"]),
                "bulk_plain_us": us(batch["plain"]),
                "bulk_added_us": round(us(batch["chained"]) - us(batch["plain"]), 1),
                "hash_us": round(hash_us, 1),
                "entries": AuditEntry.objects.count(),
                "verify_s": round(verify_s, 2),
            }
        )
    )


def _fields(entry) -> dict:
    return {
        "content_type_id": entry.content_type_id,
        "object_pk": entry.object_pk,
        "object_repr": entry.object_repr,
        "action": entry.action,
        "actor_label": entry.actor_label,
        "at": entry.at,
        "before": entry.before,
        "after": entry.after,
        "changed_fields": entry.changed_fields,
    }


def main() -> None:
    results = on_both_databases(__file__, PG_DATABASE, timeout=1800)
    worst = max(r["bulk_added_us"] for r in results.values())
    report(
        "audit_chain_cost",
        worst,
        unit="µs added per entry, bulk",
        target="< 100 µs",
        **{f"{db}_{k}": v for db, r in results.items() for k, v in r.items()},
    )


if __name__ == "__main__":
    worker() if "--worker" in sys.argv else main()
