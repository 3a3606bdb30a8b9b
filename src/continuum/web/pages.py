"""Shared page helpers: one Jinja environment with one set of reading filters (times in the
programme's zone, clinical names, numbers at their precision), the navigation, form parsing
into the same schemas the API uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pydantic import BaseModel, ValidationError

from continuum import display_names
from continuum.core.roles import ROLE_LABELS, Actor, Permission, start_page
from continuum.core.vocab import DISCIPLINE_LABELS
from continuum.db import utcnow
from continuum.errors import validation_failed
from continuum.local_time import FORMAT, aware, shown, times_in, zone_name
from continuum.web.deps import csrf_token

M = TypeVar("M", bound=BaseModel)
PKG = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS = [PKG / "web" / "templates", PKG / "core" / "templates"]


def add_template_dir(path: Path) -> None:
    """Domains call this to make their templates/ folder visible."""
    if path not in TEMPLATE_DIRS:
        TEMPLATE_DIRS.append(path)
        templates.env.loader = ChoiceLoader([FileSystemLoader(str(p)) for p in TEMPLATE_DIRS])


def observed_html(obs: Any, bold: bool = False) -> Markup:
    """An observation's value as ``display_names.observed`` reads, each part unbroken and
    the stored value (when entered in another unit) muted after it, free to wrap below on a
    narrow screen: '<b>62 kPa</b> (465 mmHg)'."""
    first, stored = display_names.observation_parts(obs)
    tag = "b" if bold else "span"
    html = Markup('<{0} class="nowrap">{1}</{0}>').format(Markup(tag), first)
    if stored:
        html += Markup(' <span class="nowrap muted">({})</span>').format(stored)
    return html


def _env() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(p)) for p in TEMPLATE_DIRS]),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # One vocabulary wherever a person reads (continuum.display_names); times: ``fmt``.
    env.filters.update(
        number=display_names.number,  # {{ v|number('hb') }} → 10.1
        quantity=display_names.quantity,  # {{ v|quantity('po2') }} → 465 mmHg
        # {{ v|as_entered('po2', unit, entered_value, entered_unit) }} → 62 kPa (465 mmHg)
        as_entered=display_names.as_entered,
        observed=display_names.observed,  # {{ obs|observed }}: the same for a row
        observed_html=observed_html,  # {{ obs|observed_html }}: each part kept on one line
        field_label=display_names.field_label,  # {{ 'hb_g_dl'|field_label }} → Haemoglobin
        record_name=display_names.record_name,  # {{ 'circuit_check'|record_name(6) }}
        mrn=display_names.mrn,  # {{ identity.mrn|mrn }} → MRN 100262
        unit_shown=display_names.unit_shown,  # no dimensionless '1' after FdO2 or pH
        result_status=display_names.result_status,  # 'P' → 'preliminary (device status P)'
        discipline=lambda d: DISCIPLINE_LABELS.get(d, str(d).replace("_", " ")),
        support=display_names.support_type,  # {{ run.support_type|support }}: 'ecpr' → ECPR
    )
    return env


templates = Jinja2Templates(env=_env())


@dataclass(frozen=True)
class NavLink:
    """A link in the top navigation, shown to actors holding ``permission`` (None: everyone)."""

    label: str
    href: str
    permission: Permission | None = None
    order: int = 50


NAV_LINKS: list[NavLink] = [
    NavLink("Runs", "/runs", Permission.VIEW_CLINICAL, 10),
    NavLink("Patients", "/patients", Permission.VIEW_CLINICAL, 20),
    NavLink("Calculators", "/calculators", None, 70),
    NavLink("Users & tokens", "/admin/users", Permission.MANAGE_USERS, 80),
    NavLink("Audit log", "/admin/audit", Permission.VIEW_AUDIT, 85),
    # The API documentation is for those who build or run interfaces.
    NavLink("API", "/api/docs", Permission.MANAGE_INTEGRATION, 90),
    NavLink("API", "/api/docs", Permission.FIND_BY_MRN, 90),
]


def add_nav_link(link: NavLink) -> None:
    """Domains call this at import time to appear in the navigation."""
    if link not in NAV_LINKS:
        NAV_LINKS.append(link)


# The programme's quality, research and training pages fold into one menu of the header
# ("Quality & research"), so a clinician's header stays two rows on a tablet.
PROGRAMME_PREFIXES = ("/quality/", "/research/", "/training")
PROGRAMME_MENU = "Quality & research"


def is_programme(link: NavLink) -> bool:
    return link.href.startswith(PROGRAMME_PREFIXES)


def nav_for(actor: Actor | None) -> list[NavLink]:
    if actor is None:
        return []
    links: dict[str, NavLink] = {}  # one link per page, whichever permission opens it
    for n in NAV_LINKS:
        if n.permission is None or actor.can(n.permission):
            links.setdefault(n.href, n)
    return sorted(links.values(), key=lambda n: n.order)


def local(dt: datetime | str | None, zone: ZoneInfo, fmt: str = FORMAT) -> str:
    """A stored time (datetime or ISO text) in the programme's zone and the one format."""
    return shown(dt, zone, fmt)


def ago(dt: datetime | None, now: datetime) -> str:
    if dt is None:
        return ""
    delta = now - dt
    if delta < timedelta(minutes=1):
        return "just now"
    if delta < timedelta(hours=1):
        return f"{int(delta.total_seconds() // 60)} min ago"
    if delta < timedelta(days=2):
        return f"{delta.total_seconds() / 3600:.0f} h ago"
    return f"{delta.days} d ago"


def render(
    request: Request, name: str, actor: Actor | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    settings = request.app.state.settings
    zone = settings.zone
    base = {
        "request": request,
        "actor": actor,
        "site_name": settings.site_name,
        "csrf": csrf_token(request),
        "P": Permission,
        "role_labels": ROLE_LABELS,
        # Times carry no zone of their own: the footer names the programme's zone once,
        # and input hints say "local time" (templates write "Time ({{ tz }})").
        "tz": "local time",
        "zone_name": zone_name(zone, utcnow()),
        "fmt": lambda dt, f=FORMAT: local(dt, zone, f),
        "times_in": lambda text: times_in(text, zone),  # ISO times inside a message
        "demo": settings.demo,
        "nav": [n for n in nav_for(actor) if not is_programme(n)],
        "nav_programme": [n for n in nav_for(actor) if is_programme(n)],
        "programme_menu": PROGRAMME_MENU,
        "start": start_page(actor.role) if actor else "/login",
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def form_dict(form: Any, zone: ZoneInfo, time_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """Form fields → dict for a schema: blanks dropped, local datetime inputs made aware."""
    data: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key == "csrf_token" or value in ("", None):
            continue
        if key in time_fields and isinstance(value, str):
            data[key] = aware(value, zone, key)
        else:
            data[key] = value
    return data


def parse_form(model: type[M], data: dict[str, Any]) -> M:
    """Validate form data with the API schema; errors become field-level ValidationFailed."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_failed(exc) from None
