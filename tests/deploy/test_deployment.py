"""The multi-process deployment (`yingji deploy`: 2 web, 2 queue consumers, 2
ingest workers, haproxy, Mosquitto) runs the chain from readings to a delivered
warning and action cards while one process of each kind is killed (SIGKILL) once.

Real parts: the command as an operator starts it, the test's PostgreSQL database
(committed data: the children are other processes), Redis, the Guangzhou region
pack, departments, the demo sensor network, the shipped red rainstorm plan, the
demo channels (演示通道, recorded under the deployment's var/demo-sink/). Every
human step goes through the proxy over HTTP with a session cookie and the CSRF
token, as a browser would.

Asserted, as the bureau would notice it: every reading stored once although the
ingest worker owning the storm's street died mid-stream; one red event and its
draft; submit and approve by two people; every SMS delivered exactly once although
a queue consumer died while the warning went out — what it had in hand is settled
by the minute's sweep once stale: the rows it may have handed over are looked up
in the channel (the demo sink, as an SMS gateway's out-id query would be: received
→ delivered, never received → sent again), the rest of its batch is sent; the action cards' notices delivered once each; the proxy answering every page while a web process
is killed; state.json counting exactly one restart for each killed process.

Needs PostgreSQL and Redis: on SQLite it is skipped outside CI and deselected in
CI (tests/deploy/conftest.py), where the PostgreSQL pass is required and runs it.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from paho.mqtt.enums import CallbackAPIVersion

from yingji.alerts import services as alert_services
from yingji.alerts.models import Alert, Subscriber
from yingji.core import regions
from yingji.core.models import Notification, Region
from yingji.monitoring import demo as monitoring_demo
from yingji.monitoring import payloads, services
from yingji.monitoring.broker import free_port
from yingji.monitoring.models import Event, Reading, Sensor
from yingji.monitoring.partitions import Partition
from yingji.response import plans
from yingji.response.models import ActionCard, DeskItem, Incident

pytestmark = [pytest.mark.needs_pg_redis, pytest.mark.django_db(transaction=True)]

SHIPAI = "440106006"
MIN = 60_000
DEADLINE = 90.0  # generous: the machine may be busy
PASSWORD = "Deploy-e2e-Pass-2026"
PEOPLE = 200  # subscribers in 石牌街道
BATCH = 50  # DELIVERY_BATCH in the deployment: what a dead consumer can hold
PAGES = ["/", "/plans/", "/risk/", "/monitoring/", "/alerts/", "/response/", "/alerts/public/"]


def wait_for(predicate, what: str, timeout: float = DEADLINE):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for: {what}")


# ------------------------------------------------------------------- the deployment
class Deployment:
    def __init__(self, tmp: Path):
        self.dir = tmp / "deploy"
        self.var = tmp / "var"
        self.port = self._free_run(3)
        self.mqtt_port = free_port()
        db = connection.settings_dict
        url = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "yingji.settings",
            "DATABASE_URL": url,
            "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
            "HUEY_NAME": f"yingji-e2e-{uuid.uuid4().hex[:8]}",  # a queue of its own
            "YINGJI_DEMO": "1",
            "YINGJI_DEMO_CHANNELS": "1",
            "YINGJI_VAR_DIR": str(self.var),
            "SECRET_KEY": settings.SECRET_KEY,
            "DELIVERY_BATCH": str(BATCH),
            # A batch of 50 demo messages takes well under a second: one claimed
            # 15 s ago and not done was left by a worker that died.
            "DELIVERY_STALE_SECONDS": "15",
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2] / "src"), *sys.path]),
        }
        self.proc: subprocess.Popen | None = None

    @staticmethod
    def _free_run(n: int) -> int:
        """A port with the n-1 after it free too (the proxy, then the web processes)."""
        for _ in range(200):
            base = free_port()
            if base + n >= 65535:
                continue
            ok = True
            for p in range(base, base + n):
                with socket.socket() as s:
                    try:
                        s.bind(("127.0.0.1", p))
                    except OSError:
                        ok = False
                        break
            if ok:
                return base
        raise RuntimeError("no run of free ports")

    def start(self) -> None:
        self.out = open(self.dir.parent / "deploy.out", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "yingji.cli", "deploy", "--web", "2", "--queue", "2"]
            + ["--ingest", "2", "--port", str(self.port), "--mqtt-port", str(self.mqtt_port)]
            + ["--web-workers", "1", "--web-threads", "4", "--dir", str(self.dir)],
            env=self.env,
            stdout=self.out,
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: self.ready() or self._died(), "the deployment ready", timeout=120)
        assert self.proc.poll() is None, self.output()

    def _died(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"yingji deploy exited: {self.output()}")
        return False

    def output(self) -> str:
        return (self.dir.parent / "deploy.out").read_text(errors="replace")

    def state(self) -> dict:
        try:
            return json.loads((self.dir / "state.json").read_text())
        except (OSError, ValueError):
            return {}

    def ready(self) -> bool:
        return bool(self.state().get("ready"))

    def child(self, name: str) -> dict:
        return next(p for p in self.state()["processes"] if p["name"] == name)

    def kill(self, name: str) -> None:
        """SIGKILL one child, and wait until the supervisor has started it again."""
        pid = self.child(name)["pid"]
        os.kill(pid, signal.SIGKILL)
        wait_for(
            lambda: (c := self.child(name))["restarts"] == 1 and c["ready"] and c["pid"] != pid,
            f"{name} restarted by the supervisor",
        )

    def log(self, name: str) -> str:
        return (self.dir / "logs" / f"{name}.log").read_text(errors="replace")

    def stop(self) -> float:
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        began = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        return time.monotonic() - began

    def sink(self, channel: str) -> list[dict]:
        path = self.var / "demo-sink" / f"{channel}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Browser:
    """A person at a browser: cookies, the CSRF token, forms posted through the proxy."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def post(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode({**(data or {}), "csrfmiddlewaretoken": self.csrf()})
        req = urllib.request.Request(self.base + path, data=body.encode(), method="POST")
        req.add_header("X-CSRFToken", self.csrf())
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def login(self, username: str) -> Browser:
        self.get("/accounts/login/")
        self.post("/accounts/login/", {"username": username, "password": PASSWORD})
        status, page = self.get("/")
        assert status == 200 and 'name="password"' not in page, f"{username} could not log in"
        return self


