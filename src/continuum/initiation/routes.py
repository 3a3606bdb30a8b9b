"""Routers of the initiation domain, its navigation link and its run-page link."""

from __future__ import annotations

from pathlib import Path

from continuum.core.roles import Permission
from continuum.core.run_view import RunLink, add_run_link
from continuum.initiation import api_routes, page_routes
from continuum.web.pages import NavLink, add_nav_link, add_template_dir

add_template_dir(Path(__file__).parent / "templates")
add_nav_link(NavLink("Referrals", "/referrals", Permission.VIEW_IDENTIFIERS, 5))
add_run_link(
    RunLink("Initiation decision", "/runs/{run_id}/initiation", Permission.VIEW_IDENTIFIERS, 10)
)

routers = [page_routes.router, api_routes.router]
