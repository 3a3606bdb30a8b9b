"""Where each domain plugs in: its ORM models, its routers and its CLI commands.

A domain package adds one line to each tuple it needs. The app factory, Alembic and the
CLI read these tuples; nothing else has to change when a domain is added.
"""

from __future__ import annotations

# Modules whose import registers ORM models on the shared metadata.
MODEL_MODULES: tuple[str, ...] = (
    "continuum.core.models",
    "continuum.rounds.models",
    "continuum.ingest.models",
    "continuum.alerts.models",
    "continuum.weaning.models",
    "continuum.initiation.models",
    "continuum.rounds.transfusion",
    "continuum.quality.adverse_event_record",
    "continuum.quality.review_record",
    "continuum.quality.audit_record",
    "continuum.quality.adverse_event_screen",
    "continuum.core.hospital_outcome",
    "continuum.core.ecpr_times",
    "continuum.research.cohort_record",
    "continuum.research.registry_record",
    "continuum.research.study_record",
    "continuum.alerts.exchange_record",
    "continuum.ambulation.models",
    "continuum.transport.models",
    "continuum.mcs.models",
    "continuum.core.competencies",
    "continuum.training.models",
    # add domain model modules above this line
)

# Modules exposing `install_hooks()` (idempotent): a domain's entries in core's hook lists
# (observation_service.AFTER_STORE_HOOKS, run_view.ALERT_PROVIDERS, ...). The app factory,
# the alerts worker, the ingest listeners and the CLI install them all through
# continuum.hooks.install_all_hooks, so no entry point can forget one.
HOOK_MODULES: tuple[str, ...] = (
    "continuum.alerts.hooks",
    "continuum.weaning.hooks",
    "continuum.rounds.hooks",
    "continuum.initiation.hooks",
    "continuum.quality.hooks",
    "continuum.ambulation.hooks",
    "continuum.transport.hooks",
    "continuum.mcs.hooks",
    # add domain hook modules above this line
)

# Modules exposing `routers: list[fastapi.APIRouter]`, included in this order.
ROUTER_MODULES: tuple[str, ...] = (
    "continuum.core.page_routes",
    "continuum.core.api_routes",
    "continuum.core.settings_routes",
    "continuum.core.timeline_routes",
    "continuum.web.admin_routes",
    "continuum.web.calculator_routes",
    "continuum.rounds.routes",
    "continuum.rounds.transfusion_routes",
    "continuum.weaning.routes",
    "continuum.initiation.routes",
    "continuum.alerts.routes",
    "continuum.ingest.routes",
    "continuum.ingest.preset_routes",
    "continuum.quality.control_chart_routes",
    "continuum.quality.review_routes",
    "continuum.quality.metrics_routes",
    "continuum.quality.audit_routes",
    "continuum.quality.adverse_event_routes",
    "continuum.core.hospital_outcome_routes",
    "continuum.quality.participation_map_routes",
    "continuum.research.export_routes",
    "continuum.research.dictionary_routes",
    "continuum.research.registry_routes",
    "continuum.research.study_routes",
    "continuum.research.analysis_routes",
    "continuum.research.text_release_routes",
    "continuum.alerts.exchange_routes",
    "continuum.ambulation.routes",
    "continuum.ambulation.api_routes",
    "continuum.transport.routes",
    "continuum.mcs.routes",
    "continuum.core.competency_routes",
    "continuum.training.routes",
    "continuum.operations.routes",
    # add domain route modules above this line
)

# Modules under continuum.commands exposing `register(app: typer.Typer)`.
COMMAND_MODULES: tuple[str, ...] = (
    "calc",
    "simulate",
    "replay",
    "ingest",
    "evaluate",
    "alerts_worker",
    "quality",
    "export",
    "registry",
    "operations",
    # add command modules above this line
)

# Modules exposing `add_demo_data(db: Session, staff: dict[str, Actor], now: datetime)`,
# called by `continuum demo` after the core programme is built (one transaction each).
DEMO_MODULES: tuple[str, ...] = (
    "continuum.alerts.demo",
    "continuum.weaning.demo",
    "continuum.initiation.demo",
    "continuum.rounds.demo",
    "continuum.ingest.demo",
    # Quality: the six months of history first (ended runs with their events), then the
    # events on the live runs, then the M&M reviews that discuss events (their consensus
    # enters the events' history).
    "continuum.quality.demo_history",
    "continuum.quality.demo_events",
    "continuum.quality.demo_outcomes",
    "continuum.quality.demo_reviews",
    "continuum.research.registry_demo",
    "continuum.research.study_demo",
    "continuum.ambulation.demo",
    "continuum.transport.demo",
    "continuum.mcs.demo",
    "continuum.training.demo",
    # add demo modules above this line
)

# Modules exposing `housekeeping(db: Session) -> str`: a daily job the web app runs
# (continuum.housekeeping), e.g. pruning the ingest message log to its retention.
HOUSEKEEPING_MODULES: tuple[str, ...] = (
    "continuum.ingest.integration_service",
    "continuum.core.session_housekeeping",
    "continuum.research.export",
    "continuum.alerts.samples",
    # add housekeeping modules above this line
)

# Modules exposing `SETTINGS: continuum.core.settings_service.SettingGroup`: the settings a
# programme may change, shown on /settings/<group> and served by /api/v1/settings/<group>.
SETTINGS_MODULES: tuple[str, ...] = (
    "continuum.alerts.thresholds",
    "continuum.weaning.settings",
    "continuum.initiation.settings",
    "continuum.ingest.retention",
    "continuum.rounds.settings",
    "continuum.rounds.board_settings",
    "continuum.core.session_housekeeping",
    "continuum.quality.metrics_settings",
    "continuum.quality.adverse_event_settings",
    "continuum.quality.participation_policy",
    "continuum.research.registry_settings",
    "continuum.ambulation.settings",
    "continuum.transport.settings",
    "continuum.core.competencies",
    "continuum.training.settings",
    # add settings modules above this line
)
