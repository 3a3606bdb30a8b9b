"""Cannula pressure–flow fits: ΔP (mmHg) = a·Q² + b·Q, Q in L/min (docs/clinical/reference.md §2.7).

Digitised manufacturer curves by N. Mark (repo nickmmark/ecmo-calculations, R² >0.99) [S].
Each entry: id -> (label, French size, (return a, b), (drainage a, b)).
A programme adds its own cannulae by passing extra entries to ``cannula_check``.

Every cannula of this catalogue is a dual-lumen, single-site cannula (``DEVICE_TYPES``):
it drains and returns through one vessel, so it is planned as "drainage and return" at one
upper-body site (usually the right internal jugular vein), never as femoral drainage
(docs/clinical/reference.md §8.5). Bicaval cannulae (Crescent, Avalon) drain both venae
cavae and return to the right atrium (VV); RA–PA cannulae (ProTek Duo, Quantum) drain the
right atrium and return to the pulmonary artery (V-PA, oxy-RVAD).
"""

from __future__ import annotations

from dataclasses import dataclass

Fit = tuple[float, float]

CATALOGUE_SOURCE = (
    "Manufacturer ΔP–Q curves digitised by N. Mark, nickmmark/ecmo-calculations "
    "(docs/clinical/reference.md §2.7) [S]"
)

CANNULAE: dict[str, tuple[str, float, Fit, Fit]] = {
    "crescent_24": ("Medtronic Crescent 24 Fr", 24, (18.65, 6.7335), (-4.0878, -4.4519)),
    "crescent_26": ("Medtronic Crescent 26 Fr", 26, (11.215, 6.0422), (-2.6488, -3.7688)),
    "crescent_28": ("Medtronic Crescent 28 Fr", 28, (7.9396, 5.5664), (-1.9888, -2.4497)),
    "crescent_30": ("Medtronic Crescent 30 Fr", 30, (5.6205, 3.5476), (-1.058, -4.1433)),
    "crescent_32": ("Medtronic Crescent 32 Fr", 32, (4.3856, 1.5097), (-1.4009, -0.4532)),
    "quantum_24": ("Spectrum Quantum 24 Fr", 24, (26.82, 27.243), (-4.6793, -12.719)),
    "quantum_27": ("Spectrum Quantum 27 Fr", 27, (13.568, 12.411), (-3.4414, -7.1491)),
    "quantum_31": ("Spectrum Quantum 31 Fr", 31, (7.6486, 5.1713), (-1.954, -2.7028)),
    "avalon_20": ("Getinge Avalon 20 Fr", 20, (68.756, 2.2718), (-17.187, -11.117)),
    "avalon_23": ("Getinge Avalon 23 Fr", 23, (27.066, 1.7003), (-7.7468, -8.4351)),
    "avalon_27": ("Getinge Avalon 27 Fr", 27, (10.984, 5.3044), (-3.4861, -2.3871)),
    "avalon_31": ("Getinge Avalon 31 Fr", 31, (6.3107, 0.8747), (-2.0684, 0.6194)),
    "protek_duo_29": ("LivaNova ProTek Duo 29 Fr", 29, (14.909, 1.7309), (-2.4682, -2.1438)),
    "protek_duo_31": ("LivaNova ProTek Duo 31 Fr", 31, (6.9807, 1.9931), (-1.8139, -4.5159)),
}


@dataclass(frozen=True)
class DeviceType:
    """What kind of device a catalogue cannula is, and where it may go."""

    key: str
    label: str
    roles: tuple[str, ...]  # the plan roles it may take
    sites: tuple[str, ...]  # words one of which the planned site must contain
    usual_site: str
    drains: str
    returns: str
    return_site: str  # a support_configuration Site: the mode must return there
    short: str = ""  # how the plan's cannula list names it


BICAVAL = DeviceType(
    "dual_lumen_bicaval",
    "dual-lumen bicaval (single site)",
    ("drainage_and_return",),
    ("jugular", "ij", "subclavian"),
    "right internal jugular vein",
    "superior and inferior vena cava",
    "right atrium, towards the tricuspid valve",
    "vein",
    "dual-lumen, drainage + return, right IJ",
)
RA_PA = DeviceType(
    "dual_lumen_ra_pa",
    "dual-lumen RA→PA (single site)",
    ("drainage_and_return",),
    ("jugular", "ij"),
    "right internal jugular vein",
    "right atrium",
    "pulmonary artery",
    "pulmonary_artery",
    "dual-lumen RA→PA, right IJ",
)
DEVICE_TYPES: dict[str, DeviceType] = {
    "crescent": BICAVAL,
    "avalon": BICAVAL,
    "protek_duo": RA_PA,
    "quantum": RA_PA,
}


def device_type(cannula_id: str) -> DeviceType | None:
    """The device type of a catalogue cannula (by its family, the id before the size);
    None for a cannula the catalogue does not type (e.g. a programme's own entry)."""
    family = cannula_id.rsplit("_", 1)[0]
    return DEVICE_TYPES.get(family) if cannula_id in CANNULAE else None


def _site_fits(site: str, allowed: tuple[str, ...]) -> bool:
    low = site.lower()
    tokens = set(low.replace("-", " ").replace(",", " ").replace("/", " ").split())
    return any((w in tokens) if len(w) <= 3 else (w in low) for w in allowed)


def placement_problems(cannula_id: str, role: str, site: str) -> list[str]:
    """Why a planned role or site does not fit a catalogue cannula (empty: it fits)."""
    device = device_type(cannula_id)
    if device is None:
        return []
    label = CANNULAE[cannula_id][0]
    out = []
    if role not in device.roles:
        out.append(
            f"{label} is a {device.label} cannula: it drains the {device.drains} and returns "
            f"to the {device.returns} through one vessel, so its role is drainage and "
            f"return, not {role.replace('_', ' ')}"
        )
    if not _site_fits(site, device.sites):
        out.append(
            f"{label} is placed at one upper-body site, usually the {device.usual_site}, "
            f"not '{site}'"
        )
    return out
