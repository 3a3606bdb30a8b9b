"""The arithmetic of the participation map (docs/participation-map.md): no database, no web.

The care pathway is a fixed list of steps (``STEPS``), from referral to registry and
research, as in the letter's Figure 1. Each record of a step (a decision, a round, a circuit
check, an alert, a trial …) carries who took part in it: ``(discipline, how)`` pairs, ``how``
being present, consulted, signed, or recorded (the record's own author or signer columns).
A step's share for a discipline is the number of its records in which that discipline took
part, of all its records, with the Wilson interval (``metrics_calc.proportion``).

The comparisons behind "gaps that matter" (alert → acknowledgement by perfusion at that
day's round, urgent vs planned membrane-lung changes, aborted weaning trials, complications
per 1,000 ECMO hours) are counts with intervals: associations, never causes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from continuum.quality import metrics_calc as calc


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    records: str  # what the step counts, in the clinic's words
    recommendation: int | None  # the letter's recommendation (1–5) that names it, if any


STEPS: tuple[Step, ...] = (
    Step("candidacy", "Referral and candidacy", "signed decision records", 1),
    Step("configuration", "Modality and configuration", "decisions with a chosen mode", 1),
    Step("cannulation", "Cannulation", "runs started (circuit set up)", None),
    Step("rounds", "Daily rounds and circuit checks", "rounds and circuit checks", 2),
    Step("alerts", "Alerts and their review", "circuit alerts raised", 2),
    Step("weaning", "Weaning trials", "weaning trials", 3),
    Step("decannulation", "Decannulation", "decannulation records", 3),
    Step("transport", "Transport and ambulation", "transports and ambulation sessions", None),
    Step("review", "M&M and audits", "M&M meetings and clinical audits", 4),
    Step("research", "Registry and research", "registry submissions and studies", 5),
)
STEP_KEYS: tuple[str, ...] = tuple(s.key for s in STEPS)
BY_KEY: dict[str, Step] = {s.key: s for s in STEPS}
HOW = ("present", "consulted", "signed", "recorded")


@dataclass(frozen=True)
class StepRecord:
    """One record of a step and who took part in it."""

    step: str
    kind: str  # "round", "circuit check", "decision" …
    record_id: int
    run_id: int | None
    at: datetime  # aware
    takers: tuple[tuple[str, str], ...]  # (discipline, how)
    title: str = ""
    href: str | None = None
    state: str = ""  # e.g. a weaning trial's status

    def disciplines(self) -> set[str]:
        return {d for d, _ in self.takers}

    def has(self, discipline: str) -> bool:
        return any(d == discipline for d, _ in self.takers)

    def how(self, discipline: str) -> list[str]:
        return sorted({h for d, h in self.takers if d == discipline}, key=HOW.index)


@dataclass(frozen=True)
class StepShare:
    step: Step
    share: calc.Proportion
    recorded: bool  # False: the record holds nothing of this kind (no table yet)

    @property
    def k(self) -> int:
        return self.share.k

    @property
    def n(self) -> int:
        return self.share.n


def step_shares(
    records: Iterable[StepRecord], discipline: str, unrecorded: Iterable[str] = ()
) -> list[StepShare]:
    """Each step's share of records with ``discipline`` taking part, in pathway order."""
    k: dict[str, int] = defaultdict(int)
    n: dict[str, int] = defaultdict(int)
    for r in records:
        n[r.step] += 1
        if r.has(discipline):
            k[r.step] += 1
    missing = set(unrecorded)
    return [StepShare(s, share_of(k[s.key], n[s.key]), s.key not in missing) for s in STEPS]


def kind_counts(
    records: Iterable[StepRecord], discipline: str
) -> dict[str, list[tuple[str, int, int]]]:
    """Per step, per kind of record (round, circuit check …): (kind, k, n) in first-seen order."""
    seen: dict[str, dict[str, list[int]]] = defaultdict(dict)
    for r in records:
        kn = seen[r.step].setdefault(r.kind, [0, 0])
        kn[1] += 1
        kn[0] += int(r.has(discipline))
    return {step: [(kind, k, n) for kind, (k, n) in kinds.items()] for step, kinds in seen.items()}


def month_of(at: datetime, zone: ZoneInfo) -> str:
    local = at.astimezone(zone)
    return f"{local.year:04d}-{local.month:02d}"


@lru_cache(maxsize=4096)
def share_of(k: int, n: int) -> calc.Proportion:
    """k of n with the Wilson interval (``metrics_calc.proportion``), remembered: a map has
    a few hundred cells and many repeat."""
    return calc.proportion(k, n)


