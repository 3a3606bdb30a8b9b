"""The package layering, checked on the source (ast over src/continuum, every import,
function-level and TYPE_CHECKING ones included):

- pure packages (calculation, detection, simulation, vocabulary) import no database or web
  code and nothing of core or the domains;
- a domain (alerts, ingest, initiation, rounds, weaning) does not import another domain:
  they meet through core's hooks (continuum.domains.HOOK_MODULES);
- the programme layers (quality, research) read across the domains: they may import a
  domain's record modules (its ORM models and closed lists: ``READABLE``), never a domain's
  services or routes; research may also read quality's record modules
  (``READABLE_BY_RESEARCH``) but not its services or routes; no domain imports a programme
  layer;
- core does not import web or any domain; core's route modules (core/*_routes.py) are the
  routes ring: they, and a domain's route modules (routes.py, api.py, *_routes.py), are the
  only modules of core and the domains that may use the web layer (continuum.web, FastAPI);
- the web layer's shared helpers (continuum.web) import no domain (the app factory finds
  them through continuum.domains, by name);
- the command line (cli.py, commands/) imports no web code, and no module imports another
  package's private (underscored) names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "continuum"
PURE = (
    "physiology", "scores", "simulator", "surveillance", "vocabulary", "calculators",
    "display_names", "local_time", "control_charts", "forecast",
    # pure modules inside the quality layer: the adverse-event taxonomy, the M&M closed lists
    "quality/taxonomy", "quality/review_factors",
    "quality/participation_map_calc", "quality/participation_map_chart",
)  # fmt: skip
DOMAINS = (
    "alerts", "ingest", "initiation", "rounds", "weaning", "ambulation", "transport", "mcs",
    "training",
)  # fmt: skip
PROGRAMME = ("quality", "research")
# What a programme layer may read of a domain: its tables and closed lists.
READABLE = (
    "continuum.alerts.models", "continuum.rounds.models", "continuum.rounds.transfusion",
    "continuum.weaning.models", "continuum.initiation.models", "continuum.ingest.models",
    "continuum.alerts.exchange_record",
)  # fmt: skip
# Research also reads quality's record modules (the adverse-event register is part of a run's
# registry record), never quality's services or routes.
READABLE_BY_RESEARCH = (
    "continuum.quality.adverse_event_record", "continuum.quality.review_record",
    "continuum.quality.audit_record", "continuum.quality.adverse_event_screen",
    "continuum.quality.taxonomy",
)  # fmt: skip
# Quality's participation map reads research's record modules (studies, publications and their
# authors, registry submissions: the map's "registry and research" step); they import neither
# layer, so no cycle. Never research's services or routes.
READABLE_BY_QUALITY = ("continuum.research.study_record", "continuum.research.registry_record")
DB_AND_WEB = ("sqlalchemy", "alembic", "psycopg", "fastapi", "starlette", "jinja2", "uvicorn")
APP_LAYERS = ("continuum.db", "continuum.web", "continuum.core", "continuum.app")
ROUTES_RING = ("*_routes.py", "routes.py", "api.py")  # core/*_routes.py; a domain's routes
WEB = ("continuum.web", "fastapi", "starlette")


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names; relative imports resolved)."""
    tree = ast.parse(path.read_text(), str(path))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                found.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def files_of(top: str) -> list[Path]:
    single = SRC / f"{top}.py"
    return [single] if single.is_file() else sorted((SRC / top).rglob("*.py"))


def breaks(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module_name(path)} imports {name}"
        for path in files
        for name in imports_of(path)
        if under(name, forbidden)
    )


@pytest.mark.parametrize("top", PURE)
def test_pure_package_imports_no_database_web_core_or_domain(top: str) -> None:
    forbidden = (*DB_AND_WEB, *APP_LAYERS, *(f"continuum.{d}" for d in DOMAINS))
    assert breaks(files_of(top), forbidden) == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_domain_does_not_import_another_domain(domain: str) -> None:
    others = tuple(f"continuum.{d}" for d in DOMAINS if d != domain)
    assert breaks(files_of(domain), others) == []


