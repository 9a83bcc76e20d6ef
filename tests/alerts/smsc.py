"""A small SMPP 3.4 SMSC for tests and benchmarks (asyncio, real sockets).

It answers bind_transmitter/receiver/transceiver (checking the password),
submit_sm (with a message id, or an error status for destinations listed in
`reject`), enquire_link and unbind, answers unknown commands with generic_nack,
and, when the client asks for it (registered_delivery), sends a deliver_sm
delivery receipt: stat DELIVRD, or UNDELIV for destinations in `undeliverable`.
Concatenated (UDH) messages are reassembled; `messages` holds what handsets got.
"""

from __future__ import annotations

import asyncio
import itertools
import struct
import threading
from dataclasses import dataclass, field

BIND = {0x00000001: 0x80000001, 0x00000002: 0x80000002, 0x00000009: 0x80000009}
SUBMIT_SM, SUBMIT_SM_RESP = 0x00000004, 0x80000004
DELIVER_SM, DELIVER_SM_RESP = 0x00000005, 0x80000005
UNBIND, UNBIND_RESP = 0x00000006, 0x80000006
ENQUIRE_LINK, ENQUIRE_LINK_RESP = 0x00000015, 0x80000015
GENERIC_NACK = 0x80000000
ESME_ROK, ESME_RINVDSTADR, ESME_RBINDFAIL, ESME_RINVPASWD = 0, 0x0B, 0x0D, 0x0E


def _cstr(data: bytes, pos: int) -> tuple[bytes, int]:
    end = data.index(b"\0", pos)
    return data[pos:end], end + 1


@dataclass
class Submitted:
    destination: str
    text: str
    message_id: str


@dataclass
class Smsc:
    """Start with `start()` (returns self; `.port`), stop with `stop()`."""

    system_id: str = "yingji"
    password: str = "secret"
    reject: set[str] = field(default_factory=set)
    undeliverable: set[str] = field(default_factory=set)
    receipts: bool = True
    late_receipts: bool = False  # hold receipts for the next session that binds
    messages: list[Submitted] = field(default_factory=list)
    submits: int = 0
    binds: int = 0
    port: int = 0

    def start(self) -> Smsc:
        self._ids = itertools.count(1)
        self._parts: dict[tuple[str, int], dict[int, bytes]] = {}
        self._held: list[bytes] = []
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(10)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        # A given port: the SMS centre "comes back" where the platform expects it.
        server = await asyncio.start_server(
            self._session, "127.0.0.1", self.port or 0, reuse_address=True
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stopping.wait()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sequence = itertools.count(1)

        def send(command: int, status: int, seq: int, body: bytes = b"") -> None:
            writer.write(struct.pack(">IIII", 16 + len(body), command, status, seq) + body)

        try:
            while True:
                header = await reader.readexactly(16)
                length, command, _status, seq = struct.unpack(">IIII", header)
                body = await reader.readexactly(length - 16)
                if command in BIND:
                    system_id, pos = _cstr(body, 0)
                    password, _ = _cstr(body, pos)
                    if system_id.decode() != self.system_id:
                        send(BIND[command], ESME_RBINDFAIL, seq, b"\0")
                    elif password.decode() != self.password:
                        send(BIND[command], ESME_RINVPASWD, seq, b"\0")
                    else:
                        self.binds += 1
                        send(BIND[command], ESME_ROK, seq, b"smsc\0")
                        if command != 0x00000002:  # not a transmitter: hand over held receipts
                            held, self._held = self._held, []
                            for body_ in held:
                                send(DELIVER_SM, ESME_ROK, 0x40000000 + next(sequence), body_)
                elif command == SUBMIT_SM:
                    self.submits += 1
                    receipt = self._submit(body, seq, send)
                    if receipt is not None and self.late_receipts:
                        self._held.append(receipt)
                    elif receipt is not None:
                        send(DELIVER_SM, ESME_ROK, 0x40000000 + next(sequence), receipt)
                elif command == ENQUIRE_LINK:
                    send(ENQUIRE_LINK_RESP, ESME_ROK, seq)
                elif command == UNBIND:
                    send(UNBIND_RESP, ESME_ROK, seq)
                    await writer.drain()
                    break
                elif command in (DELIVER_SM_RESP, ENQUIRE_LINK_RESP):
                    pass
                else:
                    send(GENERIC_NACK, 0x03, seq)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _submit(self, body: bytes, seq: int, send) -> bytes | None:
        _service, pos = _cstr(body, 0)
        pos += 2
        source, pos = _cstr(body, pos)
        pos += 2
        dest, pos = _cstr(body, pos)
        esm_class = body[pos]
        pos += 3
        _sched, pos = _cstr(body, pos)
        _validity, pos = _cstr(body, pos)
        registered, coding = body[pos], body[pos + 2]
        sm_length = body[pos + 4]
        short = body[pos + 5 : pos + 5 + sm_length]
        destination = dest.decode()
        if destination in self.reject:
            send(SUBMIT_SM_RESP, ESME_RINVDSTADR, seq, b"\0")
            return None
        message_id = f"M{next(self._ids):08d}"
        send(SUBMIT_SM_RESP, ESME_ROK, seq, message_id.encode() + b"\0")
        self._collect(destination, esm_class, coding, short, message_id)
        if not (registered & 0x01 and self.receipts):
            return None
        stat = "UNDELIV" if destination in self.undeliverable else "DELIVRD"
        err = "001" if stat == "UNDELIV" else "000"
        text = (
            f"id:{message_id} sub:001 dlvrd:{'000' if err != '000' else '001'} "
            f"submit date:2606101430 done date:2606101430 stat:{stat} err:{err} text:"
        )
        return (
            b"\0"
            + b"\0\0"
            + dest
            + b"\0"
            + b"\0\0"
            + source
            + b"\0"
            + bytes([0x04, 0, 0])
            + b"\0"
            + b"\0"
            + bytes([0, 0, 0, 0])
            + bytes([len(text)])
            + text.encode()
        )

    def _collect(
        self, destination: str, esm_class: int, coding: int, short: bytes, message_id: str
    ) -> None:
        def decode(data: bytes) -> str:
            return data.decode("utf-16-be") if coding == 8 else data.decode("latin-1")

        if not esm_class & 0x40:
            self.messages.append(Submitted(destination, decode(short), message_id))
            return
        udh_len = short[0]
        udh, payload = short[1 : 1 + udh_len], short[1 + udh_len :]
        ref, total, number = udh[2], udh[3], udh[4]  # IE 0x00: 8-bit reference
        parts = self._parts.setdefault((destination, ref), {})
        parts[number] = payload
        if len(parts) == total:
            del self._parts[(destination, ref)]
            text = decode(b"".join(parts[i] for i in range(1, total + 1)))
            self.messages.append(Submitted(destination, text, message_id))
