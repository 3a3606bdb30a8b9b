"""Demo data: a device gateway's last few minutes on the integration page, through the real
path (ORU^R01 text → the listener's parser → ``store_messages``): accepted messages for a
console assigned to an active run, local codes mapped by the site, one accepted with an
unmapped code (W), one refused with reasons (AE), one that is not HL7 (AR) and a resend.

Only codes the simulator does not produce (CVP, PEEP, respiratory rate) are sent, so the
stored values never clash with the run's simulated console data."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core.people import PatientIdentity
from continuum.core.roles import SYSTEM, Actor
from continuum.core.run_record import Run
from continuum.ingest.device_message import DeviceMessage, MessageRefused
from continuum.ingest.device_service import store_messages
from continuum.ingest.hl7_message import read_oru_fast
from continuum.ingest.integration_service import assign_console, save_mapping
from continuum.ingest.mllp_client import oru
from continuum.ingest.schemas import AssignmentIn, MappingIn

DEMO_MRN = "MRN100245"  # day 1 on VV
CONSOLE = "CARDIOHELP-0807"
LOCAL = "99MAQUET"  # the gateway's local coding system
GATEWAY = ("ACME_Gateway^080019FFFE3ED02D^EUI-64", "ICU North")
PEER = "10.20.4.17:51322"
GATEWAY_ACTOR = Actor(staff_id=None, name="Device gateway", role="integration", client="demo")


def add_demo_data(db: Session, staff: dict[str, Actor], now: datetime) -> None:
    found = _demo_run(db)
    if found is None:
        return
    run_id, mrn = found
    admin = staff.get("admin", SYSTEM)
    gateway = staff.get("integration", GATEWAY_ACTOR)
    assign_console(db, admin, AssignmentIn(console_id=CONSOLE, run_id=run_id))
    for ident, code, note in [
        ("CVP", "cvp", "Cardiohelp pressure channel P-ven, wired to the CVP line"),
        ("PEEP", "peep", "ventilator PEEP via the gateway"),
    ]:
        save_mapping(db, admin, MappingIn(system=LOCAL, identifier=ident, code=code, note=note))
    db.flush()
    for received, msg in _messages(mrn, now):
        if isinstance(msg, bytes):
            message = _refused(msg, received)
        else:
            message = read_oru_fast(msg, received_at=received)
            message.peer = PEER
        store_messages(db, gateway, [message])


def _demo_run(db: Session) -> tuple[int, str] | None:
    """The demo run of DEMO_MRN if it is active, else the first active run with an MRN."""
    stmt = (
        select(Run.id, PatientIdentity.mrn)
        .join(PatientIdentity, PatientIdentity.patient_id == Run.patient_id)
        .where(Run.status != "ended")
        .order_by(PatientIdentity.mrn != DEMO_MRN, Run.id)
    )
    row = db.execute(stmt).first()
    return (int(row[0]), str(row[1])) if row else None


def _refused(data: bytes, received: datetime) -> DeviceMessage:
    try:
        return read_oru_fast(data, received_at=received)
    except MessageRefused as exc:
        return DeviceMessage.refused("hl7", exc, received, PEER)


def _messages(mrn: str, now: datetime) -> list[tuple[datetime, str | bytes]]:
    """(received at, ORU^R01 text or raw bytes), oldest first, all in the last 10 minutes."""
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=10)
    out: list[tuple[datetime, str | bytes]] = []

    def local(n: int, minute: int, values: list[tuple[str, float | str, str]]) -> None:
        at = start + timedelta(minutes=minute, seconds=30)
        text = oru(f"GW0807-{n:06d}", mrn, at, values, LOCAL, CONSOLE, GATEWAY)
        out.append((at + timedelta(seconds=1), text))

    for minute in range(8):
        local(1001 + minute, minute, [("CVP", 9 + minute % 3, "mm[Hg]"), ("PEEP", 10, "")])
    at = start + timedelta(minutes=3, seconds=45)  # the ventilator's rate, MDC-coded
    rate = [("MDC_RESP_RATE", 14, "{breath}/min")]
    out.append((at + timedelta(seconds=1), oru("GW0807-002001", mrn, at, rate, "MDC",
                                                CONSOLE, GATEWAY)))  # fmt: skip
    # an unmapped local code: stored what maps, the rest named (ERR severity W)
    local(1101, 8, [("CVP", 10, "mm[Hg]"), ("ICP", 12, "mm[Hg]")])
    # a value out of range refuses the message (AE); the unit that does not convert is
    # named as a warning beside it
    local(1102, 8, [("CVP", 9, "L/min"), ("PEEP", 95, "")])
    # not HL7 at all (a misdirected health check): AR
    out.append((start + timedelta(minutes=9), b"GET /health HTTP/1.1\r\nHost: ecmo-gw\r\n\r\n"))
    # the gateway, unsure of an ACK, resends the first message: AA again, stored once
    out.append((start + timedelta(minutes=9, seconds=20), out[0][1]))
    out.sort(key=lambda item: item[0])
    return out
