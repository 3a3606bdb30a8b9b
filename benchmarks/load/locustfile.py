"""Locust scenario for benchmarks/load/run_load.py: clinicians on the web pages and a device
gateway sending HL7 v2 ORU^R01 over MLLP, both at once.

Configuration comes from environment variables (the runner sets them):

- LOAD_HOSTS: comma-separated app base URLs; clinician *i* uses host *i mod n* (two
  ``continuum serve`` processes, or one reverse proxy in front of them);
- LOAD_USERS: comma-separated ``username:role`` pairs (role perfusionist, physician or
  nurse), password LOAD_PASSWORD; each clinician logs in with the next account;
- LOAD_RUNS: JSON list of ``[run_id, mrn]`` of the active runs the clinicians and the
  device messages are about;
- LOAD_MLLP: ``host:port`` of the MLLP listener; LOAD_ORU_RATE messages/s in total, spread
  over LOAD_MLLP_SENDERS lock-step connections (LOAD_MLLP_SENDERS = 0: no device feed);
- LOAD_DB: a libpq connection string; when set, a probe polls the database for the most
  recently sent message's observation once a second and reports send → stored as
  "INGEST send→visible (DB poll)";
- LOAD_WAIT: a clinician's think time between pages, "low,high" seconds (default 2,6).

Every page is a "GET"/"POST" entry named by its route pattern; a POST counts as failed when
it does not redirect (303) to the record it wrote. A round or alert saved by a colleague at
the same moment answers 409 with both versions side by side: that is the product working,
so it is counted under its own name ("… (409 colleague saved first)") and not as an error;
so is an alert a colleague acknowledged a moment earlier (422 "already acknowledged").
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from datetime import UTC, datetime
from typing import Any

import gevent
from locust import HttpUser, User, between, constant_throughput, events, task
from locust.env import Environment

from continuum.ingest.mllp_client import MllpSender, hl7_time, msa, oru

HOSTS = [h.strip() for h in os.environ.get("LOAD_HOSTS", "").split(",") if h.strip()]
ACCOUNTS = [tuple(u.split(":", 1)) for u in os.environ.get("LOAD_USERS", "").split(",") if ":" in u]
PASSWORD = os.environ.get("LOAD_PASSWORD", "continuum-demo")
RUNS: list[tuple[int, str]] = [
    (int(r), str(m)) for r, m in json.loads(os.environ.get("LOAD_RUNS", "[]"))
]
MLLP = os.environ.get("LOAD_MLLP", "")
ORU_RATE = float(os.environ.get("LOAD_ORU_RATE", "0") or 0)
SENDERS = int(os.environ.get("LOAD_MLLP_SENDERS", "0") or 0)
PROBE_DB = os.environ.get("LOAD_DB", "")
WAIT = tuple(float(x) for x in os.environ.get("LOAD_WAIT", "2,6").split(","))

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ACK_FORM = re.compile(r'action="(/alerts/(\d+)/acknowledge)"')
FORM = re.compile(r'<form[^>]*action="(?P<action>[^"]+)"[^>]*>(?P<body>.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
# The device feed: the circuit values a console gateway sends every few seconds.
CIRCUIT = (
    ("blood_flow", 4.4, "L/min"),
    ("pump_speed", 3400, "/min"),
    ("p_access", -62, "mm[Hg]"),
    ("p_preoxy", 250, "mm[Hg]"),
    ("p_postoxy", 228, "mm[Hg]"),
    ("sweep_flow", 3.5, "L/min"),
)

_accounts = itertools.count()
_control = itertools.count(1)
# The message the probe follows: (control id, run id, observation time, wall clock at send).
LAST_SENT: dict[str, Any] = {}


def _precise(at: datetime) -> str:
    """HL7 DTM with milliseconds, so that 100 messages/s do not share a time stamp."""
    return at.strftime("%Y%m%d%H%M%S.") + f"{at.microsecond // 1000:03d}+0000"


def _form(html: str, action: str) -> dict[str, str] | None:
    """The hidden fields (CSRF, version, reviewed alerts) of the form posting to ``action``."""
    for m in FORM.finditer(html):
        if m.group("action") == action:
            return dict(HIDDEN.findall(m.group("body")))
    return None


class Clinician(HttpUser):
    """A perfusionist, physician or nurse on shift: the rounds board, the run pages, and
    what their role writes (circuit checks, rounds, observations, alert acknowledgements)."""

    weight = 1
    wait_time = between(*WAIT) if len(WAIT) == 2 else between(2, 6)
    host = HOSTS[0] if HOSTS else "http://127.0.0.1:8000"

    def on_start(self) -> None:
        i = next(_accounts)
        self.username, self.role = ACCOUNTS[i % len(ACCOUNTS)]
        if HOSTS:
            self.client.base_url = HOSTS[i % len(HOSTS)]
        page = self.client.get("/login", name="/login")
        token = CSRF.search(page.text)
        with self.client.post(
            "/login",
            data={
                "username": self.username,
                "password": PASSWORD,
                "csrf_token": token.group(1) if token else "",
            },
            name="/login",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code != 303:
                r.failure(f"login {self.username}: {r.status_code}")

    def _run(self) -> int:
        return random.choice(RUNS)[0]

    def _get(self, path: str, name: str) -> str:
        with self.client.get(path, name=name, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code} {path} {r.error or ''}")
            elif "/login" in r.url:
                r.failure(f"sent to the login page from {path}")
            return r.text or ""

    def _post(self, path: str, data: dict[str, Any], name: str, conflict_ok: bool = False) -> None:
        with self.client.post(
            path, data=data, name=name, allow_redirects=False, catch_response=True
        ) as r:
            if r.status_code == 303:
                r.success()
            elif conflict_ok and r.status_code == 409:
                r.request_meta["name"] = f"{name} (409 colleague saved first)"
                r.success()
            elif conflict_ok and r.status_code == 422 and "already acknowledged" in r.text:
                r.request_meta["name"] = f"{name} (422 colleague acknowledged first)"
                r.success()
            else:
                text = r.text or ""
                said = re.sub(r"<[^>]+>|\s+", " ", text[text.find("Nothing was saved") :])
                r.failure(f"{r.status_code} {path}: {said[:200]}")

    # Reading: what everyone does most.
    @task(4)
    def board(self) -> None:
        self._get("/rounds", "/rounds (board)")

    @task(2)
    def runs_list(self) -> None:
        self._get("/runs", "/runs")

    @task(5)
    def run_page(self) -> None:
        run = self._run()
        self._get(f"/runs/{run}", "/runs/[id]")

    @task(2)
    def run_rounds(self) -> None:
        run = self._run()
        self._get(f"/runs/{run}/rounds", "/runs/[id]/rounds")

    @task(1)
    def alerts(self) -> None:
        self._get("/alerts", "/alerts")

    # Writing: by role, through the pages' own forms.
    @task(2)
    def observation(self) -> None:
        run = self._run()
        html = self._get(f"/runs/{run}", "/runs/[id]")
        fields = _form(html, f"/runs/{run}/observations")
        if fields is None:
            return
        code, value = random.choice((("hb", 9.8), ("lactate", 1.6), ("hr", 96), ("spo2", 95)))
        self._post(
            f"/runs/{run}/observations",
            {**fields, "code": code, "value": str(value), "unit": "", "time": ""},
            "/runs/[id]/observations",
        )

    @task(2)
    def circuit_check(self) -> None:
        if self.role != "perfusionist":
            return self.run_page()
        run = self._run()
        html = self._get(f"/runs/{run}/circuit-check", "/runs/[id]/circuit-check")
        fields = _form(html, f"/runs/{run}/circuit-check")
        if fields is None:
            return None
        data = {
            **fields,
            "shift": random.choice(("day", "night")),
            "reading.blood_flow": "4.4",
            "reading.sweep_flow": "3.5",
            "reading.p_access": "-60",
            "reading.p_preoxy": "250",
            "reading.p_postoxy": "228",
            "heater": "37 °C",
            "findings": "Circuit checked, no fibrin or clot seen",
        }
        for site in (
            "pump_head",
            "ml_inlet",
            "ml_outlet",
            "connectors",
            "bridge",
            "drainage_cannula_site",
            "return_cannula_site",
        ):
            data[f"inspect.{site}"] = "none"
        self._post(f"/runs/{run}/circuit-check", data, "/runs/[id]/circuit-check")
        return None

    @task(1)
    def round_note(self) -> None:
        if self.role != "physician":
            return self.run_rounds()
        run = self._run()
        html = self._get(f"/runs/{run}/rounds", "/runs/[id]/rounds")
        fields = _form(html, f"/runs/{run}/rounds")
        if fields is None:
            return None
        data: dict[str, Any] = {
            **fields,
            "problems": "Load test: day review, plan unchanged",
            "therapy.anticoagulation": "UFH, anti-Xa 0.3-0.5",
            "goal.blood_flow.low": "4",
            "goal.blood_flow.high": "5",
        }
        for key in [k for k in fields if k.startswith("alert.") and k.endswith(".detector")]:
            data[key.replace(".detector", ".disposition")] = "left_open"
            data[key.replace(".detector", ".note")] = "Reviewed on the round; plan unchanged"
        self._post(f"/runs/{run}/rounds", data, "/runs/[id]/rounds", conflict_ok=True)
        return None

    @task(1)
    def acknowledge(self) -> None:
        if self.role == "nurse":
            return self.alerts()
        run = self._run()
        html = self._get(f"/runs/{run}/alerts", "/runs/[id]/alerts")
        found = ACK_FORM.search(html)
        if found is None:
            return None
        fields = _form(html, found.group(1)) or {}
        self._post(
            found.group(1),
            {**fields, "comment": "Seen at the bedside (load test)"},
            "/alerts/[id]/acknowledge",
            conflict_ok=True,
        )
        return None


class DeviceGateway(User):
    """One lock-step MLLP connection sending ORU^R01 with the circuit values of the active
    runs in turn; ACK AA comes back only after the listener committed the message."""

    fixed_count = SENDERS
    wait_time = constant_throughput(ORU_RATE / SENDERS if SENDERS else 1.0)

    def on_start(self) -> None:
        host, _, port = MLLP.rpartition(":")
        self.sender = MllpSender(host or "127.0.0.1", int(port), timeout=30)
        self.turn = itertools.cycle(random.sample(RUNS, len(RUNS)))

    def on_stop(self) -> None:
        self.sender.close()

    @task
    def send(self) -> None:
        run_id, mrn = next(self.turn)
        at = datetime.now(UTC)
        control = f"LOAD{os.getpid()}-{next(_control)}"
        values = [(c, round(v * random.uniform(0.98, 1.02), 2), u) for c, v, u in CIRCUIT]
        text = oru(control, mrn, at, values).replace(hl7_time(at), _precise(at))
        t0 = time.perf_counter()
        LAST_SENT.update(
            control=control,
            run=run_id,
            at=at.replace(microsecond=at.microsecond // 1000 * 1000),
            sent=t0,
        )
        error: Exception | None = None
        try:
            ack = self.sender.exchange(text)
            code = msa(ack)[0]
            if code != "AA":
                error = RuntimeError(f"ACK {code}: {ack[:200]!r}")
        except OSError as exc:
            error = exc
        self.environment.events.request.fire(
            request_type="MLLP",
            name="ORU^R01 send→AA (committed)",
            response_time=(time.perf_counter() - t0) * 1000,
            response_length=len(text),
            exception=error,
            context={},
        )


def _probe(environment: Environment) -> None:
    """Once a second: the last message sent, polled for in the database until its first
    observation is there (send → stored and visible to every reader)."""
    import psycopg

    sql = (
        "SELECT 1 FROM observation WHERE run_id = %s AND code = 'blood_flow' "
        "AND time = %s AND ingest_ref = %s AND status = 'final'"
    )
    with psycopg.connect(PROBE_DB, autocommit=True) as conn:
        while True:
            gevent.sleep(1.0)
            if not LAST_SENT:
                continue
            last = dict(LAST_SENT)
            error: Exception | None = None
            while True:
                if conn.execute(
                    sql, (last["run"], last["at"], f"hl7:{last['control']}")
                ).fetchone():
                    break
                if time.perf_counter() - last["sent"] > 30:
                    error = TimeoutError(f"{last['control']} not stored after 30 s")
                    break
                gevent.sleep(0.01)
            environment.events.request.fire(
                request_type="INGEST",
                name="send→visible (DB poll)",
                response_time=(time.perf_counter() - last["sent"]) * 1000,
                response_length=0,
                exception=error,
                context={},
            )


@events.test_start.add_listener
def _start_probe(environment: Environment, **_: Any) -> None:
    if PROBE_DB and SENDERS:
        gevent.spawn(_probe, environment)