# ------------------------------------------------------------------------- the world
@pytest.fixture
def guangzhou(settings):
    settings.YINGJI_DEMO_CHANNELS = True
    call_command("regions", "load", "guangzhou", verbosity=0)
    regions.invalidate_index()
    call_command("departments", "load", verbosity=0)
    call_command("departments", "street-offices", verbosity=0)
    call_command("demo_users", verbosity=0)
    monitoring_demo.load_demo()
    plan, _ = plans.load_red_rainstorm()
    # The web processes check passwords with the production hasher (the test
    # settings' fast MD5 one is not theirs): a PBKDF2 hash they accept.
    hashed = PBKDF2PasswordHasher().encode(PASSWORD, "e2esalt0123456789", iterations=1000)
    User.objects.filter(username__in=["duty", "leader"]).update(password=hashed)
    shipai = Region.objects.get(code=SHIPAI)
    for i in range(PEOPLE):
        Subscriber.objects.create(
            external_id=f"deploy-{i}",
            name=f"订阅人{i}",
            phone=f"86139{i:08d}",
            channels=["sms"],
            last_lon=shipai.centroid_lon + (i % 7 - 3) * 0.0003,
            last_lat=shipai.centroid_lat + (i % 5 - 2) * 0.0003,
        )
    assert Subscriber.objects.filter(located_region=SHIPAI).count() == PEOPLE
    yield plan
    regions.invalidate_index()


@pytest.fixture
def deployment(tmp_path, guangzhou):
    d = Deployment(tmp_path)
    try:
        d.start()
        yield d
    finally:
        took = d.stop()
        print(f"yingji deploy stopped in {took:.1f} s")
        print(d.output()[-3000:])
    # SIGTERM stops every child, the broker last, within a few seconds.
    assert took < 15, f"stopping the deployment took {took:.1f} s"
    assert not [p for p in d.state().get("processes", []) if p["alive"]]


