"""The hash chain in the database: every writer chains, `yingji audit verify`
names the first broken link, purging keeps the chain verifiable, the migration
chains rows written before the chain existed, concurrent writers stay chained."""

import datetime as dt
import importlib
import io
import threading
import time

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from yingji.core import audit
from yingji.core.models import AuditEntry, Department

pytestmark = pytest.mark.django_db


def _verify() -> str:
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    return out.getvalue()


def _changes(n: int = 5) -> list[Department]:
    with audit.acting_as(None, "测试"):
        depts = [Department.objects.create(name=f"测试处{i}") for i in range(n)]
        for d in depts:
            d.email = f"d{d.pk}@example.org"
            d.save()
    return depts


def test_every_entry_is_chained_to_the_one_before():
    _changes()
    entries = list(AuditEntry.objects.order_by("id"))
    assert len(entries) == 10
    assert entries[0].prev_hash == "0" * 64
    for before, entry in zip(entries, entries[1:], strict=False):
        assert entry.prev_hash == before.hash and len(entry.hash) == 64
    out = _verify()
    assert "完整:共 10 条" in out
    assert f"{entries[-1].pk}:{entries[-1].hash}" in out


def test_verify_names_an_edited_entry():
    _changes()
    victim = AuditEntry.objects.order_by("id")[4]
    # someone with database access rewrites what was changed
    AuditEntry.objects.filter(pk=victim.pk).update(after={"email": "forged@example.org"})
    with pytest.raises(CommandError) as exc:
        _verify()
    message = str(exc.value)
    assert f"第 {victim.pk} 条的内容与其哈希不符" in message
    assert victim.object_repr in message and "此前 4 条完好" in message


def test_verify_names_the_entry_after_a_deleted_one():
    _changes()
    ids = list(AuditEntry.objects.order_by("id").values_list("id", flat=True))
    AuditEntry.objects.filter(pk=ids[3]).delete()
    with pytest.raises(CommandError) as exc:
        _verify()
    assert f"第 {ids[4]} 条与上一条不相连" in str(exc.value)


def test_verify_against_an_anchor_detects_a_recomputed_chain():
    _changes()
    last = AuditEntry.objects.order_by("-id").first()
    anchor = f"{last.pk}:{last.hash}"
    call_command("audit", "verify", "--anchor", anchor, stdout=io.StringIO())
    # rewrite a row and recompute the whole chain, as an attacker would
    first = AuditEntry.objects.order_by("id").first()
    AuditEntry.objects.filter(pk=first.pk).update(object_repr="改过的")
    _rechain()
    _verify()  # without the anchor the rewrite is invisible …
    with pytest.raises(CommandError) as exc:  # … with it, it is not
        call_command("audit", "verify", "--anchor", anchor, stdout=io.StringIO())
    assert "锚点" in str(exc.value)


def _rechain():
    migration = importlib.import_module("yingji.core.migrations.0004_audit_chain")

    class _Editor:
        connection = connection

    migration.chain_existing(apps, _Editor())


def test_the_migration_chains_entries_written_before_the_chain():
    _changes()
    AuditEntry.objects.update(prev_hash="", hash="")
    with pytest.raises(CommandError) as exc:
        _verify()
    assert "没有哈希" in str(exc.value)
    _rechain()
    assert "完整:共 10 条" in _verify()


def test_bulk_written_entries_are_chained_too():
    depts = _changes(2)
    entries = [
        AuditEntry(
            content_type_id=AuditEntry.objects.first().content_type_id,
            object_pk=str(d.pk),
            object_repr=d.name,
            action="create",
            actor_label="批量",
            at=timezone.now(),
            before=None,
            after={"n": i, "ratio": 2.0},
            changed_fields=[],
        )
        for i, d in enumerate(depts * 300)
    ]
    audit.write(entries)
    assert "完整:共 604 条" in _verify()


def test_purge_keeps_the_retention_period_and_a_verifiable_chain(settings):
    _changes()
    ids = list(AuditEntry.objects.order_by("id").values_list("id", flat=True))
    old = timezone.now() - dt.timedelta(days=200)
    AuditEntry.objects.filter(pk__in=ids[:6]).update(at=old)
    _rechain()  # the old times are what was recorded
    settings.YINGJI_AUDIT_RETENTION_DAYS = 180
    out = io.StringIO()
    call_command("audit", "purge", stdout=out)
    assert "已删除 6 条超过 180 天" in out.getvalue()
    assert list(AuditEntry.objects.order_by("id").values_list("id", flat=True)) == ids[6:]
    assert "承接已清理的记录" in _verify()


def test_purge_deletes_nothing_without_a_retention_period():
    _changes(1)
    AuditEntry.objects.update(at=timezone.now() - dt.timedelta(days=4000))
    out = io.StringIO()
    call_command("audit", "purge", stdout=out)
    assert "永久保留" in out.getvalue() and AuditEntry.objects.count() == 2


def _create_retrying(name: str) -> None:
    """One change in its own transaction. The test database on SQLite is in memory
    with a shared cache, whose table locks fail at once instead of waiting as a
    database file does (busy_timeout): try again then, within a deadline."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with transaction.atomic():
                Department.objects.create(name=name)
            return
        except OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_leave_one_unbroken_chain():
    errors = []

    def work(k: int) -> None:
        try:
            with audit.acting_as(None, f"线程{k}"):
                for i in range(15):
                    _create_retrying(f"并发{k}-{i}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert AuditEntry.objects.filter(object_repr__startswith="并发").count() == 60
    assert "完整" in _verify()
