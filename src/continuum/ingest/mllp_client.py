"""A small MLLP sender (blocking sockets) and an ORU^R01 builder: for the benchmarks, the
reliability test and for trying a listener by hand. Pure apart from the socket."""

from __future__ import annotations

import socket
from collections.abc import Iterable, Iterator
from datetime import datetime

START, END = b"\x0b", b"\x1c\x0d"
CIRCUIT_CODES = ("blood_flow", "pump_speed", "p_access", "p_preoxy", "p_postoxy", "sweep_flow")


def hl7_time(t: datetime) -> str:
    return t.strftime("%Y%m%d%H%M%S") + t.strftime("%z")


def oru(
    control_id: str,
    mrn: str,
    at: datetime,
    values: Iterable[tuple[str, float | str, str]],
    system: str = "CONTINUUM",
    console: str = "",
    sender: tuple[str, str] = ("GATEWAY", "ICU"),
) -> str:
    """An ORU^R01 with one OBX per (code, value, unit), from ``sender`` (MSH-3, MSH-4)."""
    stamp = hl7_time(at)
    app, facility = sender
    lines = [
        f"MSH|^~\\&|{app}|{facility}|CONTINUUM|ECMO|{stamp}||ORU^R01^ORU_R01|{control_id}"
        "|P|2.6|||AL|NE",
        f"PID|||{mrn}^^^HOSP^MR",
        f"OBR|1|||182777000^monitoring of patient^SCT|||{stamp}",
    ]
    for i, (code, value, unit) in enumerate(values, start=1):
        lines.append(
            f"OBX|{i}|NM|{code}^{code}^{system}|1.1.1.{i}|{value}|{unit}^{unit}^UCUM"
            f"|||||R|||{stamp}||||{console}"
        )
    return "\r".join(lines) + "\r"


def frame(message: str | bytes) -> bytes:
    data = message.encode("utf-8") if isinstance(message, str) else message
    return START + data + END


class MllpSender:
    """Send framed messages and read ACKs (lock-step or pipelined)."""

    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def send(self, message: str | bytes) -> None:
        self.sock.sendall(frame(message))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_ack(self) -> str:
        while END not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed before the ACK")
            self.buffer += chunk
        block, _, self.buffer = self.buffer.partition(END)
        return block[block.rfind(START) + 1 :].decode("utf-8", "replace")

    def exchange(self, message: str | bytes) -> str:
        self.send(message)
        return self.read_ack()

    def acks(self, count: int) -> Iterator[str]:
        for _ in range(count):
            yield self.read_ack()

    def close(self) -> None:
        self.sock.close()


def msh(ack_text: str) -> list[str]:
    """The MSH fields of an ACK, numbered as in HL7 (``msh(a)[5]`` is MSH-5)."""
    for seg in ack_text.split("\r"):
        if seg.startswith("MSH"):
            return ["MSH", "|", *seg.split("|")[1:]]
    return []


def msa(ack_text: str) -> tuple[str, str, str]:
    """(MSA-1 code, MSA-2 control id, MSA-3 text) of an ACK."""
    for seg in ack_text.split("\r"):
        if seg.startswith("MSA|"):
            parts = [*seg.split("|"), "", "", ""]
            return parts[1], parts[2], parts[3]
    return "", "", ""
