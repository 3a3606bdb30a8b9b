"""Which ECMO mode the physiology points to, with every rule that fired and why.

Pure: no database or web imports. The team may choose differently; the decision record
then asks for the reason. Sources are docs/clinical/reference.md §1.10 and §2.2 (tags as printed
there).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from continuum import support_configuration

# Modes returning ECMO blood to a systemic artery (support_configuration: arterial_return).
VA_FAMILY = support_configuration.modes_where("arterial_return")


@dataclass(frozen=True)
class Physiology:
    """What the team has found. Unknown is False: a rule only fires on what is entered."""

    respiratory_failure: bool = False
    adequate_cardiac_function: bool = False
    cardiogenic_shock: bool = False
    cardiac_arrest: bool = False
    rv_failure: bool = False
    lv_distension: bool = False
    native_cardiac_recovery: bool = False
    differential_hypoxaemia: bool = False
    current_mode: str | None = None  # the mode already running, if any
    femoral_return: bool = False
    prefer_iabp: bool = False  # the team's unloading device of choice


@dataclass(frozen=True)
class RuleFired:
    rule: str
    suggests: str
    reasoning: str
    source: str


@dataclass(frozen=True)
class Recommendation:
    mode: str | None
    fired: tuple[RuleFired, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        return self.mode or "no recommendation (no physiology entered that a rule reads)"


SRC_VV = (
    "ELSO 2021 adult VV guideline (Tonna, ASAIO J 2021) Table 1 [P]; "
    "docs/clinical/reference.md §1.10"
)
SRC_VA = "VA indications (Chung 2014 [S]; StatPearls [S]); docs/clinical/reference.md §1.10"
SRC_ECPR = (
    "ELSO ECPR interim guideline (Richardson, ASAIO J 2021) [P]; docs/clinical/reference.md §1.10"
)
SRC_UNLOAD = "LV distension on peripheral VA → unloading (Columbia review PMC6531683) [P]; §2.2"
SRC_VAV = (
    "VAV for differential hypoxaemia on femoral VA [U]; physiology §3.7; "
    "docs/clinical/reference.md §2.2"
)
SRC_VVA = "VVA: VV patient developing cardiac failure [U]; docs/clinical/reference.md §2.2"
SRC_VPA = (
    "V-PA / RVAD-oxygenator for RV failure ± respiratory failure [S]; "
    "docs/clinical/reference.md §2.2"
)


def _base(p: Physiology) -> list[RuleFired]:
    if p.cardiac_arrest:
        why = "Cardiac arrest without sustained ROSC needs full circulatory support: VA (ECPR)."
        return [RuleFired("ecpr", "VA", why, SRC_ECPR)]
    if p.cardiogenic_shock:
        why = "Cardiogenic shock: the circuit must carry the circulation, so return is arterial."
        return [RuleFired("cardiogenic_shock", "VA", why, SRC_VA)]
    if p.rv_failure:
        why = "Right-ventricular failure with a working left heart: return to the pulmonary artery."
        return [RuleFired("rv_failure", "V-PA", why, SRC_VPA)]
    if _on_arterial_return(p.current_mode):
        return []  # already on arterial return: only the hybrid rules below apply
    if p.respiratory_failure and p.adequate_cardiac_function:
        why = "Isolated respiratory failure with adequate cardiac function: gas exchange only."
        return [RuleFired("isolated_respiratory", "VV", why, SRC_VV)]
    if p.respiratory_failure:
        why = (
            "Respiratory failure; cardiac function not confirmed adequate — VV, "
            "but assess the heart (echo) before cannulation."
        )
        return [RuleFired("respiratory_heart_unknown", "VV", why, SRC_VV)]
    return []


def _hybrid(p: Physiology, base: str | None) -> list[RuleFired]:
    if _on_respiratory_vv(p.current_mode) and (p.cardiogenic_shock or p.cardiac_arrest):
        why = (
            "On VV and the heart now fails: add an arterial return (VVA) rather than re-cannulate."
        )
        return [RuleFired("vv_cardiac_failure", "VVA", why, SRC_VVA)]
    on_va = base == "VA" or _on_arterial_return(p.current_mode)
    if (
        on_va
        and p.femoral_return
        and p.native_cardiac_recovery
        and (p.respiratory_failure or p.differential_hypoxaemia)
    ):
        why = (
            "Native heart recovering with poor lungs on femoral VA: the upper body gets "
            "deoxygenated native output; add an arterialised return to the right atrium (VAV)."
        )
        return [RuleFired("differential_hypoxaemia", "VAV", why, SRC_VAV)]
    if on_va and p.lv_distension:
        device = "VA+IABP" if p.prefer_iabp else "VA+Impella"
        choice = "the team prefers IABP" if p.prefer_iabp else "Impella; IABP is the alternative"
        why = (
            "Peripheral VA raises LV afterload; LV distension (closed aortic valve, pulmonary "
            f"oedema, LV thrombus) needs unloading — {choice}."
        )
        return [RuleFired("lv_distension", device, why, SRC_UNLOAD)]
    return []


def recommend(p: Physiology) -> Recommendation:
    """The recommended mode: the base rule, refined by a hybrid rule when one fires."""
    base = _base(p)
    base_mode = base[0].suggests if base else None
    hybrid = _hybrid(p, base_mode)
    fired = tuple(base + hybrid)
    mode = hybrid[-1].suggests if hybrid else base_mode
    return Recommendation(mode, fired)


def base_of(mode: str) -> str:
    """The flow-target family of a mode: "VA" (cardiac index) when the ECMO pump carries
    the circulation (arterial or pulmonary-artery return), else "VV" (by weight)."""
    return support_configuration.of(mode).flow_target


def _on_arterial_return(mode: str | None) -> bool:
    found = support_configuration.find(mode)
    return found is not None and found.arterial_return


def _on_respiratory_vv(mode: str | None) -> bool:
    """Running a venovenous circuit for the lungs (VV, VV + IABP)."""
    found = support_configuration.find(mode)
    return found is not None and found.family == "respiratory"