def months_between(start: datetime, end: datetime, zone: ZoneInfo) -> list[str]:
    """The local months the half-open period [start, end) touches, in order."""
    first = start.astimezone(zone).date().replace(day=1)
    last_day = (end - timedelta(microseconds=1)).astimezone(zone).date()
    out: list[str] = []
    d = first
    while d <= last_day:
        out.append(d.strftime("%Y-%m"))
        d = date(d.year + (d.month == 12), 1 if d.month == 12 else d.month + 1, 1)
    return out


@dataclass(frozen=True)
class TrendPoint:
    month: str  # YYYY-MM, local
    step: str
    share: calc.Proportion


def monthly_trend(
    records: Iterable[StepRecord], discipline: str, zone: ZoneInfo, months: Sequence[str]
) -> list[TrendPoint]:
    """Per step and local month: k of n with the Wilson interval (n = 0 where none)."""
    k: dict[tuple[str, str], int] = defaultdict(int)
    n: dict[tuple[str, str], int] = defaultdict(int)
    for r in records:
        key = (r.step, month_of(r.at, zone))
        n[key] += 1
        if r.has(discipline):
            k[key] += 1
    return [
        TrendPoint(m, s.key, share_of(k[(s.key, m)], n[(s.key, m)])) for s in STEPS for m in months
    ]


def drill(records: Iterable[StepRecord], step: str, discipline: str) -> list[StepRecord]:
    """A step's records, those without ``discipline`` first, newest first within each."""
    own = [r for r in records if r.step == step]
    return sorted(own, key=lambda r: (r.has(discipline), -r.at.timestamp(), r.record_id))


# --- how a share reads --------------------------------------------------------------------

# Sequential blues, light to dark, for 0–20, 20–40, 40–60, 60–80, 80–100 %.
SHADES: tuple[str, ...] = ("#eef4fb", "#c6dbef", "#85b3dc", "#3e7cb1", "#1d4f7a")
NO_RECORDS = "#f2f4f7"


def shade(share: calc.Proportion) -> str:
    if share.value is None:
        return NO_RECORDS
    return SHADES[min(len(SHADES) - 1, int(share.value * len(SHADES)))]


def ink(share: calc.Proportion) -> str:
    """Text colour readable on ``shade(share)``."""
    if share.value is None:
        return "#344054"
    return "#ffffff" if share.value >= 0.6 else "#101828"


def reads(share: calc.Proportion, min_n: int) -> str:
    """'k of n' with the 95 % interval; the percentage only when n is not small."""
    if share.n == 0:
        return "no records"
    ci = f"95 % CI {100 * (share.low or 0):.0f}–{100 * (share.high or 0):.0f} %"
    if share.n < min_n:
        return f"{share.k} of {share.n} ({ci})"
    return f"{share.k} of {share.n} = {share.percent:.0f} % ({ci})"


def meets(share: calc.Proportion, target_pct: float) -> bool | None:
    """Whether the measured share reaches the target; None when nothing was measured."""
    if share.value is None:
        return None
    return 100 * share.value >= target_pct


# --- gaps that matter: comparisons, association not causation -----------------------------


@dataclass(frozen=True)
class Arm:
    """One side of a comparison: a count with its interval, or a median with its IQR."""

    label: str
    n: int
    n_label: str
    value: float | None
    low: float | None
    high: float | None
    unit: str
    text: str


@dataclass(frozen=True)
class Comparison:
    key: str
    step: str
    title: str
    arms: tuple[Arm, ...]
    note: str = ""
    caveat: str = "association, not causation"


def proportion_arm(label: str, k: int, n: int, n_label: str, what: str) -> Arm:
    p = calc.proportion(k, n)
    if n == 0:
        text = f"no {n_label}"
    else:
        text = f"{k} of {n} {n_label} {what} (95 % CI {100 * (p.low or 0):.0f}–{100 * (p.high or 0):.0f} %)"  # noqa: E501
    return Arm(
        label,
        n,
        n_label,
        p.percent,
        None if p.low is None else 100 * p.low,
        None if p.high is None else 100 * p.high,
        "%",
        text,
    )


def median_arm(label: str, values: Sequence[float], n_label: str, unit: str) -> Arm:
    s = calc.median_iqr(values)
    if s.n == 0 or s.median is None:
        return Arm(label, 0, n_label, None, None, None, unit, f"no {n_label}")
    text = f"median {s.median:.0f} {unit} (IQR {s.q1:.0f}–{s.q3:.0f}), n = {s.n} {n_label}"
    return Arm(label, s.n, n_label, s.median, s.q1, s.q3, unit, text)


def rate_arm(label: str, events: int, hours: float, runs: int) -> Arm:
    r = calc.rate(events, hours)
    if r.value is None:
        return Arm(label, runs, "runs", None, None, None, "per 1,000 ECMO h", "no ECMO time")
    text = (
        f"{events} over {hours:,.0f} ECMO h = {r.value:.1f} per 1,000 h "
        f"(95 % CI {r.low:.1f}–{r.high:.1f}), {runs} runs"
    )
    return Arm(label, runs, "runs", r.value, r.low, r.high, "per 1,000 ECMO h", text)


