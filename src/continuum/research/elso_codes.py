"""The code lists of the ELSO-shaped run record: versioned lookup tables from our own closed
lists to registry values. Pure data: no database, no web.

ELSO's own data definitions (field list, mandatory fields, XML tags) are member-only; what is
public is summarised in docs/registry.md. So every list here names its version and its
provenance ([P] primary, [S] secondary, [U] our reading), and a value of ours with no entry
maps to ``None``: the record reports it as "no ELSO code", it never guesses one.
Complication codes come from the quality taxonomy (``quality.taxonomy.EventCode.elso``).
"""

from __future__ import annotations

from dataclasses import dataclass

CODE_LISTS_VERSION = "continuum-elso-shape-1"


@dataclass(frozen=True)
class CodeList:
    name: str
    version: str
    provenance: str
    entries: dict[str, str | None]  # our value → registry value (None: no registry code)

    def lookup(self, value: str | None) -> str | None:
        if value is None:
            return None
        return self.entries.get(value.strip().lower() if self.folded else value)

    @property
    def folded(self) -> bool:
        return self.name == "cannula_site"


SUPPORT_TYPE = CodeList(
    "support_type",
    "elso-support-1",
    "[S] support types of an ELSO-aligned registry: pulmonary, cardiac, ECPR",
    {"pulmonary": "Pulmonary", "cardiac": "Cardiac", "ecpr": "ECPR"},
)
MODE = CodeList(
    "mode",
    "elso-mode-1",
    "[S] modes of an ELSO-aligned registry (VA, VV, VVA, VAV, oxy-RVAD, VV ECCO2R); a mode "
    "with a second device (Impella, IABP) is its ECMO mode, the device an addendum [U]",
    {
        "VV": "VV",
        "VA": "VA",
        "VAV": "VAV",
        "VVA": "VVA",
        "V-PA": "oxy-RVAD",
        "VV+RVAD": "oxy-RVAD",
        "VV-ECCO2R": "VV ECCO2R",
        "VA+Impella": "VA",
        "VA+IABP": "VA",
        "VV+IABP": "VV",
    },
)
SEX = CodeList(
    "sex",
    "elso-sex-1",
    "[U] registry sex values",
    {"female": "Female", "male": "Male", "other": None, "unknown": "Unknown"},
)
DISCONTINUATION = CodeList(
    "discontinuation",
    "elso-discontinuation-1",
    "[S] discontinuation reasons of an ELSO-aligned registry; a transfer on ECLS has its own "
    "ELSO workflow, so it has no discontinuation code here",
    {
        "weaned_recovered": "Expected recovery",
        "died_on_ecmo": "Death or poor prognosis",
        "withdrawn": "Death or poor prognosis",
        "bridged_to_vad": "MCS",
        "bridged_to_transplant": "Transplantation",
        "transferred": None,
    },
)
CANNULA_PURPOSE = CodeList(
    "cannula_purpose",
    "ecls-cdm-0.2.0",
    "[P] ECLS-CDM flow direction concepts",
    {
        "drainage": "36717809 Drainage",
        "return": "36717810 Return",
        "drainage_and_return": "36717811 Drainage and return",
        "distal_perfusion": "36717812 Distinct distal perfusion",
    },
)
CANNULA_SITE = CodeList(
    "cannula_site",
    "ecls-cdm-0.2.0",
    "[P] ECLS-CDM cannula location concepts (SNOMED anatomy); our site text is matched as "
    "written, lower case",
    {
        "femoral vein": "4308414 Femoral vein",
        "internal jugular vein": "4006845 Internal jugular vein",
        "femoral artery": "4109754 Common femoral artery",
        "common femoral artery": "4109754 Common femoral artery",
        "superficial femoral artery": "4111596 Superficial femoral artery",
        "subclavian artery": "4272388 Subclavian artery",
        "axillary artery": "4239013 Axillary artery",
        "carotid artery": "4286359 Carotid artery",
        "ascending aorta": "4183988 Ascending aorta",
        "right atrium": "4242112 Atrial structure",
        "left atrium": "4242112 Atrial structure",
        "pulmonary artery": "4215757 Pulmonary artery",
        "subclavian vein": "4311330 Subclavian vein",
        "axillary vein": "4288602 Axillary vein",
        "superior vena cava": "4167648 Superior vena cava",
        "inferior vena cava": "4271699 Inferior vena cava",
        "posterior tibial artery": "4028232 Posterior tibial artery",
    },
)
# Why a membrane lung or pump was replaced: the stop reason of the one it replaced. A reason
# that is a mechanical complication takes that ELSO complication code (since 2022 replacement
# reasons may not contradict the run's complications); the others their ECLS-CDM stop reason.
REPLACEMENT_REASON = CodeList(
    "replacement_reason",
    "elso-replacement-1",
    "[S] ELSO mechanical complication codes (101 oxygenator failure, 103 tubing rupture, 104 "
    "pump failure, 116 clots in a circuit component, 121 air) and [P] ECLS-CDM stop reasons",
    {
        "oxygenator_failure": "101 Oxygenator failure",
        "rising_transmembrane_gradient": "116 Clots, circuit component",
        "thrombus": "116 Clots, circuit component",
        "air": "121 Air in circuit",
        "rupture": "103 Other tubing rupture",
        "device_malfunction": "104 Pump failure",
        "end_of_product_life": "36717877 End of product life-cycle",
        "treatment_changed": "40483850 Treatment changed",
        "protocol": "44790553 Following protocol",
        "haemolysis": None,
        "end_of_run": None,
        "other": None,
    },
)
DISCHARGE_LOCATION = CodeList(
    "discharge_location",
    "elso-discharge-1",
    "[S] discharge locations of an ELSO-aligned registry",
    {
        "home": "Home",
        "other_hospital": "Other hospital",
        "long_term_care_or_rehab": "Long-term care or rehab",
        "hospice": "Hospice",
        "unknown": "Unknown",
    },
)
ADDED_REPLACED = CodeList(
    "added_replaced",
    "elso-equipment-1",
    "[S] equipment rows carry 'added/replaced' (an ELSO-fed datamart)",
    {"initial": "Initial", "added": "Added", "replaced": "Replaced"},
)
YES_NO = CodeList("yes_no", "elso-yes-no-1", "[U]", {"yes": "Yes", "no": "No"})

CODE_LISTS: dict[str, CodeList] = {
    c.name: c
    for c in (
        SUPPORT_TYPE,
        MODE,
        SEX,
        DISCONTINUATION,
        CANNULA_PURPOSE,
        CANNULA_SITE,
        REPLACEMENT_REASON,
        DISCHARGE_LOCATION,
        ADDED_REPLACED,
        YES_NO,
    )
}


def allowed_values(name: str) -> tuple[str, ...]:
    """The registry values a reviewer may choose for a coded field (distinct, in order)."""
    values = [v for v in CODE_LISTS[name].entries.values() if v is not None]
    return tuple(dict.fromkeys(values))