@pytest.mark.parametrize("layer", PROGRAMME)
def test_programme_layer_reads_domains_only_through_their_records(layer: str) -> None:
    domains = tuple(f"continuum.{d}" for d in DOMAINS)
    readable = READABLE
    if layer == "research":  # research also reads quality's records (the layer above it)
        domains += ("continuum.quality",)
        readable += READABLE_BY_RESEARCH
    found = [b for b in breaks(files_of(layer), domains) if not any(
        b.endswith(f" imports {r}") or f" imports {r}." in b for r in readable
    )]  # fmt: skip
    assert found == []


def test_no_domain_imports_a_programme_layer() -> None:
    layers = tuple(f"continuum.{p}" for p in PROGRAMME)
    assert breaks([p for d in DOMAINS for p in files_of(d)], layers) == []
    assert breaks(files_of("core"), layers) == []
    found = breaks(files_of("quality"), ("continuum.research",))
    assert [b for b in found if not any(
        b.endswith(f" imports {r}") or f" imports {r}." in b for r in READABLE_BY_QUALITY
    )] == []  # fmt: skip


@pytest.mark.parametrize("module", READABLE_BY_QUALITY)
def test_research_records_quality_reads_import_neither_programme_layer(module: str) -> None:
    path = SRC / (module.removeprefix("continuum.").replace(".", "/") + ".py")
    assert breaks([path], tuple(f"continuum.{p}" for p in PROGRAMME)) == []


@pytest.mark.parametrize("layer", PROGRAMME)
def test_only_a_programme_layers_route_modules_use_the_web_layer(layer: str) -> None:
    outside = [p for p in files_of(layer) if not in_ring(p)]
    assert breaks(outside, (*WEB, "continuum.app")) == []


def in_ring(path: Path) -> bool:
    return any(path.match(pattern) for pattern in ROUTES_RING)


def test_core_imports_neither_web_nor_domains_outside_its_routes_ring() -> None:
    core = files_of("core")
    ring = [p for p in core if in_ring(p)]
    assert {p.name for p in ring} >= {"api_routes.py", "page_routes.py"}  # the ring exists
    domains = tuple(f"continuum.{d}" for d in DOMAINS)
    outside = [p for p in core if p not in ring]
    assert breaks(outside, (*WEB, "continuum.app", *domains)) == []
    assert breaks(ring, ("continuum.app", *domains)) == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_only_a_domains_route_modules_use_the_web_layer(domain: str) -> None:
    outside = [p for p in files_of(domain) if not in_ring(p)]
    assert breaks(outside, (*WEB, "continuum.app")) == []


def module_level_imports(path: Path) -> set[str]:
    """Imports run when the module loads (not those inside functions)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_command_line_imports_no_web_code() -> None:
    """No web helpers at all; the app (serve, demo) and the database only inside the
    commands that need them, so loading the command line stays light."""
    files = [SRC / "cli.py", *sorted((SRC / "commands").glob("*.py"))]
    assert breaks(files, ("continuum.web", "fastapi", "starlette", "jinja2", "plotly")) == []
    heavy = (*WEB, "continuum.app", "continuum.db", "continuum.core", "sqlalchemy", "numpy")
    loaded = sorted(
        f"{module_name(p)} imports {name}"
        for p in files
        for name in module_level_imports(p)
        if under(name, heavy)
    )
    assert loaded == []


def top_package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_module_imports_another_packages_private_names() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        here = top_package(module_name(path))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                private = [
                    a.name
                    for a in node.names
                    if a.name.startswith("_") and not a.name.endswith("__")
                ]
                if private and top_package(node.module) != here:
                    found.append(f"{module_name(path)} imports {node.module}.{private}")
    assert found == []


def test_web_helpers_import_no_domain() -> None:
    domains = tuple(f"continuum.{d}" for d in DOMAINS)
    assert breaks(files_of("web"), domains) == []


def test_the_checker_sees_imports() -> None:
    """Guards the checker: known imports of known modules are found (relative ones too)."""
    assert "continuum.web.deps" in imports_of(SRC / "core" / "api_routes.py")
    assert "continuum.core.run_view" in imports_of(SRC / "alerts" / "hooks.py")
    assert "continuum.web.pages.render" in imports_of(SRC / "core" / "page_routes.py")
    assert in_ring(SRC / "rounds" / "routes.py") and not in_ring(SRC / "rounds" / "forms.py")
    assert under("continuum.web.pages", ("continuum.web",))
    assert not under("continuum.webhook", ("continuum.web",))
