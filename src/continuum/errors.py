"""One error hierarchy for the whole application.

Each error has an HTTP status, a stable name and a message a clinician can read.
The web layer maps them to responses once; the CLI prints the message and exits 2
(validation / usage) or 1 (anything else).  Pure packages (physiology, scores,
simulator, surveillance) raise these too: they import nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError

ECHO_CHARS = 200  # the most of a given value an error repeats back
MESSAGE_CHARS = 1000


def clip(value: Any, limit: int = ECHO_CHARS) -> Any:
    """A value as an error may echo it: long text cut to its first ``limit`` characters
    followed by "…" (a 20 MB field is never sent back); other values unchanged."""
    if isinstance(value, bytes | bytearray):
        value = bytes(value[: limit + 1]).decode("utf-8", "replace")
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "…"
    return value


@dataclass
class FieldProblem:
    """One problem with one input field: which field, what value, what is allowed."""

    field: str
    message: str
    value: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": clip(self.field),
            "message": clip(self.message, MESSAGE_CHARS),
            "value": clip(self.value),
        }


class ContinuumError(Exception):
    status_code = 500
    name = "error"
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.name, "message": self.message}


class ValidationFailed(ContinuumError):
    """Bad input: names each field, the value given and what is allowed."""

    status_code = 422
    name = "validation_failed"
    exit_code = 2

    def __init__(self, problems: list[FieldProblem] | str, field_name: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [FieldProblem(field_name or "input", problems)]
        self.problems: list[FieldProblem] = problems
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data["fields"] = [p.as_dict() for p in self.problems]
        return data


class NotFound(ContinuumError):
    status_code = 404
    name = "not_found"


class Forbidden(ContinuumError):
    status_code = 403
    name = "forbidden"


class NotAuthenticated(ContinuumError):
    status_code = 401
    name = "not_authenticated"


class Conflict(ContinuumError):
    status_code = 409
    name = "conflict"


@dataclass
class ProblemCollector:
    """Collects field problems and raises them together, so a form shows every mistake."""

    problems: list[FieldProblem] = field(default_factory=list)

    def add(self, field_name: str, message: str, value: Any = None) -> None:
        self.problems.append(FieldProblem(field_name, message, value))

    def raise_if_any(self) -> None:
        if self.problems:
            raise ValidationFailed(self.problems)


def validation_failed(exc: ValidationError) -> ValidationFailed:
    """A pydantic ValidationError as field-level problems (same shape for web, API and CLI)."""
    problems = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"] if x != "body") or "input"
        msg = err["msg"].removeprefix("Value error, ")
        problems.append(FieldProblem(loc, msg, err.get("input")))
    return ValidationFailed(problems)
