"""The mechanical-circulatory-support record: devices with append-only versions, the combined
configuration, readings as observations (surveillance follows, with the device's model),
checks, and refusals that name field, value and allowed range and change nothing.
Device 1 (an Impella CP, in place on run 1, VV) is seeded (tests/seed.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from continuum.alerts.models import CircuitAlert
from continuum.core.clinical_event import ClinicalEvent
from continuum.core.record import AuditEntry, Observation
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.errors import Conflict, ValidationFailed
from continuum.mcs import service
from continuum.mcs.models import McsDevice
from continuum.mcs.schemas import CheckIn, DeviceChangeIn, DeviceIn, ReadingIn
from tests.seed import RUN_START

PHYSICIAN = Actor(staff_id=2, name="Test physician", role="physician")
NURSE = Actor(staff_id=3, name="Test nurse", role="nurse")
AT = RUN_START + timedelta(hours=3)


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    return int(db.scalar(select(func.count()).select_from(model)))


def test_a_device_is_recorded_with_its_configuration_timeline_and_audit(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as db:
        run = db.get_one(Run, 1)
        iabp = service.create(
            db, PHYSICIAN, run, DeviceIn(kind="iabp", model="Cardiosave", inserted_at=AT)
        )
        assert iabp.side == "left" and iabp.number == iabp.id and iabp.group == "iabp"
        config = service.configuration(run, iabp)
        assert config["combined_mode"] == "VV+IABP"  # support_configuration decides
        assert config["recorded_as_combined"] is False  # run 1 is recorded as VV
        impella = db.get_one(McsDevice, 1)
        assert service.configuration(run, impella)["combined_mode"] is None  # VV + Impella LV
        kinds = set(db.scalars(select(ClinicalEvent.kind).where(ClinicalEvent.run_id == 1)))
        assert "mcs.inserted" in kinds
        assert db.scalar(
            select(AuditEntry).where(
                AuditEntry.entity == "mcs_device", AuditEntry.entity_id == str(iabp.id)
            )
        )
        assert service.series_devices(db, 1) == {"impella": "CP", "iabp": "Cardiosave"}


def test_a_second_left_impella_in_place_is_refused(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as db:
        run = db.get_one(Run, 1)
        with pytest.raises(Conflict, match="still in place"):
            service.create(
                db, PHYSICIAN, run, DeviceIn(kind="impella", model="5.5", inserted_at=AT)
            )
        rp = service.create(
            db, PHYSICIAN, run, DeviceIn(kind="impella", model="RP", inserted_at=AT)
        )
        assert rp.side == "right" and rp.group == "temporary_rvad"  # BiPella: two sides
        assert service.configuration(run, rp)["combined_mode"] == "VV+RVAD"


def test_removal_and_corrections_append_versions(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as db:
        removed = service.change(
            db,
            PHYSICIAN,
            1,
            DeviceChangeIn(
                follows_id=1,
                removed_at=AT + timedelta(hours=5),
                removal_reason="LV recovered",
                reason="removed in the cath lab",
            ),
        )
        assert removed.id != 1 and removed.follows_id == 1 and removed.number == 1
        first = db.get_one(McsDevice, 1)
        assert first.removed_at is None  # the first version is never overwritten
        assert [v.id for v in service.versions(db, 1)] == [removed.id, 1]
        assert service.get_device(db, PHYSICIAN, 1).id == removed.id
        assert not service.in_place(removed)
        events = list(
            db.scalars(select(ClinicalEvent.kind).where(ClinicalEvent.kind == "mcs.removed"))
        )
        assert events == ["mcs.removed"]
        with pytest.raises(Conflict, match="not the version in force"):
            service.change(db, PHYSICIAN, 1, DeviceChangeIn(follows_id=1, reason="again", site="x"))
        with pytest.raises(ValidationFailed) as exc:
            service.change(
                db,
                PHYSICIAN,
                1,
                DeviceChangeIn(
                    follows_id=removed.id, removed_at=AT - timedelta(hours=5), reason="typo"
                ),
            )
        assert exc.value.problems[0].field == "removed_at"


def test_readings_are_observations_with_the_expected_range(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as db:
        stored = service.add_reading(
            db,
            NURSE,
            1,
            ReadingIn(at=AT, p_level=8, flow=2.4, purge_pressure=560, purge_flow=12.5),
        )
        assert stored == 4
        codes = set(db.scalars(select(Observation.code).where(Observation.time == AT)))
        assert codes == {
            "impella_p_level",
            "impella_flow",
            "impella_purge_pressure",
            "impella_purge_flow",
        }
        [row] = service.readings(db, db.get_one(McsDevice, 1))
        assert (row["expected_low"], row["expected_high"]) == (2.9, 3.7)  # CP at P-8 [U]
        assert row["below_expected"] is True


def test_position_and_timing_checks(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as db:
        check = service.add_check(
            db, NURSE, 1, CheckIn(kind="position", at=AT, method="echo", result="too_deep")
        )
        fixed = service.add_check(
            db,
            NURSE,
            1,
            CheckIn(
                kind="position",
                at=AT,
                method="echo",
                result="correct",
                corrects_id=check.id,
                reason="the inlet was measured from the wrong landmark",
            ),
        )
        assert fixed.corrects_id == check.id
        with pytest.raises(ValidationFailed) as exc:
            service.add_check(
                db, NURSE, 1, CheckIn(kind="timing", at=AT, method="waveform_1_2", result="correct")
            )
        assert exc.value.problems[0].field == "kind"  # timing is an IABP's


@pytest.mark.parametrize(
    ("reading", "field", "words"),
    [
        ({"p_level": 12}, "p_level", "P-0 to P-9"),
        ({"p_level": 3.5}, "p_level", "whole number"),
        ({"purge_flow": -2}, "purge_flow", "outside 0–50 mL/h"),
        ({"flow": 11}, "flow", "outside 0–7 L/min"),
        ({"speed": 3000}, "speed", "not a reading of Impella CP"),
        ({"ratio": "1:2"}, "ratio", "not a reading of Impella CP"),
    ],
)
def test_bad_readings_are_refused_and_change_nothing(web, reading, field, words) -> None:  # type: ignore[no-untyped-def]
    web.login("nurse")
    csrf = web.csrf()
    before = web.client.get("/api/v1/mcs/1").json()["readings"]
    response = web.client.post(
        "/api/v1/mcs/1/readings",
        json={"at": AT.isoformat(), **reading},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 422, response.text
    [problem] = [p for p in response.json()["fields"] if p["field"] == field]
    assert words in problem["message"]
    assert problem["value"] == next(iter(reading.values()))
    assert web.client.get("/api/v1/mcs/1").json()["readings"] == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "impella", "model": "9.9"}, "model"),
        ({"kind": "impella", "model": "CP "}, "model"),  # stripped, then still "CP": in place
        ({"kind": "balloon", "model": "x"}, "kind"),
        ({"kind": "temporary_vad", "model": "CentriMag"}, "side"),
    ],
)
def test_bad_devices_are_refused(web, body, field) -> None:  # type: ignore[no-untyped-def]
    web.login("physician")
    csrf = web.csrf()
    response = web.client.post(
        "/api/v1/runs/1/mcs",
        json={**body, "inserted_at": AT.isoformat()},
        headers={"X-CSRF-Token": csrf},
    )
    if body["model"] == "CP ":
        assert response.status_code == 409  # a left Impella is already in place
        return
    assert response.status_code == 422, response.text
    fields = {p["field"]: p for p in response.json()["fields"]}
    assert field in fields
    if field == "model":
        assert "2.5, CP, 5.0, 5.5, RP" in fields["model"]["message"]
    assert web.client.get("/api/v1/runs/1/mcs").json()["devices"][0]["device_id"] == 1
    assert len(web.client.get("/api/v1/runs/1/mcs").json()["devices"]) == 1


def test_the_api_view_of_an_impella(web) -> None:  # type: ignore[no-untyped-def]
    web.login("nurse")
    csrf = web.csrf()
    r = web.client.post(
        "/api/v1/mcs/1/readings",
        json={"at": AT.isoformat(), "p_level": 6, "flow": 2.6},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201 and r.json() == {"stored": 2}
    view = web.client.get("/api/v1/mcs/1").json()
    assert view["device"]["name"] == "Impella CP" and view["device"]["in_place"] is True
    assert view["configuration"]["run_mode"] == "VV"
    assert view["readings"][0]["values"] == {"impella_p_level": 6.0, "impella_flow": 2.6}
    assert (
        view["readings"][0]["expected_low"] == 2.3
        and view["readings"][0]["below_expected"] is False
    )
    assert [r["p_level"] for r in view["expected_table"]] == list(range(10))
    assert "[U]" in view["table_source"]
    web.login("researcher")
    assert web.client.get("/api/v1/mcs/1").json()["device"]["reason"] is None


def test_low_impella_flow_raises_its_alert_with_the_recorded_model(sessions) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    with sessions.begin() as db:
        for m in range(25, 0, -1):  # 25 minutes of suction at P-8: 1.2 L/min (< 50% of 2.9)
            service.add_reading(
                db, NURSE, 1, ReadingIn(at=now - timedelta(minutes=m), p_level=8, flow=1.2)
            )
    with sessions() as db:
        alert = db.scalar(
            select(CircuitAlert).where(
                CircuitAlert.run_id == 1, CircuitAlert.detector == "impella_flow_low"
            )
        )
        assert alert is not None, "no impella_flow_low alert"
        assert alert.severity == "critical"
        assert "Impella CP flow" in alert.summary  # the model came from the device record


def test_iabp_and_vad_readings_and_an_iabp_timing_check(web) -> None:  # type: ignore[no-untyped-def]
    web.login("physician")
    h = {"X-CSRF-Token": web.csrf()}
    iabp = web.client.post(
        "/api/v1/runs/1/mcs",
        json={"kind": "iabp", "model": "Cardiosave", "inserted_at": AT.isoformat()},
        headers=h,
    ).json()
    vad = web.client.post(
        "/api/v1/runs/1/mcs",
        json={
            "kind": "temporary_vad",
            "model": "CentriMag",
            "side": "right",
            "site": "RA → PA",
            "inserted_at": AT.isoformat(),
        },
        headers=h,
    ).json()
    later = (AT + timedelta(minutes=30)).isoformat()
    r = web.client.post(
        f"/api/v1/mcs/{iabp['device_id']}/readings",
        json={"at": later, "ratio": "1:3", "augmentation": 96},
        headers=h,
    )
    assert r.status_code == 201, r.text
    bad = web.client.post(
        f"/api/v1/mcs/{iabp['device_id']}/readings",
        json={"at": later, "ratio": "1:4"},
        headers=h,
    )
    assert bad.status_code == 422 and "1:1, 1:2 or 1:3" in bad.text
    r = web.client.post(
        f"/api/v1/mcs/{vad['device_id']}/readings",
        json={"at": later, "speed": 3200, "flow": 3.8, "power": 4.1, "pulsatility_index": 2.5},
        headers=h,
    )
    assert r.status_code == 201 and r.json() == {"stored": 4}
    timing = web.client.post(
        f"/api/v1/mcs/{iabp['device_id']}/checks",
        json={"kind": "timing", "at": later, "method": "waveform_1_2", "result": "late_deflation"},
        headers=h,
    )
    assert timing.status_code == 201
    view = web.client.get(f"/api/v1/mcs/{iabp['device_id']}").json()
    assert view["readings"][0]["values"] == {"iabp_ratio": 0.3333, "iabp_augmentation": 96.0}
    assert view["checks"][0]["result_label"] == "Late deflation"
    assert view["configuration"]["combined_mode"] == "VV+IABP"
    assert web.client.get(f"/api/v1/mcs/{vad['device_id']}").json()["device"]["group"] == (
        "temporary_rvad"
    )
    page = web.client.get(f"/mcs/{iabp['device_id']}").text
    assert "1:3" in page and "Late deflation" in page


def test_insertion_and_removal_are_on_the_timeline(web) -> None:  # type: ignore[no-untyped-def]
    web.login("physician")
    h = {"X-CSRF-Token": web.csrf()}
    made = web.client.post(
        "/api/v1/runs/1/mcs",
        json={"kind": "iabp", "model": "Cardiosave", "inserted_at": AT.isoformat()},
        headers=h,
    ).json()
    r = web.client.post(
        f"/api/v1/mcs/{made['device_id']}/versions",
        json={
            "follows_id": made["id"],
            "removed_at": (AT + timedelta(hours=1)).isoformat(),
            "removal_reason": "weaned 1:3 then off",
            "reason": "removed",
        },
        headers=h,
    )
    assert r.status_code == 201 and r.json()["in_place"] is False
    page = web.client.get("/runs/1/timeline?kind=mcs")
    assert page.status_code == 200
    assert "IABP (Cardiosave) inserted" in page.text
    assert "IABP (Cardiosave) removed: weaned 1:3 then off" in page.text
