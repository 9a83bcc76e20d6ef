"""A worker killed between handing messages to a channel and recording the answer
leaves their result unknown; a channel that can be asked (the demo sink here; an
SMS gateway with a client reference in production) settles them: received →
delivered, never received → sent again, once."""

import datetime as dt
import json

from django.test import override_settings
from django.utils import timezone

from yingji.core import outbox
from yingji.core.models import Notification


def test_lost_results_are_settled_by_asking_the_channel(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    with override_settings(YINGJI_DEMO_CHANNELS=True):
        rows = [
            outbox.enqueue(
                channel="sms",
                address=f"1390000000{i}",
                subject="预警",
                body=f"第{i}条",
                dedupe_key=f"lookup-test:{i}",
            )
            for i in range(3)
        ]
        # The dead worker's batch: all three claimed an hour ago; the first one
        # reached the sink (flushed) before the crash, the others did not.
        sink = tmp_path / "demo-sink"
        sink.mkdir()
        (sink / "sms.jsonl").write_text(
            json.dumps({"key": rows[0].pk, "to": rows[0].address}) + "\n" + '{"key": ', "utf-8"
        )
        Notification.objects.filter(pk__in=[r.pk for r in rows]).update(
            status="sending", sent_at=timezone.now() - dt.timedelta(hours=1), attempts=1
        )
        assert outbox.recover_stale() == 0  # nothing left unknown
        outbox.flush()
    by_pk = {n.pk: n for n in Notification.objects.all()}
    assert by_pk[rows[0].pk].status == "delivered" and "核实" in by_pk[rows[0].pk].receipt
    assert all(by_pk[r.pk].status == "delivered" and by_pk[r.pk].attempts == 1 for r in rows[1:])
    keys = [json.loads(line)["key"] for line in (sink / "sms.jsonl").read_text().splitlines()[2:]]
    assert sorted(keys) == sorted(r.pk for r in rows[1:])  # sent once each, the first not again
