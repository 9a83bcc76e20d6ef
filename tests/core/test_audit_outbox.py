import socket
import time

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth.models import User

from yingji.core import audit, outbox
from yingji.core.models import AuditEntry, Department, Notification


@pytest.mark.django_db
def test_every_change_is_audited_with_actor_before_and_after():
    user = User.objects.create_user("auditor")
    with audit.acting_as(user):
        dept = Department.objects.create(name="综合处")
        dept.email = "zonghe@example.org"
        dept.save()
        dept.delete()
    entries = list(AuditEntry.objects.filter(object_repr="综合处").order_by("id"))
    assert [e.action for e in entries] == ["create", "update", "delete"]
    update = entries[1]
    assert update.actor == user and update.actor_label == "auditor"
    assert update.changed_fields == ["email"]
    assert update.before["email"] == "" and update.after["email"] == "zonghe@example.org"


@pytest.mark.django_db
def test_saving_without_a_change_writes_no_entry():
    dept = Department.objects.create(name="法规处")
    dept.save()
    assert AuditEntry.objects.filter(object_repr="法规处").count() == 1


class _Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    sink = _Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield sink
    controller.stop()


@pytest.mark.django_db(transaction=True)
def test_outbox_delivers_over_smtp_once(smtp_server):
    note = outbox.enqueue(
        address="duty@example.org", subject="督办通知", body="请于3个工作日内回复", dedupe_key="t1"
    )
    again = outbox.enqueue(
        address="duty@example.org", subject="督办通知", body="x", dedupe_key="t1"
    )
    assert again.pk == note.pk
    deadline = time.time() + 5
    while not smtp_server.messages and time.time() < deadline:
        time.sleep(0.05)
    note.refresh_from_db()
    assert note.status == Notification.Status.SENT
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0].rcpt_tos == ["duty@example.org"]
    assert (
        "督办通知".encode() in smtp_server.messages[0].content
        or b"=?utf-8?" in smtp_server.messages[0].content
    )
    assert outbox.send([note.pk]) == 0  # delivering again sends nothing
    assert len(smtp_server.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_unreachable_smtp_keeps_the_message_queued_with_the_error(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()
    settings.EMAIL_TIMEOUT = 2
    note = Notification.objects.create(
        address="a@example.org", subject="s", body="b", dedupe_key="t2"
    )
    outbox.send([note.pk])
    result = Notification.objects.get(pk=note.pk)
    assert result.status == Notification.Status.QUEUED and result.next_attempt_at
    assert (
        "邮件服务器连接被拒绝" in result.last_error
        and "ConnectionRefusedError" in result.last_error
    )
    assert result.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_held_notifications_are_queued_but_not_sent(smtp_server):
    with outbox.held():
        note = outbox.enqueue(address="h@example.org", subject="历史", body="b", dedupe_key="h1")
    time.sleep(0.2)
    note.refresh_from_db()
    assert note.status == Notification.Status.QUEUED and not smtp_server.messages


@pytest.mark.django_db(transaction=True)
def test_a_batch_is_delivered_by_one_job_after_commit(smtp_server, monkeypatch):
    from yingji.core import tasks

    jobs = []
    original = tasks.send_deliveries
    monkeypatch.setattr(
        tasks, "send_deliveries", lambda pks: jobs.append(list(pks)) or original(pks)
    )
    with outbox.batch():
        for i in range(3):
            outbox.enqueue(
                address=f"d{i}@example.org", subject="行动卡", body="b", dedupe_key=f"b{i}"
            )
    assert len(jobs) == 1 and len(jobs[0]) == 3
    assert Notification.objects.filter(status=Notification.Status.SENT).count() == 3
    deadline = time.time() + 5
    while len(smtp_server.messages) < 3 and time.time() < deadline:
        time.sleep(0.05)
    assert len(smtp_server.messages) == 3


def test_audit_tables_show_field_names_and_people_by_name(db):
    from django.contrib.auth.models import User
    from django.template import Context, Template

    from yingji.core import audit
    from yingji.core.models import Profile, Role

    user = User.objects.create_user("zhang", password="pw-123456")
    Profile.objects.create(user=user, role=Role.ADMIN, full_name="张三")
    with audit.acting_as(user):
        dept = Department.objects.create(name="测试处")
        dept.email = "t@example.org"
        dept.save()
    html = Template("{% include 'core/_audit_table.html' %}").render(
        Context({"entries": audit.history(dept)})
    )
    assert "张三" in html and "zhang" not in html
    assert Department._meta.get_field("email").verbose_name in html and "<code>email" not in html
