"""HL7 v2 ORU^R01 into runs (docs/contracts.md §2b), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.ingest.helpers import add_ihe_runs, add_run, count, example, log_rows, values
from tests.seed import SECRET_MRNS

from continuum.core.roles import CLI_ACTOR, Actor
from continuum.db import unit_of_work
from continuum.ingest.device_message import DeviceMessage, MessageRefused
from continuum.ingest.device_service import Outcome, store_messages
from continuum.ingest.hl7_message import read_oru_fast
from continuum.ingest.integration_service import assign_console, save_mapping, save_unit_alias
from continuum.ingest.mllp_client import oru
from continuum.ingest.schemas import AssignmentIn, MappingIn, UnitAliasIn

ADMIN = Actor(staff_id=None, name="test admin", role="admin")
NOW = datetime.now(UTC).replace(microsecond=0)


def store(sessions, text: str) -> Outcome:  # type: ignore[no-untyped-def]
    try:
        msg = read_oru_fast(text)
    except MessageRefused as exc:
        msg = DeviceMessage.refused("hl7", exc, NOW)
    with unit_of_work(sessions) as db:
        return store_messages(db, CLI_ACTOR, [msg])[0]


def flow(control: str, *extra: tuple[str, float | str, str], mrn: str = SECRET_MRNS[0]) -> str:
    at = NOW - timedelta(minutes=5)
    return oru(control, mrn, at, [("blood_flow", 4.2, "L/min"), *extra])


def test_the_three_ihe_examples_are_accepted_and_map_what_maps(sessions) -> None:  # type: ignore[no-untyped-def]
    runs = add_ihe_runs(sessions)
    a, b, c = (store(sessions, example(n)) for n in "abc")
    assert (a.ack, a.stored) == ("AA", 1)  # NIBP mean → map_nibp; sys/dia/pulse unmapped
    assert any("MDC_PRESS_BLD_NONINV_SYS" in w for w in a.warnings)
    assert values(sessions, runs["12345"]) == {"map_nibp": [80.0]}
    # Example B puts X (results cannot be obtained) in OBX-11 of its metrics: taken at its
    # word, nothing is stored and each value is named.
    assert (b.ack, b.stored) == ("AE", 0)
    assert sum("result status X" in w for w in b.warnings) == 4  # NIBP mean, HR, RR, SpO2
    assert values(sessions, runs["HO2009001"]) == {}
    assert (c.ack, c.stored) == ("AA", 1)  # PI-typed PID-3, OBR-7 time, R in OBX-10
    assert values(sessions, runs["789567"]) == {"map_nibp": [100.0]}


def test_resent_control_id_is_acknowledged_again_and_stored_once(sessions) -> None:  # type: ignore[no-untyped-def]
    first = store(sessions, flow("DUP-1", ("p_access", -8, "kPa")))
    again = store(sessions, flow("DUP-1", ("p_access", -8, "kPa")))
    assert (first.ack, first.stored) == ("AA", 2)
    assert (again.ack, again.stored, again.duplicate) == ("AA", 0, True)
    assert count(sessions, "hl7:DUP-1") == 2
    assert abs(values(sessions, 1)["p_access"][-1] - (-60.005)) < 0.01  # kPa → mmHg


def test_derived_delta_p_lands_with_the_message(sessions) -> None:  # type: ignore[no-untyped-def]
    out = store(sessions, flow("DP-1", ("p_preoxy", 250, "mmHg"), ("p_postoxy", 210, "mmHg")))
    assert out.stored == 4
    assert values(sessions, 1)["oxy_delta_p"] == [40.0]


def test_bad_values_refuse_the_whole_message_with_reasons(sessions) -> None:  # type: ignore[no-untyped-def]
    cases = {
        "NN": ("blood_flow", "abc", "L/min"),
        "RANGE": ("pump_speed", 99999, "rpm"),
    }
    for control, bad in cases.items():
        out = store(sessions, flow(control, bad))
        assert out.ack == "AE" and out.stored == 0, out
        assert out.errors and "OBX 2" in out.errors[0]
    assert count(sessions, "hl7:%") == 0  # not even the good blood_flow of those messages
    assert [r.ack_code for r in log_rows(sessions)] == ["AE", "AE"]


def test_a_unit_that_cannot_be_converted_leaves_out_that_value_only(sessions) -> None:  # type: ignore[no-untyped-def]
    out = store(sessions, flow("UNIT", ("p_access", 3, "furlongs"), ("spo2", 97, "%")))
    assert (out.ack, out.stored, out.errors) == ("AA", 2, [])
    assert len(out.warnings) == 1 and "OBX 2" in out.warnings[0]
    assert "furlongs" in out.warnings[0] and "not stored" in out.warnings[0]
    assert sorted(values(sessions, 1)) == ["blood_flow", "spo2"]


def test_unknown_patient_no_run_and_impossible_times_are_refused(sessions) -> None:  # type: ignore[no-untyped-def]
    assert "no patient" in store(sessions, flow("U1", mrn="NOBODY")).errors[0]
    assert "no active ECMO run" in store(sessions, flow("U2", mrn=SECRET_MRNS[1])).errors[0]
    day = (NOW - timedelta(minutes=5)).strftime("%Y%m%d")  # the message's date (past midnight too)
    month13 = flow("T1").replace(day, day[:4] + "1399")
    assert "not a real date" in store(sessions, month13).errors[0]
    future = oru("T2", SECRET_MRNS[0], NOW + timedelta(days=2), [("blood_flow", 4, "")])
    assert "in the future" in store(sessions, future).errors[0]
    before = oru("T3", SECRET_MRNS[0], NOW - timedelta(days=30), [("blood_flow", 4, "")])
    assert "before the run started" in store(sessions, before).errors[0]
    assert count(sessions, "hl7:%") == 0


def test_unmapped_codes_are_warned_and_all_unmapped_is_ae(sessions) -> None:  # type: ignore[no-untyped-def]
    local = oru("L1", SECRET_MRNS[0], NOW - timedelta(minutes=1), [("FLW", 4.4, "L/min")], "99MQ")
    out = store(sessions, local)
    assert out.ack == "AE" and "FLW" in out.warnings[0]
    with unit_of_work(sessions) as db:
        save_mapping(db, ADMIN, MappingIn(system="99MQ", identifier="FLW", code="blood_flow"))
    assert store(sessions, local).ack == "AA"  # the same control id, now mappable
    mixed = store(sessions, flow("L2", ("XYZ", 1, ""), ("spo2", 97, "%")))
    assert (mixed.ack, mixed.stored) == ("AA", 2) and "XYZ" in mixed.warnings[0]


def test_console_assignment_takes_precedence_over_pid3(sessions) -> None:  # type: ignore[no-untyped-def]
    other = add_run(sessions, "OTHER-1", NOW - timedelta(hours=4))
    with unit_of_work(sessions) as db:
        assign_console(db, ADMIN, AssignmentIn(console_id="CH-9", run_id=other))
    msg = oru("C1", SECRET_MRNS[0], NOW - timedelta(minutes=1), [("blood_flow", 3.3, "")],
              console="CH-9")  # fmt: skip
    assert store(sessions, msg).ack == "AA"
    assert values(sessions, other) == {"blood_flow": [3.3]}


def test_garbage_is_rejected_with_ar_not_a_crash(sessions) -> None:  # type: ignore[no-untyped-def]
    for junk in ("", "garbage", "MSH|^~\\&|x", "MSH|^~\\&|A|B|||20250101||ADT^A01|Z1|P|2.6"):
        out = store(sessions, junk)
        assert out.ack == "AR" and out.errors
    assert count(sessions, "hl7:%") == 0


def test_a_site_unit_alias_makes_a_local_unit_convertible_and_is_audited(sessions) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from continuum.core.record import AuditEntry
    from continuum.errors import ValidationFailed

    local = flow("UA1", ("p_access", -8, "KPA_LOCAL"))
    assert "cannot be converted" in store(sessions, local).warnings[0]
    with unit_of_work(sessions) as db:
        save_unit_alias(db, ADMIN, UnitAliasIn(spelling="KPA_LOCAL", unit="kPa", note="console"))
    out = store(sessions, local.replace("|UA1|", "|UA2|"))
    assert (out.ack, out.stored, out.warnings) == ("AA", 2, [])
    assert abs(values(sessions, 1)["p_access"][-1] - (-60.005)) < 0.01
    built_in = UnitAliasIn(spelling="mmHg", unit="kPa")
    for bad in (built_in, UnitAliasIn(spelling="X", unit="ft")):
        try:
            with unit_of_work(sessions) as db:
                save_unit_alias(db, ADMIN, bad)
        except ValidationFailed as exc:
            assert exc.problems[0].field in ("spelling", "unit")
        else:
            raise AssertionError(f"{bad} was accepted")
    with sessions() as db:
        stmt = select(AuditEntry).where(AuditEntry.entity == "ingest_unit_alias")
        audits = db.scalars(stmt).all()
    assert [a.detail["spelling"] for a in audits] == ["kpa_local"]
