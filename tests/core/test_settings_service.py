"""The one settings service, page and API (SQLite and PostgreSQL): every domain's settings
declared with default, range, unit, provenance and source; bad values refused whole with
key, value, range and unit named; every change audited with old and new value; clinical
thresholds changed only by clinical leads, integration settings only by the administrator."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from continuum.alerts.thresholds import in_force
from continuum.core import settings_service as svc
from continuum.core.record import AuditEntry, ProgrammeSetting
from continuum.core.roles import ROLE_PERMISSIONS, Actor, Permission
from continuum.core.vocab import ROLES
from continuum.db import unit_of_work
from continuum.errors import Forbidden, ValidationFailed
from continuum.ingest import integration_service
from continuum.surveillance.settings import DEFAULT_SETTINGS
from continuum.weaning import settings as weaning_settings
from tests.conftest import Web

CLINICAL = (
    "surveillance", "weaning", "initiation", "rounds", "shifts", "quality_events",
    "quality_metrics", "participation_policy", "registry",
    "ambulation",
    "transport",
)  # fmt: skip
CLINICAL = (*CLINICAL, "competencies", "training")
QA = Actor(staff_id=5, name="Test qa_lead", role="qa_lead")
LEAD = Actor(staff_id=9, name="Test physician_lead", role="physician_lead")
ADMIN = Actor(staff_id=7, name="Test admin", role="admin")


def actor(role: str) -> Actor:
    return Actor(staff_id=None, name=f"Test {role}", role=role)


def audit_rows(db: Session) -> list[dict]:  # type: ignore[type-arg]
    stmt = select(AuditEntry).where(AuditEntry.entity == "programme_setting")
    return [a.detail or {} for a in db.scalars(stmt.order_by(AuditEntry.id))]


# --- the registry ---------------------------------------------------------------------


def test_every_domain_declares_its_settings_once_with_range_unit_provenance_and_source() -> None:
    groups = {g.name: g for g in svc.groups()}
    assert set(groups) == {*CLINICAL, "integration", "accounts"}
    assert len(groups["surveillance"].settings) == len(DEFAULT_SETTINGS.describe())
    stored: set[str] = set()
    for g in groups.values():
        for s in g.settings:
            assert s.low <= s.default <= s.high, (g.name, s.key)
            assert s.tag in ("P", "S", "U") and s.source.strip(), (g.name, s.key)
            tags = set(re.findall(r"\[([PSU])\]", s.source))
            # the weakest tag named in the published source text, U when none is named
            assert s.tag == ("U" if "U" in tags or not tags else "S" if "S" in tags else "P")
            key = g.store_key(s)
            assert key not in stored, key  # one store, one key per setting
            stored.add(key)
    assert groups["integration"].by_key["message_log_days"].kind == "integer"
    assert groups["initiation"].by_key["ecpr_min_cpr_min"].tag == "P"


def test_clinical_thresholds_belong_to_clinical_leads_and_integration_to_the_administrator() -> (
    None
):
    for name in CLINICAL:
        assert svc.group(name).change is Permission.MANAGE_CLINICAL_SETTINGS
    assert svc.group("integration").change is Permission.MANAGE_INTEGRATION
    leads = {r for r in ROLES if Permission.MANAGE_CLINICAL_SETTINGS in ROLE_PERMISSIONS[r]}
    assert leads == {"qa_lead", "physician_lead"}
    assert {r for r in ROLES if svc.group("integration").may_change(actor(r))} == {"admin"}


# --- service on both databases --------------------------------------------------------


def test_defaults_apply_until_a_programme_sets_a_value(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as db:
        for g in svc.groups():
            assert svc.values(db, g.name) == {s.key: s.default for s in g.settings}
            assert svc.overrides(db, g.name) == {}
        assert in_force(db) == DEFAULT_SETTINGS
        assert weaning_settings.overrides(db) == {}


def test_a_change_is_stored_once_and_audited_with_old_and_new_value(
    sessions: sessionmaker[Session],
) -> None:
    with unit_of_work(sessions) as db:
        changes = svc.save(db, QA, "surveillance", {"pfhb_warning": "40"}, "QA committee")
        assert [(c.key, c.old, c.new, c.unit) for c in changes] == [
            ("pfhb_warning", 50.0, 40.0, "mg/dL")
        ]
    with unit_of_work(sessions) as db:
        assert in_force(db).pfhb_warning == 40.0
        assert in_force(db).pfhb_critical == DEFAULT_SETTINGS.pfhb_critical
        assert svc.save(db, LEAD, "surveillance", {"pfhb_warning": 40}) == []  # no change
        back = svc.save(db, LEAD, "surveillance", {"pfhb_warning": ""}, "back to published")
        assert [(c.old, c.new) for c in back] == [(40.0, 50.0)]
    with unit_of_work(sessions) as db:
        assert db.get(ProgrammeSetting, "surveillance.pfhb_warning") is None
        details = audit_rows(db)
    assert [(d["key"], d["old"], d["new"], d["unit"], d["note"]) for d in details] == [
        ("pfhb_warning", 50.0, 40.0, "mg/dL", "QA committee"),
        ("pfhb_warning", 40.0, 50.0, "mg/dL", "back to published"),
    ]


def test_a_transaction_reads_the_stored_settings_once_for_every_group(
    sessions: sessionmaker[Session],
) -> None:
    """A page asks for several groups: one statement reads them all; a value saved in the
    same transaction, or in another one, is seen by the next read."""
    with unit_of_work(sessions) as db:
        svc.save(db, QA, "surveillance", {"pfhb_warning": "40"}, "QA committee")
        svc.save(db, QA, "weaning", {"vv_peep_max": "12"}, "QA committee")
    with unit_of_work(sessions) as db:
        reads: list[str] = []
        listen = event.listens_for(db.get_bind(), "before_cursor_execute")

        @listen
        def _count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            if "programme_setting" in statement:
                reads.append(statement)

        for g in svc.groups():
            svc.values(db, g.name)
        assert in_force(db).pfhb_warning == 40.0
        assert svc.overrides(db, "weaning") == {"vv_peep_max": 12.0}
        assert len(reads) == 1, reads
        svc.save(db, QA, "surveillance", {"pfhb_warning": "45"}, "QA committee")
        assert in_force(db).pfhb_warning == 45.0  # a change in this transaction: read again
        event.remove(db.get_bind(), "before_cursor_execute", _count)


def test_a_weaning_range_is_two_settings_the_criteria_read_as_a_pair(
    sessions: sessionmaker[Session],
) -> None:
    with unit_of_work(sessions) as db:
        svc.save(db, LEAD, "weaning", {"vv_vt_per_kg_high": 7, "vv_peep_max": 12})
    with unit_of_work(sessions) as db:
        assert weaning_settings.overrides(db) == {
            "weaning.vv_vt_per_kg": [4, 7.0],
            "weaning.vv_peep_max": 12.0,
        }


def test_bad_values_are_refused_whole_naming_key_value_range_and_unit(
    sessions: sessionmaker[Session],
) -> None:
    with unit_of_work(sessions) as db:
        with pytest.raises(ValidationFailed) as err:
            svc.save(
                db,
                QA,
                "surveillance",
                {"pfhb_warning": "45", "pfhb_critical": 2000, "access_critical": "x", "nope": 1},
            )
        problems = {p.field: p.message for p in err.value.problems}
        assert problems == {
            "pfhb_critical": "plasma free Hb critical (pfhb_critical): 2000 mg/dL is outside "
            "the allowed 0–1000 mg/dL",
            "access_critical": "access critical (access_critical): 'x' is not a number; "
            "allowed -1000–0 mmHg",
            "nope": problems["nope"],
        }
        assert "not a surveillance setting" in problems["nope"]
        with pytest.raises(ValidationFailed) as err:
            svc.save(db, ADMIN, "integration", {"message_log_days": 2.5})
        assert err.value.problems[0].message == (
            "Keep the ingest message log for (message_log_days): '2.5' is not a whole number; "
            "allowed 1–3650 days"
        )
        with pytest.raises(ValidationFailed):
            svc.save(db, ADMIN, "integration", {"message_log_days": float("nan")})
    with unit_of_work(sessions) as db:
        assert db.scalars(select(ProgrammeSetting)).all() == []
        assert audit_rows(db) == []


def test_a_warning_may_not_pass_its_critical_nor_a_range_its_upper_bound(
    sessions: sessionmaker[Session],
) -> None:
    with unit_of_work(sessions) as db:
        with pytest.raises(ValidationFailed) as err:
            svc.save(db, QA, "surveillance", {"pfhb_warning": 120})  # critical stays 100
        [problem] = err.value.problems
        assert problem.field == "pfhb_warning"
        assert problem.message == (
            "plasma free Hb warning (pfhb_warning) 120 mg/dL may not exceed "
            "plasma free Hb critical (pfhb_critical) 100 mg/dL"
        )
        assert svc.save(db, QA, "surveillance", {"pfhb_warning": 120, "pfhb_critical": 150})
        with pytest.raises(ValidationFailed) as err:
            svc.save(db, QA, "surveillance", {"pfhb_critical": ""})  # back to 100 < 120
        assert err.value.problems[0].field == "pfhb_critical"
        with pytest.raises(ValidationFailed) as err:
            svc.save(db, LEAD, "weaning", {"vv_vt_per_kg": 8})  # above the upper bound 6
        assert "may not exceed Tidal volume per kg PBW: upper bound" in (
            err.value.problems[0].message
        )
    with unit_of_work(sessions) as db:
        assert svc.overrides(db, "weaning") == {}
        assert svc.overrides(db, "surveillance") == {"pfhb_warning": 120.0, "pfhb_critical": 150.0}


@pytest.mark.parametrize("role", ROLES)
def test_who_may_change_what(sessions: sessionmaker[Session], role: str) -> None:
    who = actor(role)
    with unit_of_work(sessions) as db:
        for name, value in (("initiation", {"ecpr_max_age_years": 75}),
                            ("integration", {"message_log_days": 30})):  # fmt: skip
            if svc.group(name).change in ROLE_PERMISSIONS[role]:
                assert len(svc.save(db, who, name, value)) == 1
            else:
                with pytest.raises(Forbidden):
                    svc.save(db, who, name, value)
        perms = ROLE_PERMISSIONS[role]
        seen = set(CLINICAL) if Permission.VIEW_CLINICAL in perms else set()
        seen |= {"integration"} if Permission.MANAGE_INTEGRATION in perms else set()
        seen |= {"accounts"} if Permission.MANAGE_USERS in perms else set()
        assert {g.name for g in svc.visible_groups(who)} == seen
    expect = {"initiation.ecpr_max_age_years"} if role in ("qa_lead", "physician_lead") else set()
    expect |= {"ingest.message_log_days"} if role == "admin" else set()
    with unit_of_work(sessions) as db:
        assert {r.key for r in db.scalars(select(ProgrammeSetting))} == expect


def test_the_ingest_retention_reads_and_writes_through_the_service(
    sessions: sessionmaker[Session],
) -> None:
    with unit_of_work(sessions) as db:
        svc.save(db, ADMIN, "integration", {"message_log_days": "30"})
        assert integration_service.log_retention(db).days == 30
        with pytest.raises(Forbidden):
            integration_service.save_log_retention(db, QA, 10)


# --- page and API on both databases ----------------------------------------------------


def test_the_page_renders_every_group_with_value_default_range_unit_provenance_and_source(
    web_any: Web,
) -> None:
    web_any.login("physician_lead")
    index = web_any.client.get("/settings").text
    for name in CLINICAL:
        assert f'href="/settings/{name}"' in index
    assert 'href="/settings/integration"' not in index
    for g in svc.groups():
        r = web_any.client.get(f"/settings/{g.name}")
        if g.name in ("integration", "accounts"):  # the administrator's groups
            assert r.status_code == 403
            continue
        assert r.status_code == 200 and g.title in r.text
        for s in g.settings:
            assert f'name="t_{s.key}"' in r.text and s.allowed in r.text
        pfhb = DEFAULT_SETTINGS.threshold("pfhb_warning")["source"]
        if g.name == "surveillance":
            assert str(escape(pfhb)) in r.text
            assert '<span class="badge prov P"' in r.text and "50 mg/dL" in r.text
    web_any.login("admin")
    r = web_any.client.get("/settings/integration")
    assert r.status_code == 200 and 'name="t_message_log_days"' in r.text and "90 days" in r.text
    r = web_any.client.get("/settings/accounts")
    assert r.status_code == 200 and 'name="t_ended_session_days"' in r.text and "30" in r.text
    assert web_any.client.get("/settings/surveillance").status_code == 403


def test_a_refused_form_names_each_field_and_keeps_every_value(web_any: Web) -> None:
    web_any.login("qa_lead")
    url = "/settings/weaning"
    form = {"t_vv_peep_max": "300", "t_vv_pao2_min": "80", "t_vv_ph_min": "seven", "note": "x"}
    r = web_any.post_form(url, form, page=url)
    assert r.status_code == 422
    assert "PEEP ≤ (vv_peep_max): 300 cmH2O is outside the allowed 0–100 cmH2O" in r.text
    assert "Arterial pH &gt; (vv_ph_min): &#39;seven&#39; is not a number; allowed 6.8–7.8" in (
        r.text
    )
    assert 'id="e-vv_peep_max"' in r.text and 'id="e-vv_ph_min"' in r.text  # at the field
    for value in ('value="300"', 'value="80"', 'value="seven"', 'value="x"'):
        assert value in r.text
    assert web_any.client.get("/api/v1/settings/weaning").json()["settings"][1]["overridden"] is (
        False
    )


def test_the_api_reads_and_changes_a_group_and_the_former_paths_answer_the_same(
    web_any: Web,
) -> None:
    web_any.login("qa_lead")
    h = {"X-CSRF-Token": web_any.csrf("/runs")}
    groups = web_any.client.get("/api/v1/settings").json()
    assert [(g["group"], g["may_change"]) for g in groups] == [(n, True) for n in CLINICAL]
    bad = web_any.client.put(
        "/api/v1/settings/surveillance", headers=h, json={"values": {"pfhb_critical": 2000}}
    )
    assert bad.status_code == 422
    [field] = bad.json()["fields"]
    assert (field["field"], field["value"]) == ("pfhb_critical", 2000)
    assert "2000 mg/dL is outside the allowed 0–1000 mg/dL" in field["message"]
    ok = web_any.client.put(
        "/api/v1/settings/surveillance",
        headers=h,
        json={"values": {"pfhb_critical": 90}, "note": "QA committee"},
    )
    assert ok.status_code == 200
    assert ok.json()["changed"] == [
        {"key": "pfhb_critical", "old": 100, "new": 90, "unit": "mg/dL"}
    ]
    new = web_any.client.get("/api/v1/settings/surveillance").json()
    assert new == web_any.client.get("/api/v1/surveillance/thresholds").json()
    row = next(s for s in new["settings"] if s["key"] == "pfhb_critical")
    assert (row["value"], row["default"], row["overridden"], row["note"]) == (
        90,
        100,
        True,
        "QA committee",
    )
    assert web_any.client.get("/api/v1/settings/nothing").status_code == 404
    web_any.login("admin")
    h = {"X-CSRF-Token": web_any.csrf("/admin/users")}
    refused = web_any.client.put(
        "/api/v1/settings/surveillance", headers=h, json={"values": {"pfhb_critical": 80}}
    )
    assert refused.status_code == 403


# --- yes/no settings ------------------------------------------------------------------


def test_a_flag_reads_yes_or_no_and_refuses_anything_else() -> None:
    g = svc.group("participation_policy")
    flag = g.by_key["require_rounds"]
    assert flag.kind == "flag" and flag.allowed == "yes or no"
    given = {"require_rounds": "no", "require_alerts": True, "require_weaning": "Yes"}
    assert svc.check("participation_policy", given) == {
        "require_rounds": 0, "require_alerts": 1, "require_weaning": 1,
    }  # fmt: skip
    for bad in ("maybe", 2, 0.5, "1.5"):
        with pytest.raises(ValidationFailed) as refused:
            svc.check("participation_policy", {"require_rounds": bad})
        [problem] = refused.value.problems
        assert problem.field == "require_rounds" and "yes or no" in problem.message
    # a number setting still refuses true/false
    with pytest.raises(ValidationFailed):
        svc.check("participation_policy", {"min_n_for_percent": True})


def test_a_flag_is_a_yes_no_choice_on_the_page_and_true_false_in_the_api(web_any: Web) -> None:
    web_any.login("qa_lead")
    url = "/settings/participation_policy"
    page = web_any.client.get(url).text
    assert '<select name="t_require_rounds"' in page and ">default (yes)</option>" in page
    r = web_any.post_form(
        url, {"t_require_rounds": "no", "note": "rounds without perfusion"}, page=url
    )
    assert r.status_code == 303  # saved
    page = web_any.client.get(url).text
    row = page.split('id="s-require_rounds"')[1].split("</tr>")[0]
    assert re.search(r'>no\s+<span class="badge">programme</span>', row)
    assert '<option value="no" selected>' in row
    h = {"X-CSRF-Token": web_any.csrf("/runs")}
    ok = web_any.client.put(
        "/api/v1/settings/participation_policy",
        headers=h,
        json={"values": {"require_rounds": True}},
    )
    assert ok.status_code == 200 and ok.json()["changed"][0]["new"] == 1
    bad = web_any.client.put(
        "/api/v1/settings/participation_policy",
        headers=h,
        json={"values": {"require_rounds": "sometimes"}},
    )
    assert bad.status_code == 422 and "yes or no" in bad.json()["fields"][0]["message"]
