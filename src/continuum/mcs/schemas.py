"""API and form shapes of the mechanical-circulatory-support record (separate from the
models). Values are checked in the service against the vocabulary's ranges, so a refusal
names the measurement clinically with its allowed range."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field

from continuum.core.schemas import Out, Reason, RecordId, Strict, UtcTime, not_future
from continuum.mcs.models import CHECK_KINDS, KINDS, METHODS, RESULTS, SIDES

Kind = Literal[KINDS]  # type: ignore[valid-type]
Side = Literal[SIDES]  # type: ignore[valid-type]
CheckKind = Literal[CHECK_KINDS]  # type: ignore[valid-type]
Method = Literal[METHODS]  # type: ignore[valid-type]
Result = Literal[RESULTS]  # type: ignore[valid-type]
Past = Annotated[AwareDatetime, AfterValidator(not_future)]
Note = Annotated[str | None, Field(default=None, max_length=2000)]


class DeviceIn(Strict):
    kind: Kind = Field(description="iabp, impella, temporary_vad or durable_vad")
    model: Annotated[str, Field(min_length=1, max_length=60)] = Field(
        description="Impella: 2.5, CP, 5.0, 5.5 or RP; others: make and model, e.g. "
        "'Cardiosave', 'CentriMag', 'HeartMate 3'"
    )
    side: Side | None = Field(
        default=None,
        description="ventricle supported: required for a temporary VAD; an Impella RP is "
        "right, other Impellas, IABPs and durable VADs left",
    )
    site: Annotated[str | None, Field(default=None, max_length=80)] = Field(
        default=None, description="access, e.g. 'right femoral artery', 'right axillary graft'"
    )
    inserted_at: Past = Field(description="insertion / implant time")


class DeviceChangeIn(Strict):
    """A new version of the device in force: a correction, or its removal."""

    follows_id: RecordId = Field(description="the version in force (its id)")
    reason: Reason
    model: Annotated[str | None, Field(default=None, min_length=1, max_length=60)] = None
    side: Side | None = None
    site: Annotated[str | None, Field(default=None, max_length=80)] = None
    inserted_at: Past | None = None
    removed_at: Past | None = Field(default=None, description="removal / explant time")
    removal_reason: Annotated[str | None, Field(default=None, max_length=2000)] = None


class ReadingIn(Strict):
    """One moment's device readings; only the fields of the device's kind are accepted."""

    at: Past
    p_level: float | None = Field(default=None, description="Impella P-level 0–9")
    flow: float | None = Field(default=None, description="Impella or VAD flow, L/min")
    purge_pressure: float | None = Field(default=None, description="Impella purge, mmHg")
    purge_flow: float | None = Field(default=None, description="Impella purge flow, mL/h")
    ratio: str | None = Field(default=None, description="IABP assist ratio: 1:1, 1:2 or 1:3")
    augmentation: float | None = Field(
        default=None, description="IABP augmented diastolic pressure, mmHg"
    )
    speed: float | None = Field(default=None, description="VAD pump speed, rpm")
    power: float | None = Field(default=None, description="VAD power, W")
    pulsatility_index: float | None = Field(default=None, description="VAD pulsatility index")


class CheckIn(Strict):
    kind: CheckKind = Field(description="position (any device) or timing (IABP)")
    at: Past
    method: Method
    result: Result
    note: Note = None
    corrects_id: RecordId | None = None
    reason: Annotated[str | None, Field(default=None, min_length=3, max_length=2000)] = None


class DeviceOut(Out):
    id: int = Field(description="this version's id")
    device_id: int = Field(description="the device's number (its first version's id)")
    run_id: int
    kind: Kind
    kind_label: str
    model: str
    name: str
    side: Side
    group: str = Field(description="CLIF mcs_group: iabp, impella_lvad, temporary_lvad, …")
    site: str | None
    inserted_at: UtcTime
    removed_at: UtcTime | None
    removal_reason: str | None
    in_place: bool
    follows_id: int | None
    reason: str | None
    recorded_by: int | None
    recorded_at: UtcTime


class ConfigurationOut(Out):
    run_mode: str = Field(description="the run's recorded mode")
    combined_mode: str | None = Field(
        description="the vocabulary mode of the run's mode with this device (support_"
        "configuration), e.g. VA+Impella (ECPELLA); null where none exists"
    )
    name: str | None
    family: str | None
    note: str
    recorded_as_combined: bool = Field(description="the run's mode already names the device")


class CheckOut(Out):
    id: int
    device_id: int
    kind: CheckKind
    at: UtcTime
    method: Method
    result: Result
    result_label: str
    note: str | None
    corrects_id: int | None
    reason: str | None
    corrected: bool = Field(description="a later check corrects this one")
    recorded_by: int | None
    recorded_at: UtcTime


class ReadingOut(Out):
    at: UtcTime
    values: dict[str, float] = Field(description="vocabulary code → value in its unit")
    expected_low: float | None = Field(description="Impella: expected flow at the P-level, L/min")
    expected_high: float | None
    below_expected: bool | None


class LevelRangeOut(Out):
    p_level: int
    low: float
    high: float
    rpm: int | None


class DeviceView(Out):
    device: DeviceOut
    configuration: ConfigurationOut
    versions: list[DeviceOut] = Field(description="every version, newest first")
    checks: list[CheckOut] = Field(description="newest first")
    readings: list[ReadingOut] = Field(description="newest first, at most 200 moments")
    expected_table: list[LevelRangeOut] | None = Field(description="Impella: flow per P-level")
    table_source: str | None
    codes: dict[str, str] = Field(description="reading field → vocabulary code for this kind")


class RunDevicesOut(Out):
    run_id: int
    run_mode: str
    devices: list[DeviceOut] = Field(description="each device's version in force")


__all__ = [
    "CheckIn",
    "CheckOut",
    "ConfigurationOut",
    "DeviceChangeIn",
    "DeviceIn",
    "DeviceOut",
    "DeviceView",
    "ReadingIn",
    "ReadingOut",
    "RunDevicesOut",
    "datetime",
]
