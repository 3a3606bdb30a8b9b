"""Support configuration: what each ECMO mode of the vocabulary is, and which rules follow.

The one home for "is this VV or VA?". Every module that needs to know whether a run has an
arterial return, whether recirculation or differential hypoxia can happen, which
surveillance detectors apply, which weaning protocol family is used, how the flow target is
set or which outcome scores describe the run asks :func:`of` (or :func:`of_run`) here.

The clinician-readable specification is ``docs/clinical/support-configurations.md``; a test
checks this table against every row of it. Pure: no database or web imports.

Nomenclature (Broman LM et al., "The ELSO Maastricht Treaty for ECLS nomenclature",
ASAIO J 2019;65:e1-e2): the letters before the return site(s) name the drainage cannulae,
the rest the return cannulae, so VVA is two venous drainage cannulae with an arterial
return (V V-A) and VAV is venous drainage with an arterial and a venous return (V-A V).
A device after "+" is not part of the ECMO circuit and returns no ECMO blood.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from continuum.errors import ValidationFailed

Family = Literal["respiratory", "circulatory", "hybrid", "right_ventricular", "co2_removal"]
Site = Literal["vein", "artery", "pulmonary_artery"]
WeaningFamily = Literal["VV", "VA"]

FAMILY_LABELS: dict[str, str] = {
    "respiratory": "respiratory (venovenous)",
    "circulatory": "circulatory (venoarterial)",
    "hybrid": "hybrid (venoarterial + venovenous)",
    "right_ventricular": "right-ventricular support",
    "co2_removal": "CO2 removal",
}
SITE_LABELS: dict[str, str] = {
    "vein": "vein (vena cava / right atrium)",
    "artery": "systemic artery (femoral, axillary or aorta)",
    "pulmonary_artery": "pulmonary artery",
}

# Surveillance detectors (contracts §3). The circuit detectors watch the pump, the membrane
# lung, the blood and the anticoagulation: they apply to every configuration.
CIRCUIT_DETECTORS: tuple[str, ...] = (
    "oxygenator_dysfunction",
    "transmembrane_gradient_rise",
    "pump_thrombosis",
    "hemolysis",
    "access_insufficiency",
    "circuit_thrombosis",
    "anticoagulation_out_of_range",
    "flow_below_target",
)
RECIRCULATION = "recirculation"
DIFFERENTIAL_HYPOXIA = "differential_hypoxia"
# Mechanical circulatory support devices beside the circuit (docs/clinical/mcs.md): the
# Impella detectors judge a device's own readings wherever they arrive (any mode: an
# Impella RP can sit beside VV); the LV-unloading context is shown where the ECMO return is
# arterial (retrograde aortic flow raises LV afterload).
DEVICE_DETECTORS: tuple[str, ...] = ("impella_flow_low", "impella_purge_pressure")
LV_UNLOADING = "lv_unloading_context"
ALL_DETECTORS: tuple[str, ...] = (
    *CIRCUIT_DETECTORS,
    RECIRCULATION,
    DIFFERENTIAL_HYPOXIA,
    *DEVICE_DETECTORS,
    LV_UNLOADING,
)

RESPIRATORY_SCORES = ("RESP", "PRESERVE")
CARDIAC_SCORES = ("SAVE",)

SRC_NOMENCLATURE = "Broman LM et al., ELSO Maastricht Treaty nomenclature, ASAIO J 2019"
SRC_RECIRCULATION = "Abrams D, Brodie D et al., ELSO guideline 2015; Xie A et al., J Crit Care 2016"
SRC_DH = "Winiszewski H et al., Crit Care 2022 (North–South / Harlequin syndrome)"
SRC_SCORES = (
    "RESP: Schmidt M, Am J Respir Crit Care Med 2014; PRESERVE: Schmidt M, Intensive Care "
    "Med 2013; SAVE: Schmidt M, Eur Heart J 2015"
)
SRC_CLIF = "CLIF ECMO/MCS configuration categories (v_p = Oxy-RVAD; temporary_rvad excludes it)"


@dataclass(frozen=True)
class SupportConfiguration:
    """One mode: where blood is drained from and returned to, and what therefore applies."""

    mode: str
    name: str
    family: Family
    drainage: tuple[Site, ...]
    returns: tuple[Site, ...]
    weaning: WeaningFamily  # the weaning protocol family (weaning/protocols.py)
    scores: tuple[str, ...]  # outcome scores whose derivation cohort this run belongs to
    device: str | None = None  # an adjunct device outside the ECMO circuit
    note: str = ""

    @property
    def arterial_return(self) -> bool:
        """ECMO blood returns to a systemic artery: the circuit carries the circulation, and
        native output meets it in the aorta (differential hypoxia)."""
        return "artery" in self.returns

    @property
    def venous_return(self) -> bool:
        """ECMO blood returns to the systemic veins / right atrium, near a drainage cannula."""
        return "vein" in self.returns

    @property
    def pulmonary_artery_return(self) -> bool:
        return "pulmonary_artery" in self.returns

    @property
    def supports_circulation(self) -> bool:
        """The ECMO pump itself carries (part of) the circulation: an arterial or a
        pulmonary-artery return. An adjunct device (IABP, separate RVAD) does not count."""
        return self.arterial_return or self.pulmonary_artery_return

    @property
    def recirculation_applies(self) -> bool:
        """Returned oxygenated blood can be drawn straight back into a drainage cannula only
        when it is returned to the venous side (ELSO 2015 recirculation)."""
        return self.venous_return

    @property
    def differential_hypoxia_applies(self) -> bool:
        """North–South hypoxia needs an arterial return meeting native cardiac output."""
        return self.arterial_return

    @property
    def detectors(self) -> tuple[str, ...]:
        """The surveillance detectors that apply, in the engine's order."""
        return tuple(d for d in ALL_DETECTORS if self.applies(d))

    def applies(self, detector: str) -> bool:
        if detector == RECIRCULATION:
            return self.recirculation_applies
        if detector == DIFFERENTIAL_HYPOXIA:
            return self.differential_hypoxia_applies
        if detector == LV_UNLOADING:
            return self.lv_unloading_applies
        return detector in CIRCUIT_DETECTORS or detector in DEVICE_DETECTORS

    @property
    def lv_unloading_applies(self) -> bool:
        """Retrograde arterial ECMO flow raises LV afterload: whether the LV is unloaded is
        a question wherever the return is arterial (docs/clinical/mcs.md §4)."""
        return self.arterial_return

    @property
    def unloading_device(self) -> bool:
        """The mode itself names a left-ventricular unloading device (Impella, IABP)."""
        return self.device in ("Impella", "IABP")

    @property
    def flow_target(self) -> WeaningFamily:
        """How the blood-flow target is set: "VV" by weight (60–80 mL/kg/min) for gas
        exchange, "VA" by cardiac index × BSA when the pump carries the circulation."""
        return "VA" if self.supports_circulation else "VV"

    @property
    def family_label(self) -> str:
        return FAMILY_LABELS[self.family]


