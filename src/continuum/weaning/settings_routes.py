"""The former weaning thresholds page: now the programme's settings page for weaning."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from continuum.core.roles import Permission as P
from continuum.web.deps import get_actor, require
from continuum.web.pages import redirect

router = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])


@router.get("/weaning/settings", dependencies=[require(P.VIEW_CLINICAL)])
def settings_page() -> Response:
    return redirect("/settings/weaning")
