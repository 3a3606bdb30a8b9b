"""Form and API shapes for the integration page."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class MappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    identifier: Text
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    note: Annotated[str | None, Field(default=None, max_length=500)] = None
    active: bool = True


class AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    console_id: Text
    run_id: int


class UnitAliasIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spelling: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
    note: Annotated[str | None, Field(default=None, max_length=500)] = None
    active: bool = True


# --- response shapes ----------------------------------------------------------------------


class OutcomeIssue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    severity: Literal["fatal", "error", "warning", "information"]
    code: str = Field(description="FHIR issue type, e.g. invalid, code-invalid, informational")
    diagnostics: str = Field(description="what was stored, or what was refused and why")


class OperationOutcome(BaseModel):
    """The FHIR R4 OperationOutcome the Bundle endpoint answers (application/fhir+json):
    information and warnings when stored (200), errors when refused (422)."""

    model_config = ConfigDict(extra="forbid")

    resourceType: Literal["OperationOutcome"]
    issue: list[OutcomeIssue]