def _readings(now_ms: int) -> list[tuple[str, bytes, str, int]]:
    """(topic, payload, sensor code, ts) — low readings across the city's streets,
    then the storm over 石牌: 125 mm in 50 minutes (1 h sum red)."""
    quiet = list(
        Sensor.objects.filter(type__in=["rain", "waterlogging"])
        .exclude(street__code=SHIPAI)
        .order_by("code")
        .values_list("code", "type")[:80]
    )
    out = [
        (
            payloads.READINGS_TOPIC + code,
            payloads.encode_reading(now_ms - MIN, 0.1),
            code,
            now_ms - MIN,
        )
        for code, _ in quiet
    ]
    gauge = f"RG-{SHIPAI}"
    for m in (50, 40, 30, 20, 10):
        ts = now_ms - m * MIN
        out.append((payloads.READINGS_TOPIC + gauge, payloads.encode_reading(ts, 25.0), gauge, ts))
    return out


def _publisher(port: int):
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def _stored(codes_ts: set[tuple[str, int]]) -> int:
    codes = {c for c, _ in codes_ts}
    rows = Reading.objects.filter(sensor__code__in=codes).values_list("sensor__code", "ts_ms")
    return sum(1 for r in rows if r in codes_ts)


def test_the_chain_through_the_deployment_with_one_process_of_each_kind_killed(deployment):
    d = deployment
    proxy = f"http://127.0.0.1:{d.port}"

    # ---- readings in; the ingest worker owning 石牌 dies mid-stream ---------------
    owner = next(i for i in range(2) if Partition(i, 2).owns(SHIPAI))
    readings = _readings(services.now_ms())
    expected = {(code, ts) for _, _, code, ts in readings}
    assert len(expected) == len(readings)
    pub = _publisher(d.mqtt_port)
    infos = []

    def stream():
        for topic, body, _, _ in readings:
            infos.append(pub.publish(topic, body, qos=1))
            time.sleep(0.02)

    streamer = threading.Thread(target=stream)
    streamer.start()
    wait_for(lambda: _stored(expected) >= 20, "the first readings stored")
    d.kill(f"ingest-{owner}")
    streamer.join()
    for info in infos:
        info.wait_for_publish(timeout=DEADLINE)
    pub.loop_stop()
    pub.disconnect()
    try:
        wait_for(lambda: _stored(expected) == len(expected), f"all {len(expected)} readings stored")
    except AssertionError:
        logs = "\n".join(d.log(f"ingest-{i}")[-1500:] for i in range(2))
        raise AssertionError(
            f"stored {_stored(expected)} of {len(expected)}; ingest logs:\n{logs}"
        ) from None
    gauge = Reading.objects.filter(sensor__code=f"RG-{SHIPAI}", ts_ms__in=[t for _, t in expected])
    assert gauge.count() == 5  # each once, though some were handed to a worker that died
    event = wait_for(lambda: Event.objects.filter(level="red").first(), "a red monitoring event")
    draft = wait_for(
        lambda: Alert.objects.filter(monitoring_event=event.pk).first(), "the warning draft"
    )
    assert Alert.objects.count() == 1 and draft.state == "draft"

    # ---- four eyes over HTTP; a queue consumer dies while the warning goes out -----
    duty = Browser(proxy).login("duty")
    status, _ = duty.post(f"/alerts/{draft.pk}/submit/")
    assert status == 200, status
    draft.refresh_from_db()
    assert draft.state == "review"
    status, page = duty.post(f"/alerts/{draft.pk}/approve/")
    assert status == 403  # whoever submitted may not approve
    leader = Browser(proxy).login("leader")
    seen = {n: len(d.log(n)) for n in ("queue-0", "queue-1")}
    status, _ = leader.post(f"/alerts/{draft.pk}/approve/")
    assert status == 200, status
    draft.refresh_from_db()
    assert draft.state == "published" and draft.approver.username == "leader"

    def sending_consumer() -> str | None:
        return next((n for n in seen if "send_source" in d.log(n)[seen[n] :]), None)

    # Kill the consumer that took the warning's job, as soon as it has it.
    victim = wait_for(sending_consumer, "a queue consumer taking the warning's job", timeout=30)
    delivered_at_kill = alert_services.warning_rows(draft).filter(status="delivered").count()
    d.kill(victim)

    # ---- the duty desk: register the incident, activate the plan (cards) ---------
    item = wait_for(lambda: DeskItem.objects.filter(source="event").first(), "a desk item")
    status, _ = duty.post(f"/response/desk/{item.pk}/accept/")
    assert status == 200, status
    incident = wait_for(lambda: Incident.objects.first(), "the incident registered")
    _, page = duty.get(f"/response/incidents/{incident.pk}/")
    proposal = re.search(
        r'name="plan" value="(\d+)"><input type="hidden" name="level" value="(\w+)"', page
    )
    assert proposal, "the incident page proposes the red rainstorm plan"
    status, _ = duty.post(
        f"/response/incidents/{incident.pk}/activate/",
        {"plan": proposal.group(1), "level": proposal.group(2)},
    )
    assert status == 200, status
    activation = incident.activations.get()
    cards = list(ActionCard.objects.filter(activation=activation))
    assert cards, "the activation issued action cards"

    # ---- a web process dies while pages are being requested ----------------------
    answers: list[int] = []
    stop = threading.Event()

    def reader():
        b = Browser(proxy)
        b.jar = leader.jar
        b.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(leader.jar))
        while not stop.is_set():
            for path in PAGES:
                answers.append(b.get(path)[0])

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for t in readers:
        t.start()
    wait_for(lambda: len(answers) >= 6, "pages answering through the proxy")
    d.kill("web-0")
    before = len(answers)
    wait_for(lambda: len(answers) >= before + 14, "pages answering after the kill")
    stop.set()
    for t in readers:
        t.join(60)
    assert set(answers) == {200}, Counter(answers)
    for path in PAGES:
        assert leader.get(path)[0] == 200, path

    # ---- deliveries: each message once -------------------------------------------
    rows = alert_services.warning_rows(draft).filter(channel="sms")
    assert rows.count() == PEOPLE

    def settled():
        # What the dead consumer held is found by the minute's sweep once stale
        # (DELIVERY_STALE_SECONDS): the row it may have handed to the channel is
        # looked up there (outbox._ask_channels), the rest it never sent are sent
        # then, as is anything it had not claimed.
        return not rows.filter(status__in=["queued", "sending"]).exists() and not (
            Notification.objects.filter(
                source_id__in=[c.pk for c in cards], status__in=["queued", "sending"]
            ).exists()
        )

    wait_for(settled, "every SMS and card notice sent", 150)
    unknown = list(rows.filter(status="failed").values_list("pk", "last_error"))
    assert unknown == [], unknown  # the demo channel can be asked: nothing left unknown
    delivered = set(rows.filter(status="delivered").values_list("pk", flat=True))
    assert len(delivered) == PEOPLE
    keys = Counter(m["key"] for m in d.sink("sms"))
    assert not [k for k, n in keys.items() if n > 1], "an SMS was sent twice"
    assert all(keys[pk] == 1 for pk in delivered), "an SMS recorded delivered was not sent"
    to = Counter(m["to"] for m in d.sink("sms") if m["key"] in delivered)
    assert len(to) == len(delivered) and max(to.values()) == 1, "someone got it twice"
    card_rows = Notification.objects.filter(source_id__in=[c.pk for c in cards]).exclude(
        status="cancelled"
    )
    card_rows = [r for r in card_rows if r.source_type.model == "actioncard"]
    assert card_rows and all(r.status == "delivered" for r in card_rows), Counter(
        r.status for r in card_rows
    )
    every = Counter(m["key"] for ch in ("sms", "email", "webhook") for m in d.sink(ch))
    assert all(every[r.pk] == 1 for r in card_rows), "a card notice was not sent exactly once"

    # ---- one restart for each killed process, none for the others ----------------
    restarts = {p["name"]: p["restarts"] for p in d.state()["processes"]}
    killed = {f"ingest-{owner}", victim, "web-0"}
    assert {n for n, r in restarts.items() if r} == killed and all(
        restarts[n] == 1 for n in killed
    ), restarts
    print(
        f"readings {len(expected)}, SMS {PEOPLE} (delivered at the kill: {delivered_at_kill}, "
        f"result unknown: {len(unknown)}, of which in the sink: {sum(keys[pk] for pk, _ in unknown)}), cards {len(card_rows)}, pages {len(answers)}"
    )