@dataclass
class GapFacts:
    """What the service reads for the comparisons, reduced to plain values."""

    # alert → acknowledgement minutes (None: never acknowledged), perfusion at that day's round
    alert_acks: list[tuple[float | None, bool]] = field(default_factory=list)
    # alert → resolution (the fix: a component replaced, an action, or a reasoned close)
    alert_resolves: list[tuple[float | None, bool]] = field(default_factory=list)
    # membrane-lung change class ('urgent' | 'planned' | 'unclassified'), perfusion at the
    # run's round that day or the day before
    ml_changes: list[tuple[str, bool]] = field(default_factory=list)
    # weaning trial ended: aborted?, perfusion took part in the trial
    trials: list[tuple[bool, bool]] = field(default_factory=list)
    # per run: incidents, ECMO hours, rounds with perfusion, rounds
    runs: list[tuple[int, float, int, int]] = field(default_factory=list)


def gap_comparisons(facts: GapFacts, round_share_pct: float) -> list[Comparison]:
    with_p, without_p = "perfusion at that day's round", "no perfusion at that day's round"
    acked_with = [m for m, p in facts.alert_acks if p and m is not None]
    acked_without = [m for m, p in facts.alert_acks if not p and m is not None]
    n_with = sum(1 for _, p in facts.alert_acks if p)
    n_without = sum(1 for _, p in facts.alert_acks if not p)
    alerts = Comparison(
        "alert_ack",
        "alerts",
        "Alert → acknowledgement time",
        (
            median_arm(with_p, acked_with, "acknowledged alerts", "min"),
            median_arm(without_p, acked_without, "acknowledged alerts", "min"),
        ),
        f"{len(acked_with)} of {n_with} alerts acknowledged on days with perfusion at the "
        f"round; {len(acked_without)} of {n_without} on days without.",
    )
    fixed_with = [m for m, p in facts.alert_resolves if p and m is not None]
    fixed_without = [m for m, p in facts.alert_resolves if not p and m is not None]
    resolved = Comparison(
        "alert_resolve",
        "alerts",
        "Alert → resolution time (time to intervention)",
        (
            median_arm(with_p, fixed_with, "resolved alerts", "min"),
            median_arm(without_p, fixed_without, "resolved alerts", "min"),
        ),
        "Resolution: the alert was closed after its cause was dealt with (a component "
        "replaced, an action raised and done, or a reasoned close).",
    )
    changes = [(c, p) for c, p in facts.ml_changes if c in ("urgent", "planned")]
    ml = Comparison(
        "ml_urgent",
        "rounds",
        "Membrane-lung changes that were urgent (not planned)",
        (
            proportion_arm(
                "perfusion at the round that day or the day before",
                sum(1 for c, p in changes if p and c == "urgent"),
                sum(1 for _, p in changes if p),
                "changes",
                "urgent",
            ),
            proportion_arm(
                "no perfusion at those rounds",
                sum(1 for c, p in changes if not p and c == "urgent"),
                sum(1 for _, p in changes if not p),
                "changes",
                "urgent",
            ),
        ),
        "Urgent: failure, rising gradient, thrombus, haemolysis, malfunction, air, rupture; "
        "planned: end of product life, protocol, treatment changed.",
    )
    trials = Comparison(
        "trials_aborted",
        "weaning",
        "Weaning trials aborted",
        (
            proportion_arm(
                "perfusion took part",
                sum(1 for a, p in facts.trials if p and a),
                sum(1 for _, p in facts.trials if p),
                "ended trials",
                "aborted",
            ),
            proportion_arm(
                "no perfusion input",
                sum(1 for a, p in facts.trials if not p and a),
                sum(1 for _, p in facts.trials if not p),
                "ended trials",
                "aborted",
            ),
        ),
    )
    high = [r for r in facts.runs if r[3] and 100 * r[2] / r[3] >= round_share_pct]
    low = [r for r in facts.runs if r[3] and 100 * r[2] / r[3] < round_share_pct]
    complications = Comparison(
        "complications",
        "rounds",
        "Complications (incidents) per 1,000 ECMO hours",
        (
            rate_arm(
                f"runs with perfusion at ≥ {round_share_pct:g} % of rounds",
                sum(r[0] for r in high),
                sum(r[1] for r in high),
                len(high),
            ),
            rate_arm(
                f"runs with perfusion at < {round_share_pct:g} % of rounds",
                sum(r[0] for r in low),
                sum(r[1] for r in low),
                len(low),
            ),
        ),
        "Runs without any round are left out. Sicker runs have more rounds and more "
        "complications: read this as a prompt for review, not a result.",
    )
    return [alerts, resolved, ml, trials, complications]