_V: tuple[Site, ...] = ("vein",)
_VV: tuple[Site, ...] = ("vein", "vein")
_A: tuple[Site, ...] = ("artery",)
_AV: tuple[Site, ...] = ("artery", "vein")
_PA: tuple[Site, ...] = ("pulmonary_artery",)

_S = SupportConfiguration
CONFIGURATIONS: dict[str, SupportConfiguration] = {
    c.mode: c
    for c in (
        _S("VV", "veno-venous", "respiratory", _V, _V, "VV", RESPIRATORY_SCORES),
        _S("VA", "veno-arterial", "circulatory", _V, _A, "VA", CARDIAC_SCORES),
        _S(
            "VAV",
            "veno-arterio-venous",
            "hybrid",
            _V,
            _AV,
            "VA",
            CARDIAC_SCORES,
            note="An arterialised venous return is added to femoral VA for differential "
            "hypoxaemia: both recirculation (venous limb) and differential hypoxia (arterial "
            "limb) apply. The arterial limb is weaned first (flow-reduction protocol).",
        ),
        _S(
            "VVA",
            "veno-veno-arterial",
            "circulatory",
            _VV,
            _A,
            "VA",
            CARDIAC_SCORES,
            note="Two venous drainage cannulae, one arterial return (V V-A): physiologically "
            "venoarterial. No venous return, so no recirculation.",
        ),
        _S(
            "V-PA",
            "veno-pulmonary-arterial (oxy-RVAD)",
            "right_ventricular",
            _V,
            _PA,
            "VA",
            (),
            note="Drains the right atrium and returns to the pulmonary artery, bypassing the "
            "right ventricle (e.g. ProTek Duo). The return is downstream of the right heart, "
            "so it is not drawn back into the drainage cannula: recirculation does not apply. "
            "No systemic arterial return, so no differential hypoxia. The pump carries the "
            "right-sided output: weaned by flow reduction with echo (RV-specific criteria "
            "such as TAPSE and RV size are not yet in the protocol). No outcome score was "
            "derived in this configuration.",
        ),
        _S(
            "VA+Impella",
            "veno-arterial with Impella (ECPELLA)",
            "circulatory",
            _V,
            _A,
            "VA",
            CARDIAC_SCORES,
            device="Impella",
            note="The Impella unloads the left ventricle into the aorta; it returns no ECMO "
            "blood. Its output is native-lung blood, so differential hypoxia still applies.",
        ),
        _S(
            "VA+IABP",
            "veno-arterial with intra-aortic balloon pump",
            "circulatory",
            _V,
            _A,
            "VA",
            CARDIAC_SCORES,
            device="IABP",
            note="The balloon unloads the left ventricle; it moves no blood of the circuit.",
        ),
        _S(
            "VV+IABP",
            "veno-venous with intra-aortic balloon pump",
            "respiratory",
            _V,
            _V,
            "VV",
            RESPIRATORY_SCORES,
            device="IABP",
            note="The IABP is not an ECMO return: the circuit is venovenous, recirculation "
            "applies and differential hypoxia does not.",
        ),
        _S(
            "VV-ECCO2R",
            "veno-venous extracorporeal CO2 removal",
            "co2_removal",
            _V,
            _V,
            "VV",
            (),
            note="Low-flow venovenous CO2 removal: venous return, so recirculation applies; "
            "weaned by sweep reduction. RESP and PRESERVE were derived in ECMO for severe "
            "respiratory failure, not in ECCO2R.",
        ),
        _S(
            "VV+RVAD",
            "veno-venous with a separate right-ventricular assist device",
            "right_ventricular",
            _V,
            _V,
            "VV",
            (),
            device="RVAD",
            note="A VV circuit plus a separate temporary RVAD (e.g. Impella RP, CentriMag RA→PA); "
            "the RVAD returns no ECMO blood. The ECMO return is venous: recirculation applies, "
            "differential hypoxia does not; the circuit is weaned as VV and the RVAD by its "
            "own device protocol. No outcome score was derived with RV assist. An RVAD with "
            "an oxygenator in its circuit (oxy-RVAD) is V-PA.",
        ),
    )
}
MODES: tuple[str, ...] = tuple(CONFIGURATIONS)

