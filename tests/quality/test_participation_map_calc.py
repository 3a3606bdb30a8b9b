"""The participation map's arithmetic, from small tables of records worked by hand: shares
per step, the drill-down order, how small numbers read, months, and the comparisons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from continuum.quality import participation_map_calc as calc

T0 = datetime(2025, 3, 10, 9, tzinfo=UTC)
PERF = ("perfusion", "present")
ICU = ("intensive_care", "signed")
NURSE = ("nursing", "present")


def rec(step: str, i: int, *takers: tuple[str, str], hours: float = 0, kind: str = "x"):  # type: ignore[no-untyped-def]
    return calc.StepRecord(step, kind, i, 1, T0 + timedelta(hours=hours), tuple(takers))


# step, records (takers per record), discipline → expected k of n
SPEC = [
    ("rounds", [(PERF, ICU), (ICU, NURSE), (ICU,), (PERF,)], "perfusion", (2, 4)),
    ("rounds", [(PERF, ICU), (ICU, NURSE), (ICU,), (PERF,)], "nursing", (1, 4)),
    ("rounds", [(PERF, ICU), (ICU, NURSE), (ICU,), (PERF,)], "intensive_care", (3, 4)),
    ("candidacy", [(("perfusion", "signed"), ICU), (ICU,)], "perfusion", (1, 2)),
    ("weaning", [(("perfusion", "consulted"),)], "perfusion", (1, 1)),
    ("alerts", [(), ()], "perfusion", (0, 2)),  # nobody recorded: counts, never involved
    ("decannulation", [], "perfusion", (0, 0)),
]


@pytest.mark.parametrize(("step", "takers", "discipline", "expected"), SPEC)
def test_each_step_share_is_k_of_its_n_records(
    step: str, takers: list[tuple[tuple[str, str], ...]], discipline: str, expected: tuple[int, int]
) -> None:
    records = [rec(step, i, *t) for i, t in enumerate(takers)]
    shares = {s.step.key: s for s in calc.step_shares(records, discipline)}
    assert (shares[step].k, shares[step].n) == expected
    assert [s.step.key for s in calc.step_shares(records, discipline)] == list(calc.STEP_KEYS)
    others = [s for key, s in shares.items() if key != step]
    assert all(s.n == 0 and s.share.value is None for s in others)


def test_the_interval_is_wilson_and_small_numbers_never_read_as_bare_percentages() -> None:
    records = [rec("rounds", i, PERF) for i in range(2)] + [rec("rounds", 9, ICU)]
    share = calc.step_shares(records, "perfusion")[3]
    assert (share.k, share.n) == (2, 3)
    assert share.share.low == pytest.approx(0.2077, abs=1e-3)  # Wilson 95 % for 2/3
    assert share.share.high == pytest.approx(0.9385, abs=1e-3)
    small = calc.reads(share.share, min_n=10)
    assert small == "2 of 3 (95 % CI 21–94 %)" and "67" not in small
    assert calc.reads(share.share, min_n=3) == "2 of 3 = 67 % (95 % CI 21–94 %)"
    assert calc.reads(calc.step_shares([], "perfusion")[0].share, 10) == "no records"


def test_unrecorded_steps_are_flagged_and_shades_follow_the_share() -> None:
    shares = {s.step.key: s for s in calc.step_shares([], "perfusion", ("transport",))}
    assert shares["transport"].recorded is False and shares["rounds"].recorded is True
    assert calc.shade(shares["rounds"].share) == calc.NO_RECORDS
    full = calc.step_shares([rec("rounds", 1, PERF)], "perfusion")[3].share
    none = calc.step_shares([rec("rounds", 1, ICU)], "perfusion")[3].share
    assert calc.shade(full) == calc.SHADES[-1] and calc.ink(full) == "#ffffff"
    assert calc.shade(none) == calc.SHADES[0]
    assert calc.meets(full, 90) is True and calc.meets(none, 90) is False
    assert calc.meets(calc.step_shares([], "perfusion")[0].share, 90) is None


def test_drill_down_lists_records_without_the_discipline_first_newest_first() -> None:
    records = [
        rec("rounds", 1, PERF, hours=1),
        rec("rounds", 2, ICU, hours=2),
        rec("rounds", 3, PERF, hours=3),
        rec("rounds", 4, NURSE, hours=0),
        rec("alerts", 5, ICU, hours=5),
    ]
    assert [r.record_id for r in calc.drill(records, "rounds", "perfusion")] == [2, 4, 3, 1]
    assert [r.record_id for r in calc.drill(records, "rounds", "nursing")] == [3, 2, 1, 4]
    assert records[0].how("perfusion") == ["present"]


def test_months_and_the_monthly_trend_use_local_months() -> None:
    zone = ZoneInfo("Asia/Dubai")  # UTC+4: 31 Jan 22:00 UTC is 1 Feb locally
    start = datetime(2025, 1, 1, tzinfo=zone)
    end = datetime(2025, 4, 1, tzinfo=zone)
    months = calc.months_between(start, end, zone)
    assert months == ["2025-01", "2025-02", "2025-03"]
    late = calc.StepRecord("rounds", "round", 1, 1, datetime(2025, 1, 31, 22, tzinfo=UTC), (PERF,))
    early = calc.StepRecord("rounds", "round", 2, 1, datetime(2025, 1, 15, tzinfo=UTC), (ICU,))
    trend = {
        (p.step, p.month): p.share
        for p in calc.monthly_trend([late, early], "perfusion", zone, months)
    }
    assert (trend[("rounds", "2025-01")].k, trend[("rounds", "2025-01")].n) == (0, 1)
    assert (trend[("rounds", "2025-02")].k, trend[("rounds", "2025-02")].n) == (1, 1)
    assert trend[("rounds", "2025-03")].n == 0
    assert len(trend) == len(calc.STEPS) * 3


def test_kind_counts_split_a_step_by_kind_of_record() -> None:
    records = [
        rec("rounds", 1, ICU, kind="round"),
        rec("rounds", 2, PERF, kind="round"),
        rec("rounds", 3, PERF, kind="circuit check"),
    ]
    assert calc.kind_counts(records, "perfusion")["rounds"] == [
        ("round", 1, 2),
        ("circuit check", 1, 1),
    ]


def test_comparisons_give_counts_and_intervals_labelled_as_association() -> None:
    facts = calc.GapFacts(
        alert_acks=[(10.0, True), (20.0, True), (None, True), (60.0, False)],
        alert_resolves=[(100.0, True), (None, False)],
        ml_changes=[
            ("urgent", True),
            ("planned", True),
            ("urgent", False),
            ("unclassified", False),
        ],
        trials=[(True, False), (False, True), (False, True)],
        runs=[(1, 100.0, 1, 2), (1, 50.0, 2, 2), (3, 80.0, 0, 0)],
    )
    by = {c.key: c for c in calc.gap_comparisons(facts, 90)}
    assert all(c.caveat == "association, not causation" for c in by.values())
    ack_with, ack_without = by["alert_ack"].arms
    assert (ack_with.n, ack_with.value, ack_with.low, ack_with.high) == (2, 15.0, 12.5, 17.5)
    assert (ack_without.n, ack_without.value) == (1, 60.0)
    assert "2 of 3 alerts acknowledged" in by["alert_ack"].note
    fixed_with, fixed_without = by["alert_resolve"].arms
    assert (fixed_with.n, fixed_with.value) == (1, 100.0)
    assert (fixed_without.n, fixed_without.text) == (0, "no resolved alerts")
    urgent_with, urgent_without = by["ml_urgent"].arms
    assert urgent_with.text.startswith("1 of 2 changes urgent (95 % CI 9–91 %)")
    assert urgent_without.text.startswith("1 of 1 changes urgent")  # unclassified left out
    aborted_with, aborted_without = by["trials_aborted"].arms
    assert (aborted_with.n, aborted_without.n) == (2, 1)
    assert aborted_without.text.startswith("1 of 1 ended trials aborted")
    high, low = by["complications"].arms
    assert (high.n, high.value) == (1, pytest.approx(20.0))  # 1 over 50 h; the run w/o rounds out
    assert (low.n, low.value) == (1, pytest.approx(10.0))
    assert low.low == pytest.approx(0.253, abs=1e-2) and low.high == pytest.approx(55.7, abs=0.1)
