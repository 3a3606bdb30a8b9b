"""What a device's result status does after storage: a correction (OBX-11 C) of a pressure
re-derives the ΔP taken from it, a withdrawal (W) withdraws that ΔP with it, and a value
sent as preliminary (P) says so on the run page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from tests.seed import SECRET_MRNS

from continuum.core.models import Observation
from continuum.core.roles import CLI_ACTOR
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.ingest.device_service import store_messages
from continuum.ingest.hl7_message import read_oru_fast
from continuum.ingest.mllp_client import oru

AT = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


def send(sessions, control: str, status: str, *values: tuple[str, float, str]) -> str:  # type: ignore[no-untyped-def]
    text = oru(control, SECRET_MRNS[0], AT, list(values)).replace("|||||R|||", f"|||||{status}|||")
    with unit_of_work(sessions) as db:
        return store_messages(db, CLI_ACTOR, [read_oru_fast(text)])[0].ack


def delta_p(sessions) -> list[tuple[float, str]]:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        rows = db.execute(
            select(Observation.value, Observation.status)
            .where(Observation.code == "oxy_delta_p", Observation.time == AT)
            .order_by(Observation.id)
        ).all()
    return [(v, s) for v, s in rows]


def test_a_corrected_pressure_re_derives_the_delta_p(sessions) -> None:  # type: ignore[no-untyped-def]
    send(sessions, "DPC-1", "F", ("p_preoxy", 250, "mmHg"), ("p_postoxy", 210, "mmHg"))
    assert delta_p(sessions) == [(40.0, "final")]
    assert send(sessions, "DPC-2", "C", ("p_preoxy", 262, "mmHg")) == "AA"
    assert delta_p(sessions) == [(40.0, "superseded"), (52.0, "final")]


def test_a_withdrawn_pressure_takes_its_delta_p_with_it(sessions) -> None:  # type: ignore[no-untyped-def]
    send(sessions, "DPW-1", "F", ("p_preoxy", 250, "mmHg"), ("p_postoxy", 210, "mmHg"))
    send(sessions, "DPW-2", "W", ("p_postoxy", 210, "mmHg"))
    assert delta_p(sessions) == [(40.0, "entered_in_error")]


def test_a_preliminary_value_says_so_on_the_run_page(web) -> None:  # type: ignore[no-untyped-def]
    factory = make_sessionmaker(make_engine(web.url))
    send(factory, "PRE-1", "P", ("svo2", 71, "%"))
    web.login("perfusionist")
    page = web.client.get("/runs/1").text
    assert "preliminary (device status P)" in page
