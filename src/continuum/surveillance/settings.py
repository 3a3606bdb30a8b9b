"""Every surveillance threshold, with its published default and where that default comes from.

A programme overrides any of them (``settings.with_overrides({"pfhb_warning": 40})``);
the database layer stores the overrides and passes the resulting object in.
Sources refer to ``docs/clinical/reference.md``; **[U]** marks a centre-configurable default
that has no published source (see the reference file's provenance tags).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from continuum.errors import FieldProblem, ValidationFailed

LUBNOW = (
    "Lubnow M et al., PLoS One 2014;9(12):e112316, Table 6 (docs/clinical/reference.md §4.1) [P]"
)
DESIGN = "[U] centre-configurable design default (no published source)"


def _t(default: float, unit: str, source: str) -> Any:
    return field(default=default, metadata={"unit": unit, "source": source})


@dataclass(frozen=True)
class SurveillanceSettings:
    # -- shared signal handling ------------------------------------------------------------
    grid_step_s: float = _t(60, "s", DESIGN + ": evaluation grid = console 1-minute resolution")
    console_max_gap_min: float = _t(5, "min", DESIGN + ": longer sensor drop-outs are 'unknown'")
    console_silence_min: float = _t(
        5,
        "min",
        DESIGN + ": no console value (blood flow or pump speed) for longer than this is a "
        "finding of its own, 'console data silent' (docs/clinical/reference.md §4.7); 0 = off",
    )
    baseline_hours: float = _t(
        6,
        "h",
        DESIGN + ": a component's own early hours (docs/clinical/reference.md §4.1 'own baseline')",
    )
    baseline_skip_min: float = _t(30, "min", DESIGN + ": settling time after start/change")
    lab_max_age_h: float = _t(24, "h", DESIGN + ": a lab result older than this is 'unknown'")
    gas_max_age_h: float = _t(12, "h", DESIGN + ": a blood gas older than this is 'unknown'")
    # -- transmembrane_gradient_rise ---------------------------------------------------------
    tmp_rise_warning: float = _t(0.30, "fraction", LUBNOW + ": 30–50% increase in ΔP/flow")
    tmp_rise_critical: float = _t(0.50, "fraction", LUBNOW + ": 30–50% increase in ΔP/flow")
    tmp_rise_clear: float = _t(0.20, "fraction", DESIGN + ": hysteresis below the 30% rise")
    tmp_min_excess: float = _t(
        8,
        "mmHg",
        DESIGN + ": the rise must also exceed transducer drift (ΔP above baseline ΔP/flow × flow)",
    )
    tmp_min_flow: float = _t(1.0, "L/min", DESIGN + ": ΔP/flow not judged at very low flow")
    tmp_smoothing_min: float = _t(30, "min", DESIGN + ": rolling median window")
    tmp_persist_min: float = _t(60, "min", DESIGN + ": rise must persist this long")
    # -- oxygenator_dysfunction --------------------------------------------------------------
    oxy_po2_malfunction: float = _t(200, "mmHg at FdO2 1.0", LUBNOW + ": post-MO pO2 <200 mmHg")
    oxy_po2_acceptable: float = _t(400, "mmHg at FdO2 1.0", LUBNOW + ": acceptable >400 mmHg")
    oxy_po2_fall: float = _t(0.25, "fraction", DESIGN + ": fall of pO2/FdO2 from own baseline")
    oxy_pco2_post_max: float = _t(45, "mmHg", LUBNOW + ": post-MO pCO2 >40–45 mmHg")
    oxy_pco2_sweep_min: float = _t(10, "L/min", LUBNOW + ": pCO2 rule judged at sweep 10–12 L/min")
    oxy_pco2_gradient_min: float = _t(5, "mmHg", LUBNOW + ": pCO2 pre − post <5 mmHg")
    oxy_sweep_on: float = _t(1.0, "L/min", DESIGN + ": below this the sweep is off (weaning trial)")
    oxy_gas_settle_min: float = _t(
        15,
        "min",
        DESIGN + ": a circuit gas is judged only when sweep and FdO2 had not stepped for this "
        "long before it was drawn, nor since (docs/clinical/reference.md §4.1 sweep-aware "
        "judging; weaning steps §6.1)",
    )
    oxy_setting_step: float = _t(
        0.20,
        "fraction",
        DESIGN + ": a sweep or FdO2 change of at least this fraction of the larger value "
        "(sweep floored at the sweep-on level, FdO2 at 0.21) is a step",
    )
    oxy_pco2_gradient_sweep_min: float = _t(
        2.0,
        "L/min",
        DESIGN + ": below this sweep the pre−post pCO2 rule is not judged (CO2 removal is "
        "sweep-limited; §4.1 sweep-aware judging)",
    )
    oxy_pco2_gradient_sweep_full: float = _t(
        4.0,
        "L/min",
        DESIGN + ": below this sweep the pre−post pCO2 limit is scaled by sweep / this value",
    )
    # -- pump_thrombosis ---------------------------------------------------------------------
    pump_drift_warning: float = _t(
        0.10,
        "fraction",
        "[U] docs/clinical/reference.md §4.3: rpm–flow mismatch is manufacturer-specific",
    )
    pump_drift_critical: float = _t(
        0.20, "fraction", "[U] docs/clinical/reference.md §4.3 (no source)"
    )
    pump_drift_clear: float = _t(0.05, "fraction", DESIGN + ": hysteresis")
    pump_smoothing_min: float = _t(30, "min", DESIGN + ": rolling median window")
    pump_persist_min: float = _t(60, "min", DESIGN + ": drift must persist this long")
    # -- hemolysis ---------------------------------------------------------------------------
    pfhb_warning: float = _t(
        50,
        "mg/dL",
        "Omar HR 2015 PMC4406730 (>50 mg/dL, OR 3.4); Perfusion 2020 cut-off "
        "0.05 g/dL for pump thrombosis; Regensburg critical 500 mg/L "
        "(docs/clinical/reference.md §4.2–4.3) [P]",
    )
    pfhb_critical: float = _t(
        100,
        "mg/dL",
        "Neal JR et al., J Extra Corpor Technol 2015;47:103-8: pump-thrombosis "
        "spikes >100 mg/dL (docs/clinical/reference.md §4.3) [P]",
    )
    pfhb_rising: float = _t(30, "mg/dL", LUBNOW + ": free Hb rapid increase (>300 mg/L)")
    ldh_rising: float = _t(1000, "U/L", LUBNOW + ": LDH rapid substantial increase (>1,000 U/L)")
    # -- recirculation -----------------------------------------------------------------------
    recirc_fraction: float = _t(
        0.20,
        "fraction",
        "nickmmark recirculation calculator: R >20% likely clinically "
        "significant (docs/clinical/reference.md §3.6) [S]",
    )
    recirc_critical: float = _t(0.50, "fraction", DESIGN)
    recirc_pre_so2_min: float = _t(
        75, "%", "nickmmark: SpreO2 <75% → significant recirculation unlikely (§3.6) [S]"
    )
    recirc_pre_so2_rise: float = _t(10, "% points", DESIGN + ": proxy when SvO2 is unknown")
    recirc_sat_fall: float = _t(3, "% points", DESIGN + ": patient saturation fall vs baseline")
    recirc_persist_min: float = _t(15, "min", DESIGN)
    # -- access_insufficiency ----------------------------------------------------------------
    access_warning: float = _t(
        -80, "mmHg", "[U] docs/clinical/reference.md §4.4 suggested tier: warn −80"
    )
    access_critical: float = _t(
        -100, "mmHg", "Robak: critical drainage pressure around −100 mmHg (§4.4) [P]"
    )
    access_drop: float = _t(20, "mmHg", DESIGN + ": fall below the circuit's own baseline")
    access_clear: float = _t(-70, "mmHg", DESIGN + ": hysteresis")
    chatter_variation: float = _t(
        0.05,
        "fraction of flow",
        "[U] docs/clinical/reference.md §4.4 flow-variability detector (median successive flow "
        "change / flow)",
    )
    access_smoothing_min: float = _t(3, "min", DESIGN)
    access_persist_min: float = _t(5, "min", DESIGN)
    access_trend_drop: float = _t(
        6,
        "mmHg",
        "[U] programme default: early warning when drainage pressure (30-min median) falls "
        "this far below its own baseline without a rise in flow (§4.4 mechanism: pre-pump "
        "pressure becomes more negative); about twice the largest fault-free excursion",
    )
    access_trend_smoothing_min: float = _t(30, "min", DESIGN + ": removes spikes and line checks")
    access_trend_flow_rise: float = _t(
        0.05, "fraction", DESIGN + ": a fall explained by a deliberate flow increase is silent"
    )
    access_trend_persist_min: float = _t(15, "min", DESIGN + ": the fall must persist this long")
    # -- circuit_thrombosis ------------------------------------------------------------------
    ddimer_malfunction: float = _t(25, "mg/L FEU", LUBNOW + ": D-dimers >25–30 mg/L")
    fibrinogen_min: float = _t(2.0, "g/L", LUBNOW + ": fibrinogen <200 mg/dL")
    platelets_min: float = _t(50, "10^9/L", LUBNOW + " and ASH protocol: >50/nL (§5.3)")
    platelet_fall: float = _t(0.30, "fraction", "[U] Lubnow 'continuous or rapid decrease'")
    platelet_window_h: float = _t(48, "h", DESIGN + ": the fall is judged over this window")
    thrombosis_lab_max_age_h: float = _t(48, "h", DESIGN)
    # -- anticoagulation_out_of_range --------------------------------------------------------
    anti_xa_low: float = _t(0.3, "IU/mL", "ELSO/common practice 0.3–0.7; ASH 0.3–0.5 (§5.1) [S]")
    anti_xa_high: float = _t(0.7, "IU/mL", "ELSO/common practice 0.3–0.7; ASH hold >0.7 (§5.1) [S]")
    anticoag_critical_factor: float = _t(
        0.5, "fraction of range bound", DESIGN + ": critical beyond high×1.5 or low×0.5"
    )
    # -- differential_hypoxia ----------------------------------------------------------------
    dh_upper_sat: float = _t(90, "%", "[U] (§3.7 case: right arm 82% vs left hand 99%)")
    dh_upper_sat_critical: float = _t(85, "%", DESIGN)
    dh_return_so2_min: float = _t(95, "%", DESIGN + ": return limb 'fully saturated'")
    dh_right_radial_po2: float = _t(60, "mmHg", DESIGN)
    dh_persist_min: float = _t(10, "min", DESIGN)
    dh_trend_drop: float = _t(
        5,
        "% points",
        "[U] programme default: early warning when right-hand SpO2 (15-min median) falls this "
        "far below its own baseline (sign: §3.7 right-hand vs lower-limb divergence [S])",
    )
    dh_trend_gap: float = _t(
        5,
        "% points",
        "[U] programme default: right-hand SpO2 this far below the other SpO2 site "
        "(sign: §3.7 Everything ECMO right vs left/femoral SpO2, case 82% vs 99% [S])",
    )
    dh_trend_smoothing_min: float = _t(15, "min", DESIGN)
    dh_trend_persist_min: float = _t(30, "min", DESIGN + ": the divergence must persist")
    # -- flow_below_target -------------------------------------------------------------------
    flow_tolerance: float = _t(0.10, "fraction of goal", DESIGN)
    flow_critical_fraction: float = _t(0.80, "fraction of goal", DESIGN)
    flow_smoothing_min: float = _t(10, "min", DESIGN)
    flow_persist_min: float = _t(30, "min", DESIGN + ": brief intentional changes do not alert")
    # -- impella_flow_low (docs/clinical/mcs.md §3) -------------------------------------------
    impella_flow_tolerance: float = _t(
        0.10,
        "fraction of the lower bound",
        DESIGN + ": warning below the P-level's expected range by more than this "
        "(ranges: Impella IFU P-level table, docs/clinical/reference.md §8.4 [S])",
    )
    impella_flow_critical_fraction: float = _t(
        0.50,
        "fraction of the lower bound",
        DESIGN + ": critical below half the lower bound ('Impella flow reduced', suction, "
        "position wrong; §8.4 [S] names the alarms, not a number)",
    )
    impella_min_p_level: float = _t(
        2,
        "P-level",
        "Impella IFU: run at P-2 or higher; P-0 stops the motor, P-1 is not a working level "
        "(docs/clinical/reference.md §8.4) [S]",
    )
    impella_smoothing_min: float = _t(5, "min", DESIGN + ": rolling median window")
    impella_persist_min: float = _t(10, "min", DESIGN + ": low flow must persist this long")
    # -- impella_purge_pressure --------------------------------------------------------------
    purge_pressure_low: float = _t(
        300,
        "mmHg",
        "Impella purge operating window 300–1,100 mmHg (docs/clinical/reference.md §8.4) [S]",
    )
    purge_pressure_high: float = _t(
        1100,
        "mmHg",
        "Impella IFU: purge pressure > 1,100 mmHg → 'Purge Flow Low' "
        "(docs/clinical/reference.md §8.4) [S]",
    )
    purge_max_age_min: float = _t(
        90, "min", DESIGN + ": an hourly charted purge pressure stands this long"
    )
    purge_persist_min: float = _t(10, "min", DESIGN + ": outside the window this long")
    purge_critical_min: float = _t(
        60, "min", DESIGN + ": outside the window this long → critical (purge blocked risk)"
    )
    # -- lv_unloading_context ----------------------------------------------------------------
    lv_pulse_pressure_low: float = _t(
        10,
        "mmHg",
        "[U] programme default: arterial pulse pressure below this on VA-ECMO suggests the "
        "aortic valve is not opening (docs/clinical/mcs.md §4)",
    )
    lv_smoothing_min: float = _t(15, "min", DESIGN + ": rolling median window")
    lv_persist_min: float = _t(30, "min", DESIGN + ": low pulse pressure must persist")

    def with_overrides(self, overrides: Mapping[str, Any]) -> SurveillanceSettings:
        """A copy with some thresholds replaced; unknown names or non-numbers are refused."""
        known = {f.name for f in dataclasses.fields(self)}
        problems = [
            FieldProblem(k, f"unknown surveillance setting '{k}'", v)
            for k, v in overrides.items()
            if k not in known
        ]
        problems += [
            FieldProblem(k, f"{k} must be a finite number", v)
            for k, v in overrides.items()
            if k in known and not _is_number(v)
        ]
        if problems:
            raise ValidationFailed(problems)
        return dataclasses.replace(self, **{k: float(v) for k, v in overrides.items()})

    def threshold(self, name: str) -> dict[str, Any]:
        """One threshold as evidence: name, value, unit and source citation."""
        meta = next(f.metadata for f in dataclasses.fields(self) if f.name == name)
        return {
            "name": name,
            "value": getattr(self, name),
            "unit": meta["unit"],
            "source": meta["source"],
        }

    def describe(self) -> list[dict[str, Any]]:
        """Every threshold with its value, unit and source (for a settings page)."""
        return [self.threshold(f.name) for f in dataclasses.fields(self)]


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


DEFAULT_SETTINGS = SurveillanceSettings()