# Other spellings of a vocabulary mode (score calculators accept "ECCO2R").
ALIASES: dict[str, str] = {"ECCO2R": "VV-ECCO2R", "OXY-RVAD": "V-PA", "VPA": "V-PA"}
_BY_KEY: dict[str, str] = {m.upper(): m for m in MODES} | ALIASES

# The mode assumed when a run's mode is not recorded, by support type.
DEFAULT_MODE_FOR_SUPPORT: dict[str, str] = {"pulmonary": "VV", "cardiac": "VA", "ecpr": "VA"}


def find(mode: str | None) -> SupportConfiguration | None:
    """The configuration of a mode (any letter case, or an alias), or None if unknown."""
    if mode is None:
        return None
    key = _BY_KEY.get(mode.strip().upper())
    return None if key is None else CONFIGURATIONS[key]


def of(mode: str) -> SupportConfiguration:
    """The configuration of a vocabulary mode; an unknown mode is refused naming the list."""
    found = find(mode)
    if found is None:
        raise ValidationFailed(f"unknown mode '{mode}'; allowed: {', '.join(MODES)}", "mode")
    return found


def of_run(mode: str | None, support_type: str | None = None) -> SupportConfiguration:
    """A run's configuration: its current mode, or (mode not recorded) the usual mode of its
    support type (pulmonary → VV; cardiac, ECPR → VA)."""
    if mode is not None:
        return of(mode)
    return CONFIGURATIONS[DEFAULT_MODE_FOR_SUPPORT.get(support_type or "", "VV")]


def canonical(mode: str) -> str:
    """The vocabulary spelling of a mode (``va+impella`` → ``VA+Impella``)."""
    return of(mode).mode


def modes_where(predicate_name: str) -> tuple[str, ...]:
    """The modes for which a boolean property holds, e.g. ``modes_where("arterial_return")``."""
    return tuple(m for m, c in CONFIGURATIONS.items() if getattr(c, predicate_name))


# Device groups of the mechanical-circulatory-support record (docs/clinical/mcs.md §1) →
# the adjunct device a combined mode names ("VA+Impella": ECPELLA).
DEVICE_OF_GROUP: dict[str, str] = {
    "impella_lvad": "Impella",
    "iabp": "IABP",
    "temporary_rvad": "RVAD",
}


def with_device(mode: str | None, device_group: str) -> SupportConfiguration | None:
    """The combined configuration of a base ECMO mode with an adjunct device beside the
    circuit, e.g. VA + Impella → "VA+Impella" (ECPELLA), VA + IABP, VV + IABP, VV + RVAD;
    None where the vocabulary has no such combination (e.g. VV + Impella, or any device on
    V-PA, which is itself the oxy-RVAD). A mode that already names the device stays."""
    base = find(mode)
    device = DEVICE_OF_GROUP.get(device_group)
    if base is None or device is None:
        return None
    if base.device == device:
        return base
    for c in CONFIGURATIONS.values():
        if (
            c.device == device
            and base.device is None
            and (c.drainage, c.returns) == (base.drainage, base.returns)
        ):
            return c
    return None
