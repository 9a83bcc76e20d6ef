"""The MQTT ingest worker (`yingji ingest`).

Several workers split one stream through an MQTT 5 shared subscription
(``$share/<group>/yingji/v1/#``). Each worker keeps a persistent session
(clean_start = false, long session expiry, a stable client id) and acknowledges
a QoS 1 message only after the batch holding it is committed, so a worker or
broker restart loses no reading: the broker redelivers what was not acknowledged,
and the database stores a redelivered reading once (unique sensor + time).

A bad message never stops the worker: every payload is parsed inside the
per-message error handling, within the limits of size and JSON nesting depth
(payloads.Limits, from the settings); parse problems, and anything a parser did
not foresee, go to the dead-letter table with the reason, and the message is
acknowledged with its batch. If storing a batch fails, its messages are retried
one by one and the one that fails is dead-lettered with the error.

Several workers: Mosquitto's shared subscriptions deal messages round robin, so
one sensor's readings can reach different workers of one group; rules on a single
reading are exact, rolling sums, rates and durations would each see a part. Start
several workers as partitions instead (``--partition 0/2``, ``1/2``): each receives
every message in a group of its own and keeps its own sensors (partitions.py).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from django.db import OperationalError
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from yingji.monitoring import payloads, services
from yingji.monitoring.partitions import Partition

log = logging.getLogger(__name__)

SUBSCRIPTION = "yingji/v1/#"
SESSION_EXPIRY_S = 7 * 24 * 3600
RECEIVE_MAXIMUM = 2000
# A batch closes after `batch_wait`, or at this many payload bytes (about 8,000
# readings in the compact form): under a backlog, batches stay short enough that an
# alarm never waits behind a huge one.
BATCH_BYTES = 256_000
TRANSIENT_RETRIES = 6


@dataclass
class Message:
    topic: str
    payload: bytes
    mid: int
    qos: int


def shared_topic(group: str) -> str:
    return f"$share/{group}/{SUBSCRIPTION}"


class Worker:
    """One ingest worker. `run()` blocks until `stop()` (or `crash()` in tests)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        *,
        client_id: str,
        group: str = "yingji",
        batch_max: int = 2000,
        batch_bytes: int = BATCH_BYTES,
        batch_wait: float = 0.05,
        tick_every: float = 10.0,
        touch_every: float = 1.0,
        ingestor: services.Ingestor | None = None,
        partition: Partition | None = None,
        on_subscribed: Callable[[], None] | None = None,
    ):
        self.partition = partition or (ingestor.partition if ingestor else Partition())
        # Each partition is a shared-subscription group of its own: it receives every
        # message and keeps its sensors' readings (see partitions.py).
        self.host, self.port, self.client_id = host, port, client_id
        self.group = self.partition.group(group)
        self.batch_max, self.batch_bytes = batch_max, batch_bytes
        self.batch_wait, self.tick_every, self.touch_every = batch_wait, tick_every, touch_every
        # The sensors' latest time/value (a display cache) is written by a thread of
        # its own every `touch_every` seconds, off the path from reading to alarm.
        self.ingestor = ingestor or services.Ingestor(touch_interval=None, partition=self.partition)
        self.limits = services.limits()
        self.inbox: queue.Queue[Message] = queue.Queue()
        self.stats = services.IngestStats()
        self.messages = 0
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._crash = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.on_subscribed = on_subscribed
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=2)

    # paho callbacks (network thread)
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("MQTT 连接被拒绝:%s", reason_code)
            return
        client.subscribe(shared_topic(self.group), qos=1)
        self.connected.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        if self.on_subscribed and not any(rc.is_failure for rc in reason_codes):
            self.on_subscribed()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()

    def _on_message(self, client, userdata, msg) -> None:
        try:
            topic = msg.topic
        except UnicodeDecodeError:  # a broker should refuse it; never stop the network thread
            topic = msg._topic.decode("utf-8", "replace")  # noqa: SLF001
        self.inbox.put(Message(topic, msg.payload, msg.mid, msg.qos))

    def _connect(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        self.client.connect_async(
            self.host, self.port, keepalive=30, clean_start=False, properties=props
        )
        self.client.loop_start()

    def run(self) -> None:
        """Connect, then take batches until stopped."""
        from yingji.core import audit

        self._connect()
        last_tick = time.monotonic()
        flusher = threading.Thread(target=self._flush_loop, name="ingest-flush", daemon=True)
        flusher.start()
        try:
            with audit.acting_as(None, services.ACTOR):
                while not self._stop.is_set():
                    batch = self._take()
                    if self._crash.is_set():
                        return  # simulated crash: nothing acknowledged, no DISCONNECT
                    if batch:
                        self._handle(batch)
                    if time.monotonic() - last_tick >= self.tick_every:
                        last_tick = time.monotonic()
                        try:
                            self.ingestor.tick()
                        except Exception:  # periodic work must not kill ingest
                            log.exception("monitoring tick failed")
        finally:
            self._stop.set()  # also when an exception ends the loop: never hang on the flusher
            flusher.join()
            if self._crash.is_set():
                self._drop_connection()
            else:
                self._flush_latest()
                self.client.disconnect()
                self.client.loop_stop()
            from django.db import connection

            connection.close()

    def _take(self) -> list[Message]:
        try:
            first = self.inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        size = len(first.payload)
        deadline = time.monotonic() + self.batch_wait
        while len(batch) < self.batch_max and size < self.batch_bytes:
            try:
                m = self.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            batch.append(m)
            size += len(m.payload)
        return batch

    def _parse(self, m: Message) -> tuple[list[payloads.Record], list[payloads.Problem]]:
        """One message's records and problems; never raises (a parser bug or a
        payload nobody foresaw becomes a dead letter of its own)."""
        try:
            records, problems = payloads.parse_mqtt(m.topic, m.payload, self.limits)
        except Exception as exc:  # noqa: BLE001 (RecursionError, MemoryError, …)
            log.warning("message on %s could not be parsed: %r", m.topic, exc)
            records = []
            problems = [(f"报文无法解析:{type(exc).__name__}", payloads.fragment(m.payload))]
        if problems:
            if self.partition.owns_message(m.topic, m.payload):  # kept by one partition only
                problems = [(reason, f"[{m.topic}] {frag}") for reason, frag in problems]
            else:
                problems = []
        return records, problems

    def _handle(self, batch: list[Message]) -> None:
        # Acknowledged once stored or dead-lettered. An exception out of _store is
        # the database failing even for dead letters: nothing is acknowledged, the
        # worker stops and the broker redelivers the batch to the next one.
        self._store(batch)
        for m in batch:
            if m.qos > 0:
                self.client.ack(m.mid, m.qos)
        self.messages += len(batch)

    def _store(self, batch: list[Message]) -> None:
        parsed = [self._parse(m) for m in batch]
        records = [r for rs, _ in parsed for r in rs]
        problems = [p for _, ps in parsed for p in ps]
        topic = batch[0].topic if len(batch) == 1 else ""
        for attempt in range(TRANSIENT_RETRIES + 1):
            try:
                self.stats.add(self.ingestor.ingest(records, problems, source="mqtt", topic=topic))
                break
            except OperationalError:
                # A busy or locked database is transient: wait and retry the batch.
                if attempt == TRANSIENT_RETRIES:
                    log.exception("batch of %d messages failed; one by one", len(batch))
                    for m, p in zip(batch, parsed, strict=True):
                        self._handle_one(m, p)
                time.sleep(0.05 * 2**attempt)
            except Exception:
                log.exception("batch of %d messages failed; retrying one by one", len(batch))
                for m, p in zip(batch, parsed, strict=True):
                    self._handle_one(m, p)
                break

    def _flush_loop(self) -> None:
        from django.db import connection

        try:
            while not self._stop.wait(self.touch_every):
                self._flush_latest()
        finally:
            connection.close()  # this thread's own connection

    def _flush_latest(self) -> None:
        try:
            self.ingestor.flush_latest()
        except Exception:  # a display cache: never stop ingest for it
            log.exception("writing sensors' latest readings failed")

    def _handle_one(
        self, m: Message, parsed: tuple[list[payloads.Record], list[payloads.Problem]]
    ) -> None:
        r, p = parsed
        try:
            self.stats.add(self.ingestor.ingest(r, p, source="mqtt", topic=m.topic))
        except Exception as exc:
            services.dead_letters(
                [(f"处理失败:{type(exc).__name__}: {exc}"[:300], payloads.fragment(m.payload))],
                "mqtt",
                m.topic,
            )
            self.ingestor.reload()

    def stop(self) -> None:
        self._stop.set()

    def crash(self) -> None:
        """Stop as a killed process would: unacknowledged messages stay with the broker."""
        self._crash.set()
        self._stop.set()

    def _drop_connection(self) -> None:
        self.client.loop_stop()
        sock = self.client.socket()
        if sock is not None:
            sock.close()
