"""A ΔP derived from two pressures follows their correction or withdrawal: re-derived,
or withdrawn with them — never left standing on a pressure that no longer holds. A ΔP the
device measured itself is left alone. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from continuum.core import observation_service
from continuum.core.clinical_event import ClinicalEvent
from continuum.core.models import Observation, ObservationAmendment, Run
from continuum.core.roles import Actor
from continuum.core.schemas import AmendmentIn, ObservationIn
from continuum.db import unit_of_work
from tests.seed import RUN_START

PERFUSIONIST = Actor(
    staff_id=1, name="Test perfusionist", role="perfusionist", discipline="perfusion"
)
AT = RUN_START + timedelta(minutes=95)


def store(sessions, values: dict[str, float], source: str = "manual") -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        items = [ObservationIn(code=c, value=v, time=AT, source=source) for c, v in values.items()]
        observation_service.record_observations(db, PERFUSIONIST, db.get_one(Run, 1), items)


def rows(db, code: str) -> list[tuple[float, str]]:  # type: ignore[no-untyped-def]
    found = db.execute(
        select(Observation.value, Observation.status)
        .where(Observation.code == code, Observation.time == AT)
        .order_by(Observation.id)
    ).all()
    return [(v, s) for v, s in found]


def pressure_id(db, code: str) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(
        select(Observation.id).where(
            Observation.code == code, Observation.time == AT, Observation.status == "final"
        )
    )


def test_correcting_a_pressure_re_derives_its_delta_p(sessions) -> None:  # type: ignore[no-untyped-def]
    store(sessions, {"p_preoxy": 200, "p_postoxy": 170})
    with unit_of_work(sessions) as db:
        assert rows(db, "oxy_delta_p") == [(30.0, "final")]
        observation_service.amend(
            db, PERFUSIONIST, pressure_id(db, "p_preoxy"),
            AmendmentIn(value=215, reason="transducer re-zeroed"),
        )  # fmt: skip
    with unit_of_work(sessions) as db:
        assert rows(db, "oxy_delta_p") == [(30.0, "superseded"), (45.0, "final")]
        reasons = db.scalars(select(ObservationAmendment.reason)).all()
        assert any("re-derived from" in r and "215" in r for r in reasons)
        texts = db.scalars(
            select(ClinicalEvent.summary).where(ClinicalEvent.kind == "observation.amended")
        ).all()
        assert len(texts) == 2  # the pressure and its ΔP, each on the timeline


def test_withdrawing_a_pressure_withdraws_its_delta_p(sessions) -> None:  # type: ignore[no-untyped-def]
    store(sessions, {"p_preoxy": 200, "p_postoxy": 170}, source="hl7")
    with unit_of_work(sessions) as db:
        observation_service.amend_from_device(
            db, PERFUSIONIST, db.get_one(Run, 1), "p_postoxy", AT, "hl7", None,
            "withdrawn (result status W)",
        )  # fmt: skip
    with unit_of_work(sessions) as db:
        assert rows(db, "p_postoxy") == [(170.0, "entered_in_error")]
        assert rows(db, "oxy_delta_p") == [(30.0, "entered_in_error")]
        assert rows(db, "p_preoxy") == [(200.0, "final")]


def test_a_measured_delta_p_is_left_alone(sessions) -> None:  # type: ignore[no-untyped-def]
    store(sessions, {"p_preoxy": 200, "p_postoxy": 170, "oxy_delta_p": 26})
    with unit_of_work(sessions) as db:
        observation_service.amend(
            db, PERFUSIONIST, pressure_id(db, "p_preoxy"),
            AmendmentIn(value=215, reason="transducer re-zeroed"),
        )  # fmt: skip
    with unit_of_work(sessions) as db:
        assert rows(db, "oxy_delta_p") == [(26.0, "final")]


def test_an_implausible_new_difference_withdraws_the_delta_p(sessions) -> None:  # type: ignore[no-untyped-def]
    store(sessions, {"p_preoxy": 200, "p_postoxy": 170})
    with unit_of_work(sessions) as db:
        observation_service.amend(
            db, PERFUSIONIST, pressure_id(db, "p_postoxy"),
            AmendmentIn(value=300, reason="wrong line read"),
        )  # fmt: skip
    with unit_of_work(sessions) as db:
        assert rows(db, "oxy_delta_p") == [(30.0, "entered_in_error")]
        reasons = db.scalars(select(ObservationAmendment.reason)).all()
        assert any("implausible" in r for r in reasons)
