"""Expected Impella flow for each P-level, per model: the one table the detector
(``impella_flow_low``), the device pages and the simulator read. Pure.

Impella 2.5: the manufacturer's P-level table as printed in the Automated Impella
Controller instructions for use (docs/clinical/reference.md §8.4, **[S]**). The other models'
tables were not retrieved: their ranges are **[U]** programme design defaults scaled to each
pump's stated maximum flow (docs/clinical/mcs.md §2), to be checked against the controller's
own instructions before a programme relies on them. A model without a table of its own is
judged against the Impella 2.5 table, the smallest pump's: a flow below that range is low
for any Impella.
"""

from __future__ import annotations

from dataclasses import dataclass

MODELS: tuple[str, ...] = ("2.5", "CP", "5.0", "5.5", "RP")
P_LEVELS: tuple[int, ...] = tuple(range(10))  # P-0 (motor stopped) … P-9 (CP, 5.5 boost)
MAX_CONTINUOUS_P_LEVEL = 8  # the recommended maximum for continuous use (IFU) [S]

SOURCE_25 = (
    "Automated Impella Controller IFU, P-level flow rates for the Impella 2.5 "
    "(docs/clinical/reference.md §8.4) [S]"
)
SOURCE_DESIGN = (
    "[U] programme design default scaled to the pump's stated maximum flow; the "
    "manufacturer's table for this model was not retrieved (docs/clinical/mcs.md §2)"
)


@dataclass(frozen=True)
class LevelRange:
    p_level: int
    low: float  # L/min
    high: float  # L/min
    rpm: int | None = None


@dataclass(frozen=True)
class ModelTable:
    model: str
    name: str
    side: str  # "left" (LV → aorta) or "right" (RA/IVC → pulmonary artery)
    max_p_level: int
    source: str
    ranges: tuple[LevelRange, ...]

    def range_at(self, p_level: int) -> LevelRange | None:
        return next((r for r in self.ranges if r.p_level == p_level), None)


def _table(rows: list[tuple[int, float, float, int | None]]) -> tuple[LevelRange, ...]:
    return tuple(LevelRange(p, lo, hi, rpm) for p, lo, hi, rpm in rows)


TABLES: dict[str, ModelTable] = {
    "2.5": ModelTable(
        "2.5",
        "Impella 2.5",
        "left",
        8,
        SOURCE_25,
        _table(
            [
                (0, 0.0, 0.0, 0),
                (1, 0.0, 1.1, 25000),
                (2, 0.8, 1.5, 35000),
                (3, 1.1, 1.7, 38000),
                (4, 1.3, 1.8, 40000),
                (5, 1.5, 1.9, 43000),
                (6, 1.7, 2.1, 45000),
                (7, 1.8, 2.2, 47000),
                (8, 2.1, 2.4, 50000),
            ]
        ),
    ),
    "CP": ModelTable(
        "CP",
        "Impella CP",
        "left",
        9,
        SOURCE_DESIGN,
        _table(
            [
                (0, 0.0, 0.0, 0),
                (1, 0.0, 1.4, None),
                (2, 1.0, 1.9, None),
                (3, 1.4, 2.2, None),
                (4, 1.7, 2.5, None),
                (5, 2.0, 2.8, None),
                (6, 2.3, 3.1, None),
                (7, 2.6, 3.4, None),
                (8, 2.9, 3.7, None),
                (9, 3.1, 4.0, None),
            ]
        ),
    ),
    "5.0": ModelTable(
        "5.0",
        "Impella 5.0",
        "left",
        9,
        SOURCE_DESIGN,
        _table(
            [
                (0, 0.0, 0.0, 0),
                (1, 0.0, 1.5, None),
                (2, 1.0, 2.2, None),
                (3, 1.6, 2.7, None),
                (4, 2.1, 3.2, None),
                (5, 2.6, 3.6, None),
                (6, 3.0, 4.0, None),
                (7, 3.4, 4.4, None),
                (8, 3.8, 4.8, None),
                (9, 4.1, 5.1, None),
            ]
        ),
    ),
    "5.5": ModelTable(
        "5.5",
        "Impella 5.5",
        "left",
        9,
        SOURCE_DESIGN,
        _table(
            [
                (0, 0.0, 0.0, 0),
                (1, 0.0, 1.6, None),
                (2, 1.1, 2.4, None),
                (3, 1.7, 3.0, None),
                (4, 2.3, 3.5, None),
                (5, 2.8, 4.0, None),
                (6, 3.3, 4.5, None),
                (7, 3.7, 4.9, None),
                (8, 4.1, 5.3, None),
                (9, 4.5, 5.7, None),
            ]
        ),
    ),
    "RP": ModelTable(
        "RP",
        "Impella RP",
        "right",
        9,
        SOURCE_DESIGN,
        _table(
            [
                (0, 0.0, 0.0, 0),
                (1, 0.0, 1.2, None),
                (2, 0.9, 1.8, None),
                (3, 1.3, 2.2, None),
                (4, 1.7, 2.6, None),
                (5, 2.1, 3.0, None),
                (6, 2.5, 3.3, None),
                (7, 2.8, 3.6, None),
                (8, 3.1, 3.9, None),
                (9, 3.3, 4.2, None),
            ]
        ),
    ),
}
FALLBACK_MODEL = "2.5"


def table_for(model: str | None) -> ModelTable:
    """The model's table; an unknown or unrecorded model is judged on the 2.5's (smallest)."""
    return TABLES.get(model or "", TABLES[FALLBACK_MODEL])


def expected(model: str | None, p_level: float) -> LevelRange | None:
    """The expected flow range at a P-level (a whole number 0–9), or None where the model
    has no such level (e.g. P-9 on the Impella 2.5)."""
    if p_level != p_level or p_level < 0:  # NaN or negative
        return None
    return table_for(model).range_at(round(p_level))


def low_bounds(model: str | None) -> list[float]:
    """Lower bound of the expected flow at P-0 … P-9 (NaN where the model has no level)."""
    t = table_for(model)
    out = []
    for p in P_LEVELS:
        r = t.range_at(p)
        out.append(float("nan") if r is None else r.low)
    return out
