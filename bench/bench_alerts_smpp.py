"""SMS over SMPP 3.4 to a local SMSC (tests/alerts/smsc.py, in its own process):
the alerts SmppChannel with a window of outstanding submit_sm against the same
channel one-at-a-time (window 1), receipts requested in both. Throughput is
messages acknowledged by the SMSC (submit_sm_resp) per second.

QUICK=1: 5,000 windowed / 500 one-at-a-time messages (full: 20,000 / 2,000).
Last line: one JSON object; figure = windowed messages/s, baseline = one-at-a-time.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from _common import quick, report  # noqa: E402

from yingji.core import channels  # noqa: E402

QUICK = quick()
WINDOWED = 5_000 if QUICK else 20_000
SINGLE = 500 if QUICK else 2_000
WINDOW = int(os.environ.get("BENCH_SMPP_WINDOW", "100"))


def _smsc(port_queue, stop) -> None:
    from tests.alerts.smsc import Smsc

    server = Smsc(receipts=True).start()
    port_queue.put(server.port)
    stop.wait()
    server.stop()
    port_queue.put((server.submits, len(server.messages)))


def run(port: int, n: int, window: int) -> tuple[float, int]:
    sms = channels.SmppChannel(
        "127.0.0.1", port, system_id="yingji", password="secret", window=window, receipt_wait=0.0
    )
    messages = [
        channels.Outgoing(i, f"8613{i:09d}", "t", "广州市应急管理局发布暴雨红色预警,请注意防范。")
        for i in range(n)
    ]
    started = time.perf_counter()
    sent = len({r.key for r in sms.send_batch(messages) if r.outcome == "sent"})
    return time.perf_counter() - started, sent


def main() -> None:
    ctx = mp.get_context("spawn")
    ports, stop = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_smsc, args=(ports, stop), daemon=True)
    proc.start()
    try:
        port = ports.get(timeout=30)
        run(port, 200, WINDOW)  # warm up both ends
        w_s, w_sent = run(port, WINDOWED, WINDOW)
        s_s, s_sent = run(port, SINGLE, 1)
    finally:
        stop.set()
        received = ports.get(timeout=30)
        proc.join(10)
    windowed, single = w_sent / w_s, s_sent / s_s
    print(
        f"windowed (window {WINDOW}): {w_sent:,} in {w_s:.2f} s = {windowed:,.0f}/s; "
        f"one-at-a-time: {s_sent:,} in {s_s:.2f} s = {single:,.0f}/s; "
        f"ratio {windowed / single:.1f}x",
        file=sys.stderr,
    )
    assert w_sent >= WINDOWED and s_sent >= SINGLE, "messages lost"
    # The SMSC's own count: every submit_sm arrived once (200 warm-up messages too).
    assert received == (200 + WINDOWED + SINGLE,) * 2, received
    print(f"SMSC received {received[0]:,} submit_sm, {received[1]:,} messages", file=sys.stderr)
    report(
        "alerts_smpp_windowed",
        round(windowed),
        unit="messages/s",
        target=">= 2000 messages/s",
        baseline="smpp_one_at_a_time",
        ratio=round(windowed / single, 2),
    )


if __name__ == "__main__":
    main()
