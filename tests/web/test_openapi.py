"""The OpenAPI document is complete and true.

Complete: every /api operation's success answer has a declared shape (no empty ``{}``
schema, no bare untyped object), a closed one (an undeclared key is refused, not sent
undocumented), and every time is a documented date-time.
True: real answers from a seeded programme validate against the document itself (the
rounds board too, which is encoded without response validation), and a handler that
returns a key its model does not name, or misses one, fails instead of answering.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import jsonschema_rs
import pytest
from fastapi.exceptions import ResponseValidationError

from continuum.alerts import service as alert_service
from continuum.app import create_app
from continuum.core import run_view
from continuum.db import utcnow
from continuum.rounds.schemas import INSPECTION_SITES
from tests import conftest
from tests.conftest import Web

Schema = dict[str, Any]
TIME_NAME = re.compile(r"(^at$|_at$|^time$|^start$|^end$)")


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Schema:
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'spec.db'}"
    app = create_app(conftest.test_settings(url))
    document = app.openapi()
    app.state.engine.dispose()
    return document


def resolve(spec: Schema, schema: Schema) -> Schema:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def variants(spec: Schema, schema: Schema) -> list[Schema]:
    """The non-null alternatives of a schema (``X | None`` is anyOf [X, null])."""
    schema = resolve(spec, schema)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return [v for o in options for v in variants(spec, o) if v.get("type") != "null"]
    return [schema]


def untyped(spec: Schema, schema: Schema) -> str | None:
    """Why an answer's shape says nothing (None when it is declared). Lists and maps are
    followed to their items and values; declared objects are not opened further."""
    if not resolve(spec, schema):
        return "empty schema {}"
    for s in variants(spec, schema):
        if s.get("type") == "array":
            items = [*s.get("prefixItems", []), *([s["items"]] if "items" in s else [])]
            if not items:
                return "a list of anything"
            reasons = [untyped(spec, i) for i in items]
            if any(reasons):
                return f"list of {next(r for r in reasons if r)}"
        elif s.get("type") == "object" or "additionalProperties" in s:
            if s.get("properties"):
                continue
            values = s.get("additionalProperties", True)
            if values in (True, {}):
                return "an untyped object"
            reason = untyped(spec, values)
            if reason:
                return f"map of {reason}"
        elif not s:
            return "empty schema {}"
    return None


def api_operations(spec: Schema) -> list[tuple[str, str, Schema]]:
    return [
        (path, method, op)
        for path, ops in spec["paths"].items()
        if path.startswith("/api/")
        for method, op in ops.items()
    ]


def success_bodies(op: Schema) -> list[tuple[str, str, Schema | None]]:
    return [
        (code, media, body.get("schema"))
        for code, answer in op["responses"].items()
        if code.startswith("2")
        for media, body in answer.get("content", {}).items()
    ]


def test_every_api_operation_declares_a_typed_success_answer(spec: Schema) -> None:
    operations = api_operations(spec)
    assert len(operations) > 60
    problems = []
    for path, method, op in operations:
        bodies = success_bodies(op)
        if not bodies:
            problems.append(f"{method.upper()} {path}: no success answer with a body")
        for code, media, schema in bodies:
            if schema is None:
                problems.append(f"{method.upper()} {path} {code} {media}: no schema")
            elif media == "text/event-stream":
                assert resolve(spec, schema).get("type") == "string"
            elif reason := untyped(spec, schema):
                problems.append(f"{method.upper()} {path} {code} {media}: {reason}")
    assert not problems, "\n".join(problems)


def top_objects(spec: Schema, schema: Schema) -> list[Schema]:
    out = []
    for s in variants(spec, schema):
        if s.get("type") == "array":
            for item in [*s.get("prefixItems", []), *([s["items"]] if "items" in s else [])]:
                out += top_objects(spec, item)
        elif s.get("properties"):
            out.append(s)
        elif isinstance(s.get("additionalProperties"), dict):
            out += top_objects(spec, s["additionalProperties"])
    return out


def test_answers_refuse_keys_they_do_not_declare(spec: Schema) -> None:
    """additionalProperties false on every answer's objects: a key a handler adds without
    declaring it is refused (a failing test), never sent undocumented."""
    open_ = [
        f"{m.upper()} {p}: {s.get('title')}"
        for p, m, op in api_operations(spec)
        for _, media, schema in success_bodies(op)
        if schema and media != "text/event-stream"
        for s in top_objects(spec, schema)
        if s.get("additionalProperties") is not False
    ]
    assert not open_, "\n".join(open_)


def test_times_are_documented_as_utc_date_times(spec: Schema) -> None:
    wrong = []
    for name, component in spec["components"]["schemas"].items():
        for field, prop in component.get("properties", {}).items():
            if TIME_NAME.search(field) and not any(
                v.get("format") == "date-time" for v in variants(spec, prop)
            ):
                wrong.append(f"{name}.{field}: {prop}")
    assert not wrong, "\n".join(wrong)


def test_clinical_values_carry_their_unit(spec: Schema) -> None:
    """A few fields a data dictionary reads: the unit is in the description."""
    schemas = spec["components"]["schemas"]
    assert "L/min" in schemas["TrialOut"]["properties"]["baseline_flow"]["description"]
    assert "Fr" in schemas["CannulaOut"]["properties"]["french"]["description"]
    assert "mmHg" in schemas["BoardRunOut"]["properties"]["oxy_delta_p_change_24h"]["description"]
    assert "min" in schemas["DecannulationOut"]["properties"]["haemostasis_minutes"]["description"]
    severities = schemas["AlertOut"]["properties"]["severity"]
    assert severities["enum"] == ["info", "warning", "critical"]


# --- real answers against the document ----------------------------------------------------


class Checker:
    """Calls the API and validates each answer against the schema the document declares
    for that path, method, status and media type (format checks on: date-time too)."""

    def __init__(self, web: Web, spec: Schema) -> None:
        self.web, self.spec, self.checked = web, spec, []

    def call(self, method: str, url: str, template: str, status: int = 200, **kwargs: Any) -> Any:
        if method != "get":
            kwargs.setdefault("headers", {})["X-CSRF-Token"] = self.web.csrf()
        r = self.web.client.request(method.upper(), url, **kwargs)
        assert r.status_code == status, f"{method} {url}: {r.status_code} {r.text[:300]}"
        media = r.headers["content-type"].split(";")[0]
        answer = self.spec["paths"][template][method]["responses"][str(status)]
        schema = answer["content"][media]["schema"]
        root = {"components": self.spec["components"], **schema}
        validator = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
        errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(r.json())]
        assert not errors, f"{method} {url}:\n" + "\n".join(errors[:10])
        self.checked.append((method, template))
        return r.json()


def test_real_answers_match_the_document(web: Web, spec: Schema) -> None:
    api = Checker(web, spec)
    now = utcnow()
    web.login("physician")
    api.call("get", "/api/v1/me", "/api/v1/me")
    api.call("get", "/api/v1/patients", "/api/v1/patients")
    api.call("get", "/api/v1/runs", "/api/v1/runs")
    stored = {"observations": [{"code": "pfhb", "value": 150, "time": now.isoformat()}]}
    api.call(
        "post",
        "/api/v1/runs/1/observations",
        "/api/v1/runs/{run_id}/observations",
        201,
        json=stored,
    )
    run = api.call("get", "/api/v1/runs/1", "/api/v1/runs/{run_id}")
    assert run["open_alerts"] and run["components"] and run["cannulas"]
    # the JSON clients had before the shapes were declared: times as each domain sent them
    assert run["started_at"].endswith("+00:00") and run["open_alerts"][0]["raised_at"][-1] == "Z"
    series = api.call(
        "get",
        "/api/v1/runs/1/observations?code=blood_flow&code=hb",
        "/api/v1/runs/{run_id}/observations",
    )
    assert len(series["blood_flow"]) == 3
    plain = api.call("get", "/api/v1/observations/2", "/api/v1/observations/{observation_id}")
    assert "amendment" not in plain  # present only when amended, as before
    amended = api.call(
        "post",
        "/api/v1/observations/1/amendments",
        "/api/v1/observations/{observation_id}/amendments",
        201,
        json={"value": 4.4, "reason": "console read again"},
    )
    original = api.call("get", "/api/v1/observations/1", "/api/v1/observations/{observation_id}")
    assert original["amendment"]["replacement_id"] == amended["id"]
    api.call("get", "/api/v1/runs/1/timeline", "/api/v1/runs/{run_id}/timeline")
    api.call("get", "/api/v1/staff", "/api/v1/staff")
    alerts = api.call("get", "/api/v1/alerts", "/api/v1/alerts")
    api.call("get", f"/api/v1/alerts/{alerts[0]['id']}", "/api/v1/alerts/{alert_id}")
    api.call(
        "post",
        f"/api/v1/alerts/{alerts[0]['id']}/acknowledge",
        "/api/v1/alerts/{alert_id}/acknowledge",
        json={"comment": "seen at the bedside"},
    )
    run_alerts = api.call("get", "/api/v1/runs/1/alerts", "/api/v1/runs/{run_id}/alerts")
    api.call("get", "/api/v1/surveillance/rules", "/api/v1/surveillance/rules")
    # rounds: a round with goals, an alert reviewed and an action; the board shows them
    goals = {"blood_flow": {"low": 3.5, "high": 5.0}}
    review = [  # a round names a disposition for every open alert (a note for critical ones)
        {"detector": a["detector"], "disposition": "acknowledged", "note": "seen on the round"}
        for a in run_alerts
        if a["status"] != "resolved"
    ]
    assert any(r["detector"] == "hemolysis" for r in review)
    action = {
        "text": "repeat pfHb",
        "owner_discipline": "perfusion",
        "due_at": (now + timedelta(hours=4)).isoformat(),
    }
    api.call(
        "post",
        "/api/v1/runs/1/rounds",
        "/api/v1/runs/{run_id}/rounds",
        201,
        json={
            "attendees": [1, 2],
            "problems": "haemolysis",
            "goals": goals,
            "alerts_reviewed": review,
            "actions": [action],
        },
    )
    rounds = api.call("get", "/api/v1/runs/1/rounds", "/api/v1/runs/{run_id}/rounds")
    assert rounds["rounds"][0]["alerts_reviewed"] and rounds["actions"]
    board = api.call("get", "/api/v1/rounds/board", "/api/v1/rounds/board")
    assert board["runs"][0]["open_actions"] and board["runs"][0]["trends"]
    action_id = board["runs"][0]["open_actions"][0]["id"]
    api.call(
        "post",
        f"/api/v1/actions/{action_id}/complete",
        "/api/v1/actions/{action_id}/complete",
        json={"note": "pfHb 40 mg/dL"},
    )
    web.login("perfusionist")
    check = api.call(
        "post",
        "/api/v1/runs/1/circuit-checks",
        "/api/v1/runs/{run_id}/circuit-checks",
        201,
        json={"inspection": {s: "none" for s in INSPECTION_SITES}, "readings": {"blood_flow": 4.1}},
    )
    assert check["readings"]["blood_flow"]["entered"] is True
    assert any(r["entered"] is False for r in check["readings"].values())  # pre-filled
    api.call("get", "/api/v1/runs/1/circuit-checks", "/api/v1/runs/{run_id}/circuit-checks")
    # weaning: the live review, a trial with a step, the history with its chart
    api.call("get", "/api/v1/runs/1/weaning/readiness", "/api/v1/runs/{run_id}/weaning/readiness")
    trial = api.call(
        "post",
        "/api/v1/runs/1/weaning/trials",
        "/api/v1/runs/{run_id}/weaning/trials",
        201,
        json={"kind": "sweep_reduction"},
    )
    api.call(
        "post",
        f"/api/v1/weaning/trials/{trial['id']}/steps",
        "/api/v1/weaning/trials/{trial_id}/steps",
        201,
        json={"stage": "baseline", "values": {"sweep_flow": 2.0}},
    )
    history = api.call("get", "/api/v1/runs/1/weaning", "/api/v1/runs/{run_id}/weaning")
    assert history["trials"][0]["steps"] and history["chart"]["bands"]
    # initiation, calculators, settings
    api.call("get", "/api/v1/referrals", "/api/v1/referrals")
    referral = {
        "patient_id": 2,
        "referring_hospital": "Hill Hospital",
        "referring_clinician": "Dr Vale",
        "support_type": "cardiac",
        "clinical_picture": "cardiogenic shock, lactate 9 mmol/L",
    }
    created = api.call("post", "/api/v1/referrals", "/api/v1/referrals", 201, json=referral)
    api.call(
        "post",
        f"/api/v1/referrals/{created['referral']['id']}/status",
        "/api/v1/referrals/{referral_id}/status",
        json={"status": "under_assessment"},
    )
    noted = api.call(
        "post",
        f"/api/v1/referrals/{created['referral']['id']}/amendments",
        "/api/v1/referrals/{referral_id}/amendments",
        201,
        json={"note": "family informed by phone"},
    )
    assert noted["decision"]["amendments"][-1]["note"] == "family informed by phone"
    record = api.call("get", "/api/v1/referrals/1", "/api/v1/referrals/{referral_id}")
    assert record["decision"]["version"] >= 1
    api.call(
        "post",
        "/api/v1/modality/recommend",
        "/api/v1/modality/recommend",
        json={"respiratory_failure": True, "adequate_cardiac_function": True},
    )
    api.call("get", "/api/v1/calculators", "/api/v1/calculators")
    api.call(
        "post",
        "/api/v1/calculators/bsa",
        "/api/v1/calculators/{name}",
        json={"height_cm": 170, "weight_kg": 70},
    )
    api.call("get", "/api/v1/settings", "/api/v1/settings")
    api.call("get", "/api/v1/settings/surveillance", "/api/v1/settings/{group}")
    web.login("qa_lead")
    api.call("get", "/api/v1/audit?limit=50", "/api/v1/audit")
    assert len(set(api.checked)) >= 35  # operations whose answers were checked


def test_the_fhir_bundle_answers_the_declared_operation_outcome(web: Web, spec: Schema) -> None:
    web.login("physician")
    api = Checker(web, spec)
    refused = api.call(
        "post",
        "/api/v1/fhir/Bundle",
        "/api/v1/fhir/Bundle",
        422,
        content=b'{"resourceType": "Bundle", "type": "collection"}',
        headers={"Content-Type": "application/fhir+json"},
    )
    assert refused["resourceType"] == "OperationOutcome"
    assert refused["issue"][0]["severity"] == "error"


# --- a model mismatch fails ---------------------------------------------------------------


def test_a_key_the_model_does_not_declare_fails(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    web.login("nurse")
    assert web.client.get("/api/v1/alerts/1").status_code == 200
    real = alert_service.to_json
    monkeypatch.setattr(alert_service, "to_json", lambda a: {**real(a), "undeclared": 1})
    with pytest.raises(ResponseValidationError, match="undeclared"):
        web.client.get("/api/v1/alerts/1")


def test_a_key_the_model_needs_but_is_missing_fails(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    web.login("nurse")
    real = run_view.summary
    monkeypatch.setattr(
        run_view, "summary", lambda *a: {k: v for k, v in real(*a).items() if k != "location"}
    )
    with pytest.raises(ResponseValidationError, match="location"):
        web.client.get("/api/v1/runs/1")


def test_a_naive_time_fails(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    """Times are UTC with their offset: a handler sending a naive one is caught."""
    web.login("nurse")
    real = run_view.summary
    monkeypatch.setattr(
        run_view, "summary", lambda *a: {**real(*a), "started_at": "2026-12-01T08:00:00"}
    )
    with pytest.raises(ResponseValidationError, match="timezone"):
        web.client.get("/api/v1/runs/1")
