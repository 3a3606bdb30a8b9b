"""The rounds board's goals and staleness as a settings group (``/settings/rounds``):
changed by the clinical leads, read by every clinician. ``board_readings`` stays free of
the database: the board hands it ``settings_service.values(session, GROUP)``."""

from __future__ import annotations

from continuum.core.roles import Permission
from continuum.core.settings_service import Setting, SettingGroup

GROUP = "rounds"
_REF = "docs/clinical/reference.md"
_PLT = f"[P] {_REF} §5.3 Platelets, fibrinogen, antithrombin, haemoglobin"
_VENT = f"[S] {_REF} §6.1 VV ECMO (protective settings)"
_STALE = "[U] board convention (no published source): how long a value stays current"

SETTINGS = SettingGroup(
    name=GROUP,
    title="Rounds board goals",
    description=(
        "The goals the rounds board judges a run's values against when the run has no "
        "target of its own (a decision's plan or a round's goals set one), and how old a "
        "value may be before the board shows it as stale. VA goals apply when the pump "
        "carries the circulation (VA, VA-ECPR, VAV …), VV goals otherwise."
    ),
    change=Permission.MANAGE_CLINICAL_SETTINGS,
    view=(Permission.VIEW_CLINICAL,),
    settings=(
        Setting("platelets_min", "Platelets at least", 50, 10, 200, "10^9/L", _PLT),
        Setting("fibrinogen_min", "Fibrinogen at least", 1.0, 0.5, 4.0, "g/L", _PLT),
        Setting("hb_min_vv", "Hb at least (VV)", 7.0, 5.0, 12.0, "g/dL", _PLT),
        Setting(
            "hb_min_va",
            "Hb at least (VA: oxygen delivery)",
            8.0,
            5.0,
            12.0,
            "g/dL",
            f"[S] {_REF} §5.3 (8 g/dL with inadequate delivery)",
        ),
        Setting(
            "lactate_max",
            "Lactate at most",
            2.0,
            1.0,
            10.0,
            "mmol/L",
            "[U] upper limit of normal (no ECMO-specific source)",
        ),
        Setting("driving_pressure_max", "Driving pressure at most", 15, 8, 30, "cmH2O", _VENT),
        Setting("vent_fio2_max", "Ventilator FiO2 at most", 0.6, 0.21, 1.0, "", _VENT),
        Setting(
            "map_min_va",
            "MAP at least (VA)",
            65,
            40,
            100,
            "mmHg",
            f"[S] {_REF} §2.3 Target blood flow (VA haemodynamic targets)",
        ),
        Setting(
            "map_max_va",
            "MAP at most (VA)",
            80,
            60,
            130,
            "mmHg",
            f"[S] {_REF} §2.3 Target blood flow (VA haemodynamic targets)",
        ),
        Setting(
            "stale_bedside_h", "Ventilator and infusion values stale after", 4, 1, 24, "h", _STALE
        ),
        Setting("stale_map_h", "MAP stale after", 2, 0.5, 12, "h", _STALE),
        Setting("stale_lactate_h", "Lactate stale after", 8, 1, 48, "h", _STALE),
        Setting("stale_labs_h", "Hb, platelets, fibrinogen stale after", 24, 4, 96, "h", _STALE),
        Setting("stale_fluids_h", "Fluid balance stale after", 30, 12, 72, "h", _STALE),
    ),
    after_save="The board uses the new goals at its next refresh.",
    order=60,
    ordered=(("map_min_va", "map_max_va"),),
)
DEFAULTS: dict[str, float] = {s.key: s.default for s in SETTINGS.settings}
